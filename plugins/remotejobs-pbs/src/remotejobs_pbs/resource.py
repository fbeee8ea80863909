"""The ``pbs`` backend: a :class:`BatchResource` speaking PBS Professional / OpenPBS.

Costs: a status of any number of jobs is one ``qstat -f -F json -x -t`` call (``qstat -f
-x -t`` where qstat has no ``-F``: ``resource.probes.unavailable`` then holds
``qstat-json``), plus one marker read when some finished without a conclusive exit status
or are no longer shown (a server without job history, or past ``job_history_duration``).

Two additions to :class:`BatchResource`'s status path: an array's subjobs are settled one
by one with their own exit markers (``$PBS_JOBID`` of a subjob is ``123[4].server``) before
they are aggregated into the array's status; and ids a JSON answer silently left out
(openpbs/openpbs issue #2672) are asked again with one text ``qstat``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from remotejobs.models import JobInfo
from remotejobs.scheduler.arrays import aggregate_array
from remotejobs.scheduler.batch import BatchResource
from remotejobs.transport.base import CommandResult
from remotejobs_pbs._ids import is_job_id
from remotejobs_pbs.dialect import PbsDialect
from remotejobs_pbs.settings import PbsSettings

__all__ = ["PbsResource", "PbsSettings"]


class PbsResource(BatchResource[PbsSettings, PbsDialect]):
    """PBS Professional or OpenPBS server over SSH or locally."""

    def _status_many(self, ids: Sequence[str]) -> dict[str, JobInfo]:
        valid = [i for i in ids if is_job_id(i)]  # others cannot exist: no command for them
        if not valid:
            return {}
        result = self._live(valid)
        if result is None:
            return self._settle(valid, {})
        jobs, arrays = self.dialect.status_parts(result, valid)
        again = self.dialect.unanswered(result, valid)
        if again and self.dialect.status_format == "auto":
            text = self._run(self.dialect.qstat_command(False, again))
            more_jobs, more_arrays = self.dialect.status_parts(text, again)
            jobs.update(more_jobs)
            arrays.update(more_arrays)
        infos = self._settle([i for i in valid if i not in arrays], self._mine(jobs))
        for array_id, subjobs in arrays.items():
            mine = self._mine({e.id: e for e in subjobs})
            unclear = [i for i, e in mine.items() if self.dialect.needs_marker(e)]
            if unclear:
                mine.update(self._settle(unclear, {i: mine[i] for i in unclear}))
            if mine:
                infos[array_id] = aggregate_array(array_id, list(mine.values()))
        return infos

    def _live(self, ids: Sequence[str]) -> CommandResult | None:
        """The first available live probe's answer (JSON, else text; remembered)."""
        for probe in self.dialect.status_probes():
            if probe.stage == "live" and not self.probes.is_unavailable(probe.name):
                command = probe.command(ids)
                result = self._run_probe(probe, command) if command is not None else None
                if result is not None:
                    return result
        return None

    def _download(self, job_id: str, local_dir: Path, name: str | None) -> list[Path]:
        return super()._download(self.dialect.check_id(job_id), local_dir, name)
