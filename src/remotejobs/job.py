"""The :class:`Job` handle that :meth:`ComputeResource.submit` returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remotejobs.models import JobInfo
    from remotejobs.resource import ComputeResource
    from remotejobs.workflow.conditions import Condition, Kind
    from remotejobs.workflow.steps import FileRef

__all__ = ["Job", "JobRef", "job_id_of"]


@dataclass(frozen=True)
class Job:
    """A submitted job: its scheduler id and the session that submitted it.

    Every method delegates to the resource, so it behaves exactly like calling the
    resource with ``job.id``.
    """

    id: str
    resource: ComputeResource[Any]

    def status(self) -> JobInfo:
        return self.resource.status(self.id)

    def wait(self, timeout: float | None = None, poll_interval: float | None = None,
             latency: float | None = None) -> JobInfo:
        """See :meth:`ComputeResource.wait` (shares the resource's poll cycles)."""
        return self.resource.wait(self.id, timeout=timeout, poll_interval=poll_interval, latency=latency)

    async def wait_async(self, timeout: float | None = None, poll_interval: float | None = None,
                         latency: float | None = None) -> JobInfo:
        """``await job.wait_async()``: :meth:`wait` on the same poller, for asyncio."""
        return await self.resource.wait_async(self.id, timeout=timeout, poll_interval=poll_interval,
                                              latency=latency)

    def cancel(self) -> None:
        self.resource.cancel(self.id)

    def download(self, local_dir: str | Path, name: str | None = None) -> list[Path]:
        return self.resource.download(self.id, local_dir, name)

    def __repr__(self) -> str:
        return f"<Job {self.id!r} on {self.resource.name!r}>"

    # -- conditions (remotejobs.workflow.conditions) --------------------------------
    @property
    def done(self) -> Condition:
        """Condition: the job completed successfully (scheduler: afterok, ``done()``)."""
        return self._atom("done")

    @property
    def ended(self) -> Condition:
        """Condition: the job reached a final state, whatever it is (afterany, ``ended()``)."""
        return self._atom("ended")

    @property
    def failed(self) -> Condition:
        """Condition: the job ended unsuccessfully: failed, cancelled or timed out
        (afternotok, ``exit()``)."""
        return self._atom("failed")

    @property
    def started(self) -> Condition:
        """Condition: the job started running (after, ``started()``)."""
        return self._atom("started")

    def file(self, name: str) -> FileRef:
        """The output file ``name`` this job will write, named before it exists: for
        :meth:`remotejobs.workflow.Workflow.copy`, or as ``str(ref)`` inside a later
        step's arguments (replaced by the file's path when that step is submitted)."""
        from remotejobs.workflow.steps import FileRef

        return FileRef(self, name)

    def _atom(self, kind: Kind) -> Condition:
        from remotejobs.workflow.conditions import Atom

        return Atom(self, kind)


#: A job handle or a bare job id.
JobRef = Job | str | int


def job_id_of(job: JobRef) -> str:
    """The id string of a handle or id, unchanged (no stripping: ``"12\\n"`` is not
    ``"12"``; the backend's id grammar refuses it)."""
    if isinstance(job, Job):
        return job.id
    return str(job)
