"""Parser for Torque's ``qstat -f -x`` XML (torque ``src/cmds/qstat.c``;
real documents in BatchEuphoria's tests, tests/golden/real/SOURCES.md).

The document is ``<?xml version="1.0"?>`` then ``<Data><Job>...</Job>...</Data>`` on one
line; ``name.resource`` attributes are nested (``<Resource_List><walltime>``) and time
attributes are epoch seconds. Unknown ids only add stderr lines, so the stdout may hold
an empty ``<Data/>`` or nothing at all.

Two readers, one result. The fast one is a strict scanner (one regular expression
match per ``<Job>``, capturing only the attributes asked for) whose grammar is the layout
qstat prints: elements without XML attributes, at most one level of nesting, character
data of :data:`remotejobs.safexml.TEXT`. A document outside that grammar (a DTD, a
comment, a character reference, a CR, a character XML forbids ...) goes to the tree
reader (:func:`remotejobs.safexml.fromstring`, which refuses DTDs), so both give the same
jobs, or the same error, for every document (tests/test_xml_scanner.py compares them).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import compress, repeat
from operator import is_not

from remotejobs.safexml import NAME, SPACE, TEXT, UnsafeXMLError, fromstring, unescape
from remotejobs_torque._qstat_text import MALFORMED

__all__ = ["parse_xml"]

# Characters XML 1.0 cannot carry (https://www.w3.org/TR/xml/#charsets). qstat prints job
# names verbatim, so another user's name with one of them would make the whole listing
# not well-formed (every user's jobs() failing); they can only be inside text, where
# U+FFFD replaces them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PROLOG = re.compile(rf"""(?:<\?xml version=(["'])1\.0\1{SPACE}\?>)?{SPACE}<Data>{SPACE}""")
_EPILOG = re.compile(rf"</Data>{SPACE}")
_MALFORMED_JOB = "a <Job> lacks Job_Id or job_state"
_NONE = repeat(None)


def parse_xml(text: str, keep: frozenset[str] | None = None) -> list[dict[str, str]]:
    """Jobs as flat ``{"Job_Id": id, "Resource_List.walltime": ..., ...}`` dicts; with
    ``keep``, only those attributes (and ``Job_Id``, ``job_state``), which spares building
    dicts of ~40 attributes per job when a status needs a dozen.

    A ``Job`` without ``Job_Id`` or ``job_state`` is kept with a ``_malformed`` reason
    (it may be another user's; the caller decides), never failing the whole document.

    :raises ValueError: not well-formed XML, a DTD (see :mod:`remotejobs.safexml`), or a
        root other than ``Data``.
    """
    body = text.strip()
    if not body:
        return []
    if keep is not None:
        jobs = _scan(body, keep | {"Job_Id", "job_state"})
        if jobs is not None:
            return jobs
    return _tree(_NOT_XML.sub("\ufffd", body), keep)


@lru_cache(maxsize=8)
def _scanner(wanted: frozenset[str]) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """The pattern of one ``<Job>`` (groups capture the wanted attributes) and the
    attribute name of each capturing group that holds a value (in group order)."""
    keys: list[str] = []
    alternatives: list[str] = []
    generic = 0

    def other() -> str:  # any leaf element: its name is a group of its own
        nonlocal generic
        generic += 1
        keys.append("")  # the name group holds no value
        return f"<(?P<o{generic}>{NAME})>{TEXT}</(?P=o{generic})>{SPACE}"

    for name in sorted(n for n in wanted if "." not in n):
        keys.append(name)
        alternatives.append(f"<{re.escape(name)}>({TEXT})</{re.escape(name)}>{SPACE}")
    parents: dict[str, list[str]] = {}
    for name in sorted(n for n in wanted if "." in n):
        parent, _, child = name.partition(".")
        parents.setdefault(parent, []).append(child)
    for parent, children in parents.items():
        inner = []
        for child in children:
            keys.append(f"{parent}.{child}")
            inner.append(f"<{re.escape(child)}>({TEXT})</{re.escape(child)}>{SPACE}")
        inner.append(other())
        alternatives.append(f"<{re.escape(parent)}>{SPACE}(?:(?>{'|'.join(inner)}))+</{re.escape(parent)}>{SPACE}")
    alternatives.append(other())
    generic += 1
    keys.append("")  # the nested element's own name
    nested = f"<(?P<o{generic}>{NAME})>{SPACE}(?:{other()})+</(?P=o{generic})>{SPACE}"
    alternatives.append(nested)
    # Each element is one atomic group under a plain repeat, not a possessive repeat:
    # Python 3.11's re keeps, under ``*+``/``++``, a group captured by an alternative that
    # then failed (a nested ``<job_state><job_state>C</...>`` erased the state read before)
    # and may raise SystemError; atomic groups keep the matching linear all the same.
    pattern = re.compile(f"<Job>{SPACE}(?:(?>{'|'.join(alternatives)}))*</Job>{SPACE}")
    return pattern, tuple(keys)


def _scan(body: str, wanted: frozenset[str]) -> list[dict[str, str]] | None:
    """The jobs by the strict scanner; None when ``body`` is outside its grammar."""
    prolog = _PROLOG.match(body)
    if prolog is None:
        return None
    pattern, keys = _scanner(wanted)
    slots = [(index, key) for index, key in enumerate(keys, start=1) if key]
    indices = [index for index, _ in slots]
    names = [key for _, key in slots]
    match = pattern.match
    jobs: list[dict[str, str]] = []
    pos = prolog.end()
    while (found := match(body, pos)) is not None:
        values = found.group(*indices)
        present = list(map(is_not, values, _NONE))
        kept = list(map(str.strip, compress(values, present)))  # as ElementTree's text.strip()
        if "&" in "".join(kept):  # rare: entity references
            kept = list(map(unescape, kept))
        job = dict(zip(compress(names, present), kept, strict=True))
        job["_layout"] = "xml"
        if not job.get("Job_Id") or "job_state" not in job:
            job.setdefault("Job_Id", "")
            job[MALFORMED] = _MALFORMED_JOB
        jobs.append(job)
        pos = found.end()
    end = _EPILOG.match(body, pos)
    return jobs if end is not None and end.end() == len(body) else None


def _tree(body: str, keep: frozenset[str] | None) -> list[dict[str, str]]:
    """The jobs by ElementTree (any well-formed document without a DTD)."""
    try:
        root = fromstring(body)  # a DTD (entity expansion) is refused
    except UnsafeXMLError as exc:
        raise ValueError(str(exc)) from exc
    if root.tag != "Data":
        raise ValueError(f"XML root is <{root.tag}>, expected <Data>")
    jobs = []
    wanted = None if keep is None else keep | {"Job_Id", "job_state"}
    parents = None if wanted is None else {name.split(".", 1)[0] for name in wanted if "." in name}
    for element in root:
        if element.tag != "Job":
            raise ValueError(f"unexpected element <{element.tag}> in <Data>")
        job: dict[str, str] = {"_layout": "xml"}
        for attribute in element:
            tag = attribute.tag
            if len(attribute):
                if parents is not None and tag not in parents:
                    continue
                for child in attribute:
                    name = f"{tag}.{child.tag}"
                    if wanted is None or name in wanted:
                        job[name] = (child.text or "").strip()
            elif wanted is None or tag in wanted:
                job[tag] = (attribute.text or "").strip()
        if not job.get("Job_Id") or "job_state" not in job:
            job.setdefault("Job_Id", "")
            job[MALFORMED] = _MALFORMED_JOB
        jobs.append(job)
    return jobs
