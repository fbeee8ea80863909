"""The ``pbs`` backend: a :class:`BatchResource` speaking PBS Professional / OpenPBS.

Costs: a status of any number of jobs is one ``qstat -f -F json -x -t`` call, plus one
marker read when some finished without a conclusive exit status or are no longer shown
(a server without job history, or past ``job_history_duration``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal

from remotejobs.models import Capability, JobInfo
from remotejobs.resource import BackendSettings
from remotejobs.scheduler.arrays import aggregate_array
from remotejobs.scheduler.batch import BatchResource, BatchSettings
from remotejobs.scheduler.dialect import SchedulerDialect
from remotejobs.transport.base import CommandResult
from remotejobs_pbs._ids import is_job_id
from remotejobs_pbs._states import needs_marker, resolve
from remotejobs_pbs.dialect import PbsDialect

__all__ = ["PbsResource", "PbsSettings"]


class PbsSettings(BatchSettings):
    """Batch settings plus ``status_format``: ``auto`` asks ``qstat -f -F json`` and falls
    back to ``qstat -f`` text for good when the server's qstat has no ``-F`` (PBS Pro
    before 13); ``json`` or ``text`` force one."""

    status_format: Literal["auto", "json", "text"] = "auto"


class PbsResource(BatchResource):
    """PBS Professional or OpenPBS server over SSH or locally."""

    backend_name: ClassVar[str] = "pbs"
    settings_model: ClassVar[type[BackendSettings]] = PbsSettings
    dialect_class: ClassVar[type[SchedulerDialect]] = PbsDialect
    capabilities: ClassVar[frozenset[Capability]] = PbsDialect.capabilities
    dialect: PbsDialect

    def make_dialect(self) -> SchedulerDialect:
        assert isinstance(self.batch, PbsSettings)
        fmt = self.batch.status_format
        return PbsDialect(bin_dir=self.batch.bin_dir, status_format="text" if fmt == "text" else "json")

    def _qstat(self, ids: Sequence[str]) -> CommandResult:
        """One qstat call; in ``auto`` mode a rejected ``-F json`` switches to text once."""
        command = self.dialect.status_command(ids)
        result = self._run(command)
        assert isinstance(self.batch, PbsSettings)
        if (self.batch.status_format == "auto" and self.dialect.status_format == "json"
                and self.dialect.rejects_json(result)):
            self.dialect.status_format = "text"
            result = self._run(self.dialect.status_command(ids))
        return result

    def _status_many(self, ids: Sequence[str]) -> dict[str, JobInfo]:
        valid = [i for i in ids if is_job_id(i)]  # others cannot exist: no command for them
        if not valid:
            return {}
        jobs, arrays = self.dialect.status_parts(self._qstat(valid), valid)
        infos = self._settle([i for i in valid if i not in arrays], self._mine(jobs))
        for array_id, subjobs in arrays.items():
            mine = self._mine({e.id: e for e in subjobs})
            unclear = [i for i, e in mine.items() if needs_marker(e)]
            if unclear:
                mine.update(self._settle(unclear, {i: mine[i] for i in unclear}))
            if mine:
                infos[array_id] = aggregate_array(array_id, list(mine.values()))
        return infos

    def _settle(self, ids: list[str], infos: dict[str, JobInfo]) -> dict[str, JobInfo]:
        """Resolve finished-but-unclear and vanished jobs with one marker read."""
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
        # arrays are aggregates: their subjobs' markers are read by status(), not here
        unclear = [i for i, info in listed.items() if needs_marker(info) and "[]" not in i]
        if unclear:
            listed.update(self._settle(unclear, {i: listed[i] for i in unclear}))
        return list(listed.values())

    def _cancel(self, job_id: str) -> None:
        self.dialect.parse_cancel(self._run(self.dialect.cancel_command(job_id)), job_id)

    def _download(self, job_id: str, local_dir: Path, name: str | None) -> list[Path]:
        return super()._download(self.dialect.check_id(job_id), local_dir, name)
