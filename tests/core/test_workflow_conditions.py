"""Conditions on job handles: three-valued evaluation, simplification, combination rules."""

from __future__ import annotations

import pytest

import remotejobs
from remotejobs.job import Job
from remotejobs.models import JobState
from remotejobs.workflow.conditions import ALWAYS, Atom, Value, atom_value, decided, native_dependency, simplify

S = JobState


@pytest.mark.parametrize(("kind", "state", "started", "value"), [
    ("done", S.QUEUED, False, None), ("done", S.COMPLETED, True, True), ("done", S.FAILED, True, False),
    ("done", S.CANCELLED, False, False), ("failed", S.TIMEOUT, True, True), ("failed", S.COMPLETED, True, False),
    ("failed", S.RUNNING, True, None), ("ended", S.RUNNING, True, None), ("ended", S.CANCELLED, False, True),
    ("started", S.QUEUED, False, None), ("started", S.RUNNING, True, True), ("started", S.CANCELLED, False, False),
    ("started", S.CANCELLED, True, True), ("started", S.COMPLETED, False, True),
])
def test_atom_values(kind: str, state: JobState, started: bool, value: Value) -> None:
    assert atom_value(kind, state, started) is value


def _jobs() -> tuple[Job, Job, Job]:
    local = remotejobs.open_resource(backend="local")
    return Job("1", local), Job("2", local), Job("3", local)


def test_kleene_logic_and_simplification() -> None:
    a, b, c = _jobs()
    values: dict[tuple[str, str], Value] = {("1", "done"): True, ("2", "done"): None, ("3", "failed"): False}

    def value_of(atom: Atom) -> Value:
        return values.get((atom.job.id, atom.kind))

    assert (a.done & b.done).evaluate(value_of) is None
    assert (a.done | b.done).evaluate(value_of) is True
    assert (c.failed & b.done).evaluate(value_of) is False
    assert (~c.failed).evaluate(value_of) is True
    assert (~b.done).evaluate(value_of) is None
    rest = simplify(a.done & (b.done | c.failed), value_of)
    assert str(rest) == "2.done" and decided(rest) is None
    assert decided(simplify(a.done | b.done, value_of)) is True
    assert decided(simplify(c.failed & b.done, value_of)) is False
    assert decided(ALWAYS) is True


def test_conditions_refuse_python_boolean_operators() -> None:
    a, b, _ = _jobs()
    with pytest.raises(TypeError, match=r"& \| ~"):
        bool(a.done)
    with pytest.raises(TypeError):
        _ = a.done & True  # type: ignore[operator]
    assert [j.id for j in (a.done & b.ended | a.failed).jobs()] == ["1", "2"]


def test_no_native_dependency_without_the_capability() -> None:
    a, b, _ = _jobs()
    assert native_dependency(a.done & b.done, a.resource) is None
