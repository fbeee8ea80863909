"""LSF emulator: ``bsub -w`` dependency expressions (IBM bsub.1 "Dependency expressions").

Conditions ``done() ended() exit(id[, [op] code]) started()``, bare ids and ``"name"``
(= ``done``), joined by ``&&``, ``||``, ``!`` and parentheses. LSF evaluates the
expression whenever it schedules; the emulator evaluates every condition whose outcome is
already decided (its jobs finished, or started for ``started()``) at submit time, and
hands the rest to Slurm as ``--dependency`` (``afterok``/``afternotok``/``afterany``/
``after``, joined by ``,`` for && or ``?`` for ||). ``!cond`` is decided at once (LSF
would dispatch as soon as it is true, which it is while the job is undecided). What
Slurm cannot express, && and || mixed over undecided conditions, is refused as a syntax
error [emu]; ``exit(id, op code)`` on a still-running job degrades to ``afternotok``.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any

import _lsf_emu as emu

STARTED = ("RUN", "USUSP", "SSUSP", "DONE", "EXIT", "UNKWN", "ZOMBI")
SLURM_TYPE = {"done": "afterok", "exit": "afternotok", "ended": "afterany", "started": "after"}
OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
       "==": operator.eq, "!=": operator.ne}


class DepError(Exception):
    """Refused: ``str(exc)`` is the whole LSF stderr line."""


@dataclass
class Lit:
    cond: str
    target: str
    text: str
    op: str | None = None
    code: int | None = None


Node = Lit | tuple[Any, ...]  # ("and"|"or", [nodes]) or ("not", node)

_TOKEN = re.compile(r"""\s*(?:(?P<op>&&|\|\||!|\(|\))|(?P<cond>[a-z_]+)\((?P<args>[^()]*)\)|"""
                    r"""(?P<id>\d+(?:\[\d+\])?)|"(?P<qname>[^"]*)"|'(?P<sname>[^']*)')""")


def _tokens(expr: str) -> list[tuple[str, object]]:
    pos, out = 0, []
    expr = expr.rstrip()
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if not match or match.end() == pos:
            # zjma/openlava lsbatch/lib/lsb.err.c (6)
            raise DepError(f"{expr}: Dependency condition syntax error. Job not submitted.")
        pos = match.end()
        if match.group("op"):
            out.append(("op", match.group("op")))
        elif match.group("cond"):
            out.append(("lit", _literal(match.group("cond"), match.group("args"), match.group(0).strip(), expr)))
        else:
            target = match.group("id") or match.group("qname") or match.group("sname") or ""
            out.append(("lit", Lit("done", target, match.group(0).strip())))
    return out


def _literal(cond: str, args: str, text: str, expr: str) -> Lit:
    # zjma/openlava lsbatch/lib/lsb.err.c (6)
    bad = DepError(f"{text}: Dependency condition syntax error. Job not submitted.")
    if cond not in SLURM_TYPE:
        raise bad
    parts = [p.strip() for p in args.split(",")]
    target = parts[0].strip("\"'")
    if not target:
        raise bad
    if cond == "exit" and len(parts) == 2:
        match = re.fullmatch(r"(>=|<=|==|!=|>|<)?\s*(\d+)", parts[1])
        if not match:
            raise bad
        return Lit(cond, target, text, match.group(1) or "==", int(match.group(2)))
    if len(parts) != 1:
        raise bad
    return Lit(cond, target, text)


def parse(expr: str) -> Node:
    tokens = _tokens(expr)
    pos = 0
    # zjma/openlava lsbatch/lib/lsb.err.c (6)
    error = DepError(f"{expr}: Dependency condition syntax error. Job not submitted.")

    def term() -> Node:
        nonlocal pos
        if pos >= len(tokens):
            raise error
        kind, value = tokens[pos]
        pos += 1
        if kind == "lit":
            return value  # type: ignore[return-value]
        if value == "!":
            return ("not", term())
        if value == "(":
            node = sequence()
            if pos >= len(tokens) or tokens[pos] != ("op", ")"):
                raise error
            pos += 1
            return node
        raise error

    def chain(op: str, kind: str, sub: object) -> Node:
        nonlocal pos
        nodes = [sub()]  # type: ignore[operator]
        while pos < len(tokens) and tokens[pos] == ("op", op):
            pos += 1
            nodes.append(sub())  # type: ignore[operator]
        return nodes[0] if len(nodes) == 1 else (kind, nodes)

    def conjunction() -> Node:
        return chain("&&", "and", term)

    def sequence() -> Node:  # && binds tighter than ||, as in C (assumed: README)
        return chain("||", "or", conjunction)

    node = sequence()
    if pos != len(tokens):
        raise error
    return node


def _views_of(lit: Lit, me: str) -> list[emu.View]:
    ref = emu.parse_job_ref(lit.target)
    if ref is not None:
        job = emu.find_job(ref[0])
        found = emu.views([job], me) if job else []
        if ref[1] is not None:
            found = [v for v in found if v.idx == ref[1] and job is not None and job.is_array]
    else:
        found = [v for v in emu.views(emu.all_jobs(me), me) if v.job.rec["name"] == lit.target]
    if not found:
        raise DepError(f"{lit.text}: No matching job found. Job not submitted.")  # assumed: wording
    return found


def _decide(lit: Lit, found: list[emu.View]) -> bool | None:
    stats = [v.stat for v in found]
    if lit.cond == "done":
        return True if all(s == "DONE" for s in stats) else False if "EXIT" in stats else None
    if lit.cond == "ended":
        return True if all(s in emu.FINAL for s in stats) else None
    if lit.cond == "started":
        return True if all(s in STARTED for s in stats) else None
    if "DONE" in stats:
        return False
    if not all(s == "EXIT" for s in stats):
        return None
    if lit.op is None:
        return True
    return all(v.exit_code is not None and lit.code is not None and OPS[lit.op](v.exit_code, lit.code)
               for v in found)


def _slurm_term(lit: Lit, found: list[emu.View]) -> str:
    ids = sorted({v.ref.replace("[", "_").rstrip("]") if lit.target.endswith("]") else str(v.job.id)
                  for v in found})
    return SLURM_TYPE[lit.cond] + ":" + ":".join(ids)


def translate(expr: str, me: str) -> tuple[str | None, bool]:
    """(Slurm ``--dependency`` value or None, never_satisfied) for ``expr``.

    :raises DepError: syntax error, unknown job, or an expression Slurm cannot express.
    """
    tree = parse(expr)

    def simplify(node: Node) -> Any:  # bool, a ("term", text) or an ("and"|"or", [...]) node
        if isinstance(node, Lit):
            found = _views_of(node, me)
            decided = _decide(node, found)
            return decided if decided is not None else ("term", _slurm_term(node, found))
        if node[0] == "not":
            inner = simplify(node[1])
            return (not inner) if isinstance(inner, bool) else True
        parts = [simplify(n) for n in node[1]]
        if node[0] == "and":
            if any(p is False for p in parts):
                return False
            rest = [p for p in parts if p is not True]
            return True if not rest else rest[0] if len(rest) == 1 else ("and", rest)
        if any(p is True for p in parts):
            return True
        rest = [p for p in parts if p is not False]
        return False if not rest else rest[0] if len(rest) == 1 else ("or", rest)

    result = simplify(tree)
    if result is True:
        return None, False
    if result is False:
        return None, True

    def flat(node: Any, kind: str) -> list[str]:
        if node[0] == "term":
            return [node[1]]
        if node[0] != kind:
            # zjma/openlava lsbatch/lib/lsb.err.c (6)
            raise DepError(f"{expr}: Dependency condition syntax error. Job not submitted.")
        return [t for n in node[1] for t in flat(n, kind)]

    kind = result[0] if result[0] in ("and", "or") else "and"
    terms = flat(result, kind)
    return ("," if kind == "and" else "?").join(terms), False
