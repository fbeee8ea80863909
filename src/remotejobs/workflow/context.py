"""Context variables: the default resource (``with resource:``) and the current workflow
(``with Workflow(...):``). Context variables, so threads and asyncio tasks do not see each
other's defaults."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from remotejobs.errors import ConfigurationError

if TYPE_CHECKING:
    from remotejobs.job import Job
    from remotejobs.models import JobSpec
    from remotejobs.resource import ComputeResource
    from remotejobs.workflow.conditions import Condition
    from remotejobs.workflow.engine import Workflow

__all__ = ["current_workflow", "default_resource", "pop_default", "push_default", "submit"]

_DEFAULTS: ContextVar[tuple[ComputeResource, ...]] = ContextVar("remotejobs_default_resources", default=())
_WORKFLOW: ContextVar[Workflow | None] = ContextVar("remotejobs_workflow", default=None)


def push_default(resource: ComputeResource) -> None:
    """Make ``resource`` the default in this context (``ComputeResource.__enter__``)."""
    _DEFAULTS.set((*_DEFAULTS.get(), resource))


def pop_default(resource: ComputeResource) -> None:
    """Undo the latest :func:`push_default` of ``resource`` in this context."""
    stack = list(_DEFAULTS.get())
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is resource:
            del stack[i]
            break
    _DEFAULTS.set(tuple(stack))


def default_resource() -> ComputeResource:
    """The innermost resource of a ``with resource:`` block in this context.

    :raises ConfigurationError: there is none.
    """
    stack = _DEFAULTS.get()
    if not stack:
        raise ConfigurationError("No default resource: remotejobs.submit() needs a `with resource:` block",
                                 hint="Wrap the calls in `with resource:` or call resource.submit()")
    return stack[-1]


def current_workflow() -> Workflow | None:
    """The workflow of the innermost ``with Workflow(...):`` block, or None."""
    return _WORKFLOW.get()


@contextmanager
def workflow_scope(workflow: Workflow | None) -> Iterator[None]:
    """Make ``workflow`` current (None: none) for the block."""
    token = _WORKFLOW.set(workflow)
    try:
        yield
    finally:
        _WORKFLOW.reset(token)


def submit(spec: JobSpec, after: Condition | None = None, **options: object) -> Job:
    """Submit on the default resource (see :meth:`ComputeResource.submit`)."""
    return default_resource().submit(spec, after=after, **options)
