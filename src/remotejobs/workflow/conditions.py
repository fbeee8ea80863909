"""Start conditions built from job handles: ``a.done & (b.failed | ~c.started)``.

A condition is a tree of :class:`Atom` (one job handle and one of ``done``, ``ended``,
``failed``, ``started``) combined with ``&``, ``|`` and ``~``. Its value is three-valued
(Kleene logic): an atom is ``True`` or ``False`` once the job's fate decides it for good and
``None`` (undecided) before:

=========  ===========================  ==================================  ============
atom       True                          False                               scheduler
=========  ===========================  ==================================  ============
done       COMPLETED                     ended any other way                 afterok
failed     FAILED, CANCELLED, TIMEOUT    COMPLETED                           afternotok
ended      in a final state              never                               afterany
started    running, or ended after it    ended without ever running          after
=========  ===========================  ==================================  ============

A step starts when its condition is ``True`` and is cancelled when it is ``False`` (it can
no longer become true). So ``~a.done`` means "a ends unsuccessfully" (the same as
``a.failed``), not "a has not finished yet"; ``~a.ended`` can never hold.

:func:`native_dependency` turns a condition on jobs of one resource into the scheduler's
own dependency (:class:`~remotejobs.models.DependencyGroup`) when the scheduler can say it.
Conditions are immutable and compare by identity; ``bool(condition)`` is an error, so
``a.done and b.done`` (Python's ``and``) cannot silently mean something else than ``&``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from remotejobs.models import Capability, Dependency, DependencyGroup, JobState

if TYPE_CHECKING:
    from remotejobs.job import Job
    from remotejobs.resource import ComputeResource

__all__ = [
    "ALWAYS", "Atom", "Condition", "Kind", "Value", "atom_value", "decided", "dump", "load", "native_dependency",
    "simplify",
]

Kind = Literal["done", "ended", "failed", "started"]
Value = bool | None
_NATIVE: dict[str, str] = {"done": "afterok", "failed": "afternotok", "ended": "afterany", "started": "after"}
_NEGATED: dict[str, Kind] = {"done": "failed", "failed": "done"}


def atom_value(kind: str, state: JobState, started: bool) -> Value:
    """The value of a ``kind`` atom for a job in ``state`` (``started``: it was seen
    running, or the scheduler reported a start time)."""
    final = state.is_final
    if kind == "done":
        return (state is JobState.COMPLETED) if final else None
    if kind == "failed":
        return (state is not JobState.COMPLETED) if final else None
    if kind == "ended":
        return True if final else None
    if started or state in (JobState.RUNNING, JobState.SUSPENDED, JobState.COMPLETED):
        return True
    return False if final else None


class Condition(ABC):
    """A start condition (see the module doc). Combine with ``&``, ``|``, ``~``."""

    def __and__(self, other: Condition) -> Condition:
        return _Junction("and", (self, _check(other)))

    def __or__(self, other: Condition) -> Condition:
        return _Junction("or", (self, _check(other)))

    def __invert__(self) -> Condition:
        return _Not(self)

    def __bool__(self) -> bool:
        raise TypeError("A condition has no truth value: combine conditions with & | ~, not and/or/not")

    @abstractmethod
    def evaluate(self, value_of: Callable[[Atom], Value]) -> Value:
        """The Kleene value, given the value of each atom."""

    @abstractmethod
    def atoms(self) -> Iterator[Atom]:
        """Every atom, in order of appearance (repeats included)."""

    def jobs(self) -> list[Job]:
        """The job handles the condition names, each once."""
        seen: dict[int, Job] = {}
        for atom in self.atoms():
            seen.setdefault(id(atom.job), atom.job)
        return list(seen.values())


def _check(other: object) -> Condition:
    if not isinstance(other, Condition):
        raise TypeError(f"Cannot combine a condition with {type(other).__name__}")
    return other


@dataclass(frozen=True, eq=False)
class Atom(Condition):
    """``job.<kind>``: one fact about one job."""

    job: Job
    kind: Kind

    def evaluate(self, value_of: Callable[[Atom], Value]) -> Value:
        return value_of(self)

    def atoms(self) -> Iterator[Atom]:
        yield self

    def __str__(self) -> str:
        name = getattr(self.job, "label", None) or self.job.id
        return f"{name}.{self.kind}"


@dataclass(frozen=True, eq=False)
class _Const(Condition):
    value: bool

    def evaluate(self, value_of: Callable[[Atom], Value]) -> Value:
        return self.value

    def atoms(self) -> Iterator[Atom]:
        return iter(())

    def __str__(self) -> str:
        return "always" if self.value else "never"


#: The condition that always holds (a step with it starts at once).
ALWAYS: Condition = _Const(True)


@dataclass(frozen=True, eq=False)
class _Not(Condition):
    inner: Condition

    def evaluate(self, value_of: Callable[[Atom], Value]) -> Value:
        value = self.inner.evaluate(value_of)
        return None if value is None else not value

    def atoms(self) -> Iterator[Atom]:
        return self.inner.atoms()

    def __str__(self) -> str:
        return f"~{_paren(self.inner)}"


@dataclass(frozen=True, eq=False)
class _Junction(Condition):
    op: Literal["and", "or"]
    parts: tuple[Condition, ...]

    def evaluate(self, value_of: Callable[[Atom], Value]) -> Value:
        values = [p.evaluate(value_of) for p in self.parts]
        decisive = self.op == "or"  # True decides an "or", False an "and"
        if decisive in values:
            return decisive
        return None if None in values else not decisive

    def atoms(self) -> Iterator[Atom]:
        for part in self.parts:
            yield from part.atoms()

    def __str__(self) -> str:
        return (" & " if self.op == "and" else " | ").join(_paren(p) for p in self.parts)


def _paren(cond: Condition) -> str:
    return f"({cond})" if isinstance(cond, _Junction) else str(cond)


def simplify(cond: Condition, value_of: Callable[[Atom], Value]) -> Condition:
    """``cond`` with every decided atom replaced by its value and constants folded away:
    the result is ``ALWAYS``, a never-true constant, or a condition on undecided atoms."""
    if isinstance(cond, Atom):
        value = value_of(cond)
        return cond if value is None else _Const(value)
    if isinstance(cond, _Not):
        inner = simplify(cond.inner, value_of)
        return _Const(not inner.value) if isinstance(inner, _Const) else _Not(inner)
    if isinstance(cond, _Junction):
        parts = [simplify(p, value_of) for p in cond.parts]
        decisive = cond.op == "or"
        if any(isinstance(p, _Const) and p.value is decisive for p in parts):
            return _Const(decisive)
        rest = [p for p in parts if not isinstance(p, _Const)]
        if not rest:
            return _Const(not decisive)
        return rest[0] if len(rest) == 1 else _Junction(cond.op, tuple(rest))
    return cond


def decided(cond: Condition) -> Value:
    """True/False for a constant (after :func:`simplify`), None otherwise."""
    return cond.value if isinstance(cond, _Const) else None


def _nnf(cond: Condition, negate: bool = False) -> Condition | None:
    """Negation pushed onto atoms (``~done`` = ``failed`` and back); None when a negated
    ``ended``/``started`` remains, which no scheduler says."""
    if isinstance(cond, Atom):
        if not negate:
            return cond
        kind = _NEGATED.get(cond.kind)
        return Atom(cond.job, kind) if kind else None
    if isinstance(cond, _Not):
        return _nnf(cond.inner, not negate)
    if isinstance(cond, _Junction):
        parts = [_nnf(p, negate) for p in cond.parts]
        if any(p is None for p in parts):
            return None
        op: Literal["and", "or"] = ("or" if cond.op == "and" else "and") if negate else cond.op
        return _Junction(op, tuple(p for p in parts if p is not None))
    return None


def _flat(cond: Condition, op: str) -> list[Atom] | None:
    if isinstance(cond, Atom):
        return [cond]
    if isinstance(cond, _Junction) and cond.op == op:
        atoms: list[Atom] = []
        for part in cond.parts:
            sub = _flat(part, op)
            if sub is None:
                return None
            atoms += sub
        return atoms
    return None


def native_dependency(cond: Condition, resource: ComputeResource) -> DependencyGroup | None:
    """The scheduler dependency saying ``cond`` on ``resource``, or None when it cannot.

    It can when every atom names a job already submitted through this same session
    (``job.resource is resource``), the resource has :attr:`Capability.DEPENDENCIES`
    (and :attr:`Capability.DEPENDENCY_ANY` for an "or"), and, with negations pushed onto
    the atoms, the condition is one atom, an "and" of atoms or an "or" of atoms, each of
    a kind in ``resource.dependency_conditions``.
    ``cond`` should be :func:`simplify`-ed first (constants are not expressible).
    """
    caps = resource.capabilities
    if Capability.DEPENDENCIES not in caps:
        return None
    normal = _nnf(cond)
    if normal is None:
        return None
    for join, op in (("all", "and"), ("any", "or")):
        atoms = _flat(normal, op)
        if atoms is None:
            continue
        if join == "any" and len(atoms) > 1 and Capability.DEPENDENCY_ANY not in caps:
            return None
        if any(a.job.resource is not resource or not _submitted(a.job) for a in atoms):
            return None
        if any(_NATIVE[a.kind] not in resource.dependency_conditions for a in atoms):
            return None  # e.g. Grid Engine's -hold_jid says only "afterany"
        clauses = tuple(Dependency(condition=_NATIVE[a.kind], job_ids=(a.job.id,)) for a in atoms)
        return DependencyGroup(clauses=clauses, join="all" if len(atoms) == 1 else join)
    return None


def _submitted(job: Job) -> bool:
    """A scheduler job with an id (workflow steps not yet submitted and transfers have none)."""
    return getattr(job, "scheduler_id", job.id) is not None


def dump(cond: Condition, name_of: Callable[[Job], object]) -> object:
    """``cond`` as JSON-able data, each job written as ``name_of(job)`` (see :func:`load`)."""
    if isinstance(cond, Atom):
        return {"atom": [name_of(cond.job), cond.kind]}
    if isinstance(cond, _Const):
        return {"const": cond.value}
    if isinstance(cond, _Not):
        return {"not": dump(cond.inner, name_of)}
    if isinstance(cond, _Junction):
        return {cond.op: [dump(p, name_of) for p in cond.parts]}
    raise TypeError(f"not a condition: {cond!r}")


def load(data: object, job_of: Callable[[object], Job]) -> Condition:
    """The condition :func:`dump` wrote, with ``job_of`` turning names back into jobs."""
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError(f"not a dumped condition: {data!r}")
    ((tag, value),) = data.items()
    if tag == "atom":
        name, kind = value
        if kind not in _NATIVE:
            raise ValueError(f"unknown condition kind {kind!r}")
        return Atom(job_of(name), kind)
    if tag == "const":
        return _Const(bool(value))
    if tag == "not":
        return _Not(load(value, job_of))
    if tag in ("and", "or"):
        return _Junction(tag, tuple(load(v, job_of) for v in value))
    raise ValueError(f"not a dumped condition: {data!r}")
