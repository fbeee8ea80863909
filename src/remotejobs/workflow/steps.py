"""Workflow steps: :class:`Step` (a job or a transfer the workflow runs when its condition
holds) and :class:`FileRef` (a file a step will produce, named before it exists)."""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from remotejobs.errors import RemoteJobsError
from remotejobs.job import Job
from remotejobs.models import JobInfo, JobSpec, JobState

if TYPE_CHECKING:
    from remotejobs.resource import ComputeResource
    from remotejobs.workflow.conditions import Condition
    from remotejobs.workflow.engine import Workflow

__all__ = ["FileRef", "Step", "WorkflowError", "file_ref_of"]


class WorkflowError(RemoteJobsError):
    """A workflow step could not do what was asked (e.g. it was never submitted)."""


_REFS: dict[str, FileRef] = {}
_COUNTER = itertools.count(1)
_REFS_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class FileRef:
    """``producer.file(name)``: the file ``name`` that ``producer`` will have written.

    Pass it to :meth:`Workflow.copy`, or put ``str(ref)`` into a later step's arguments or
    environment: it is a placeholder that the workflow replaces, when that step is
    submitted, by the file's absolute path on the producer's resource (the step then also
    waits for ``producer.done``).
    """

    producer: Job
    name: str

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or self.name in (".", ".."):
            raise ValueError(f"A file name without '/' is needed, not {self.name!r}")
        with _REFS_LOCK:
            token = f"@rjfile{next(_COUNTER)}@"
            _REFS[token] = self
        object.__setattr__(self, "token", token)

    token: str = ""

    def __str__(self) -> str:
        return self.token


def file_ref_of(text: str) -> list[FileRef]:
    """The file references whose placeholders occur in ``text``."""
    return [ref for token, ref in list(_REFS.items()) if token in text]


class Step(Job):
    """A step of a :class:`~remotejobs.workflow.Workflow`: a job, or a transfer.

    It is a :class:`~remotejobs.job.Job` handle: conditions (``step.done`` ...),
    :meth:`status`, :meth:`wait`, :meth:`cancel`, :meth:`download`. ``id`` is the
    scheduler's id; asking for it before the step was submitted runs the workflow until it
    is (and raises :class:`WorkflowError` if it never will be). ``state``, ``reason`` and
    ``result`` (a transfer's remote path) are what the workflow knows without I/O.
    """

    workflow: Workflow
    kind: str
    label: str
    key: str
    condition: Condition
    spec: JobSpec | None
    job_id: str | None
    info: JobInfo
    ever_started: bool
    held: bool
    result: str | None
    cause: Step | None
    forced: bool
    payload: dict[str, object]

    def __init__(self, workflow: Workflow, *, kind: str, resource: ComputeResource, label: str, key: str,
                 condition: Condition, spec: JobSpec | None = None, forced: bool = False,
                 payload: dict[str, object] | None = None) -> None:
        values: dict[str, object] = {
            "workflow": workflow, "kind": kind, "resource": resource, "label": label, "key": key,
            "condition": condition, "spec": spec, "job_id": None, "ever_started": False, "held": True,
            "result": None, "cause": None, "forced": forced, "payload": payload or {},
            "info": JobInfo(id=label, name=label, state=JobState.QUEUED, reason="waiting for its condition"),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _set(self, **values: object) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def id(self) -> str:
        if self.kind != "job":
            return f"{self.kind}:{self.label}"
        if self.job_id is None:
            self.workflow.run_until(lambda: self.job_id is not None or self.state.is_final)
        if self.job_id is None:
            raise WorkflowError(f"Step {self.label!r} was not submitted: {self.reason}",
                                resource=self.resource.name)
        return self.job_id

    @property
    def scheduler_id(self) -> str | None:
        """The scheduler's id once submitted; None before, and for transfers."""
        return self.job_id if self.kind == "job" else None

    @property
    def state(self) -> JobState:
        return self.info.state

    @property
    def reason(self) -> str | None:
        return self.info.reason

    @property
    def path(self) -> str:
        """A transfer's remote path (runs the workflow until the transfer is done)."""
        if not self.state.is_final:
            self.workflow.run_until(lambda: self.state.is_final)
        if self.result is None:
            raise WorkflowError(f"Step {self.label!r} produced no file: {self.reason}", resource=self.resource.name)
        return self.result

    def status(self) -> JobInfo:
        """The step's info after one poll of the workflow."""
        self.workflow.poll()
        return self.info

    def wait(self, timeout: float | None = None, poll_interval: float | None = None,
             latency: float | None = None) -> JobInfo:
        """Run the workflow until this step is final (or ``timeout`` seconds passed);
        ``latency`` caps the pause between its poll cycles."""
        if latency is not None:
            poll_interval = min(poll_interval or latency, latency)
        self.workflow.run_until(lambda: self.state.is_final, timeout=timeout, poll_interval=poll_interval)
        return self.info

    async def wait_async(self, timeout: float | None = None, poll_interval: float | None = None,
                         latency: float | None = None) -> JobInfo:
        """:meth:`wait` in a worker thread (the workflow's cycles are shared through the
        resource's poller all the same)."""
        return await asyncio.to_thread(self.wait, timeout, poll_interval, latency)

    def cancel(self) -> None:
        """Cancel the step (and, in turn, the steps that can then no longer run)."""
        self.workflow.cancel_step(self, "cancelled by the user")

    def download(self, local_dir: str | Path, name: str | None = None) -> list[Path]:
        return self.resource.download(self.id, local_dir, name)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        where = f" job {self.job_id!r}" if self.job_id else ""
        return f"<Step {self.label!r} ({self.kind}) {self.state.value}{where} on {self.resource.name!r}>"
