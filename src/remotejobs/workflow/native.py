"""Submitting a job whose condition the scheduler enforces itself.

:func:`job_values` asks each resource once for the jobs a condition names (one batched
status call per resource) and gives each atom its value; :func:`plan` partially evaluates
the condition with them and translates what is left into the scheduler's dependency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from remotejobs.job import Job
from remotejobs.models import DependencyGroup, JobInfo, JobState
from remotejobs.workflow.conditions import Atom, Condition, Value, atom_value, decided, native_dependency, simplify

__all__ = ["Plan", "info_started", "job_values", "plan"]


def info_started(info: JobInfo) -> bool:
    """True when ``info`` shows that the job ran (or runs)."""
    return info.start_time is not None or info.state in (JobState.RUNNING, JobState.SUSPENDED,
                                                         JobState.COMPLETED)


def job_values(jobs: Iterable[Job]) -> Callable[[Atom], Value]:
    """Atom values from one ``status_many`` call per resource for ``jobs`` (already
    submitted handles). A job the resource does not know counts as undecided."""
    by_resource: dict[int, list[Job]] = {}
    for job in jobs:
        by_resource.setdefault(id(job.resource), []).append(job)
    infos: dict[tuple[int, str], JobInfo] = {}
    for group in by_resource.values():
        resource = group[0].resource
        for job_id, info in resource.status_many([j.id for j in group]).items():
            infos[(id(resource), job_id)] = info

    def value_of(atom: Atom) -> Value:
        info = infos.get((id(atom.job.resource), atom.job.id))
        return None if info is None else atom_value(atom.kind, info.state, info_started(info))

    return value_of


@dataclass(frozen=True)
class Plan:
    """What to do with a conditional submission now.

    :ivar decided: True: submit without a dependency; False: never submit (the condition
        can no longer hold); None: not decided yet.
    :ivar dependency: the scheduler dependency for the undecided rest, when it can be said.
    :ivar residual: the undecided rest of the condition.
    """

    decided: Value
    dependency: DependencyGroup | None
    residual: Condition


def plan(cond: Condition, value_of: Callable[[Atom], Value], resource: object) -> Plan:
    """Partially evaluate ``cond`` and translate the rest for ``resource``."""
    from remotejobs.resource import ComputeResource

    assert isinstance(resource, ComputeResource)
    rest = simplify(cond, value_of)
    value = decided(rest)
    dependency = native_dependency(rest, resource) if value is None else None
    return Plan(value, dependency, rest)


def submit_after(resource: object, spec: object, after: Condition) -> Job:
    """Submit ``spec`` on ``resource`` once ``after`` allows, with the scheduler's own
    dependency for what is still undecided.

    :raises SubmissionError: the condition can no longer hold (names the jobs).
    :raises UnsupportedOperationError: the scheduler cannot say the condition.
    """
    from remotejobs.errors import SubmissionError, UnsupportedOperationError
    from remotejobs.models import JobSpec
    from remotejobs.resource import ComputeResource

    assert isinstance(resource, ComputeResource) and isinstance(spec, JobSpec)
    if spec.depends_on is not None:
        raise SubmissionError("Give either spec.depends_on or after=, not both",
                              resource=resource.name, hint="Express the whole condition in after=")
    decision = plan(after, job_values(after.jobs()), resource)
    if decision.decided is False:
        raise SubmissionError(f"The condition {after} can no longer hold; the job was not submitted",
                              resource=resource.name)
    if decision.decided is None:
        if decision.dependency is None:
            raise UnsupportedOperationError(
                f"{resource.name!r} cannot enforce the condition {decision.residual} itself",
                resource=resource.name, hint="Submit it inside a remotejobs Workflow")
        spec = spec.model_copy(update={"depends_on": decision.dependency})
    return resource.submit(spec)
