"""The ``torque`` backend: a :class:`BatchResource` speaking qsub/qstat/qdel.

Costs: a status of any number of jobs is one ``qstat -f -x`` (or ``qstat -f -1``) call,
plus one marker read when some of them completed without a conclusive exit status or
are no longer shown (Torque <= 4.2 forgets finished jobs at once; ``keep_completed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from remotejobs.errors import JobNotFoundError
from remotejobs.models import Capability, JobInfo
from remotejobs.resource import BackendSettings
from remotejobs.scheduler.batch import BatchResource, BatchSettings
from remotejobs.scheduler.dialect import SchedulerDialect
from remotejobs.transport.base import CommandResult
from remotejobs_torque._states import needs_marker, resolve
from remotejobs_torque.dialect import TorqueDialect

__all__ = ["TorqueResource", "TorqueSettings"]


class TorqueSettings(BatchSettings):
    """Batch settings plus ``status_format``: ``auto`` tries ``qstat -f -x`` (XML, Torque
    2.4+) once and falls back to ``qstat -f`` text for good when the server rejects
    ``-x`` (Slurm's torque wrapper); ``xml`` or ``text`` force one."""

    status_format: Literal["auto", "xml", "text"] = "auto"


class TorqueResource(BatchResource):
    """Torque batch server (or Slurm's torque wrappers) over SSH or locally."""

    backend_name: ClassVar[str] = "torque"
    settings_model: ClassVar[type[BackendSettings]] = TorqueSettings
    dialect_class: ClassVar[type[SchedulerDialect]] = TorqueDialect
    capabilities: ClassVar[frozenset[Capability]] = TorqueDialect.capabilities
    dialect: TorqueDialect

    def make_dialect(self) -> SchedulerDialect:
        assert isinstance(self.batch, TorqueSettings)
        fmt = self.batch.status_format
        return TorqueDialect(bin_dir=self.batch.bin_dir, status_format="text" if fmt == "text" else "xml")

    def _qstat(self, ids: Sequence[str]) -> CommandResult:
        """One qstat call; in ``auto`` mode a rejected ``-x`` switches to text once."""
        command = self.dialect.status_command(ids) if ids else self.dialect.jobs_command("")
        result = self._run(command)
        assert isinstance(self.batch, TorqueSettings)
        if (self.batch.status_format == "auto" and self.dialect.status_format == "xml"
                and self.dialect.rejects_xml(result)):
            self.dialect.status_format = "text"
            command = self.dialect.status_command(ids) if ids else self.dialect.jobs_command("")
            result = self._run(command)
        return result

    def _status_many(self, ids: Sequence[str]) -> dict[str, JobInfo]:
        infos = self._mine(self.dialect.parse_status(self._qstat(ids), ids))
        return self._settle(list(ids), infos)

    def _settle(self, ids: list[str], infos: dict[str, JobInfo]) -> dict[str, JobInfo]:
        """Resolve completed-but-unclear and vanished jobs with one marker read."""
        pending = [i for i in ids if i not in infos or needs_marker(infos[i])]
        if not pending:
            return infos
        markers, started = self._read_markers(pending)
        for job_id in pending:
            settled = resolve(job_id, infos.get(job_id), markers.get(job_id)) or self._lost(job_id, started)
            if settled is not None:
                infos[job_id] = settled
        return infos

    def _jobs(self) -> list[JobInfo]:
        user = self._user or ""
        listed = {i.id: i for i in self.dialect.parse_jobs(self._qstat(()), user)}
        unclear = [i for i, info in listed.items() if needs_marker(info)]
        if unclear:
            listed.update(self._settle(unclear, {i: listed[i] for i in unclear}))
        return list(listed.values())

    def _cancel(self, job_id: str) -> None:
        result = self._run(self.dialect.cancel_command(job_id))
        try:
            self.dialect.parse_cancel(result, job_id)
        except JobNotFoundError:
            # The wrapper's qdel exits 1 silently for unknown *and* finished jobs: a job
            # the server (or its exit marker) still knows had simply finished already.
            if self.dialect.cancel_is_ambiguous(result) and job_id in self._status_many([job_id]):
                return
            raise
