"""The status path of :class:`~remotejobs.scheduler.batch.BatchResource`: the dialect's
probes in order, a per-resource memory of the unavailable ones
(:attr:`BatchResource.probes <remotejobs.scheduler.batch.BatchResource>`), then the jobs'
exit markers; array elements settled one by one and aggregated.

Costs: a status of any number of jobs is one scheduler call, plus one history call and one
marker read only for ids the scheduler no longer shows. A base of BatchResource, which sets
the attributes declared here; import BatchResource, not this module.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from remotejobs.errors import SchedulerError
from remotejobs.models import JobInfo, JobState
from remotejobs.scheduler.arrays import aggregate_array
from remotejobs.scheduler.dialect import Command, SchedulerDialect
from remotejobs.scheduler.probes import ProbeMemory, StatusProbe
from remotejobs.scheduler.script import parse_markers, parse_started, read_markers_argv
from remotejobs.transport.base import CommandResult, CommandTransport

__all__ = ["BatchStatus"]

log = logging.getLogger("remotejobs.scheduler.batch")


class BatchStatus:
    """``_status_many`` and ``_jobs`` of a batch resource (see the module docstring)."""

    name: str
    dialect: SchedulerDialect[Any]
    probes: ProbeMemory
    _user: str | None
    _known: dict[str, JobInfo]
    _root: str

    if TYPE_CHECKING:  # defined by BatchResource

        @property
        def transport(self) -> CommandTransport: ...

        def _run(self, command: Command, *, idempotent: bool = True) -> CommandResult: ...

    def _status_many(self, ids: Sequence[str]) -> dict[str, JobInfo]:
        """The probes' answer; then one marker read settles the jobs no probe reported and
        the unclear ones, array elements included (:class:`ProbeAnswer.elements`); an array
        is reported as the aggregate of its settled elements."""
        infos, elements = self._probe(ids)
        members = {e.id: e for array in elements.values() for e in array}
        plain = [i for i in ids if i not in elements]
        settled = self._settle(plain + list(members), {**infos, **members})
        found = {i: settled[i] for i in plain if i in settled}
        for array_id, array in elements.items():
            if array:
                found[array_id] = aggregate_array(array_id, [settled[e.id] for e in array])
        return found

    def _probe(self, ids: Sequence[str]) -> tuple[dict[str, JobInfo], dict[str, list[JobInfo]]]:
        """The dialect's probes in order: the first available live one for all ``ids`` (the
        next live one only for the ids its answer left out), then each history one for the
        ids still missing (see scheduler/probes.py). Returns this user's infos by asked id,
        and this user's elements of each asked array whose probe gave them."""
        infos: dict[str, JobInfo] = {}
        elements: dict[str, list[JobInfo]] = {}
        live_pending = list(ids)
        for probe in self.dialect.status_probes():
            live = probe.stage == "live"
            if (live and not live_pending) or self.probes.is_unavailable(probe.name):
                continue
            asked = live_pending if live else [i for i in ids if i not in infos and i not in elements]
            command = probe.command_for(asked, self._user) if asked else None
            if command is None:
                continue
            result = self._run_probe(probe, command)
            if result is None:
                continue
            try:
                answer = probe.answer(result, asked)
            except SchedulerError:
                by_ids = probe.command(asked)
                if by_ids is None or by_ids == command:
                    raise
                # a listing of the user's jobs that cannot be read (one odd record among
                # many): ask for the ids alone, as below the bulk threshold
                log.info("%s: %s listing unreadable; asking by ids", self.name, probe.name)
                answer = probe.answer(self._run(by_ids), asked)
            infos.update(self._mine(dict(answer.jobs)))
            for array_id, array in answer.elements.items():
                elements[array_id] = list(self._mine({e.id: e for e in array}).values())
            if live:
                live_pending = [i for i in answer.unanswered if i not in infos and i not in elements]
        return infos, elements

    def _run_probe(self, probe: StatusProbe, command: Command) -> CommandResult | None:
        """Run one probe's command; None (and remembered) when the probe is unavailable."""
        result = self._run(command)
        if not probe.is_unavailable(result):
            return result
        self.probes.mark_unavailable(probe.name)
        log.info("%s: %s is unavailable here; not asked again (%s)", self.name, probe.name,
                 result.output[:200])
        return None

    def _settle(self, ids: list[str], infos: dict[str, JobInfo]) -> dict[str, JobInfo]:
        """Jobs no probe reported, or that the dialect cannot settle from their report:
        one exit-marker read, then :meth:`SchedulerDialect.settle`; no evidence, UNKNOWN
        for a job known to exist (see :meth:`_lost`)."""
        pending = [i for i in ids if i not in infos or self.dialect.needs_marker(infos[i])]
        if not pending:
            return infos
        markers, started = self._read_markers(pending)
        for job_id in pending:
            settled = self.dialect.settle(job_id, infos.get(job_id), markers.get(job_id))
            settled = settled or self._lost(job_id, started)
            if settled is not None:
                infos[job_id] = settled
        return infos

    def _mine(self, infos: dict[str, JobInfo]) -> dict[str, JobInfo]:
        """Drop jobs of other users (schedulers show everyone's jobs to a status query)."""
        user = self._user
        return {
            k: v for k, v in infos.items() if not v.owner or not user or v.owner.split("@")[0] == user
        }

    def _read_markers(self, ids: Sequence[str]) -> tuple[dict[str, str], set[str]]:
        """One command: exit markers of ``ids``, and the ids whose job started here."""
        result = self.transport.run(read_markers_argv(posixpath.join(self._root, "ids"), list(ids)))
        return parse_markers(result.stdout), parse_started(result.stdout)

    def _lost(self, job_id: str, started: set[str]) -> JobInfo | None:
        """UNKNOWN (with the reason) for a job known to exist that left no evidence of
        its end; None for an id neither this session nor the cluster knows."""
        if job_id not in self._known and job_id not in started:
            return None
        return JobInfo(
            id=job_id,
            state=JobState.UNKNOWN,
            reason="The scheduler no longer reports this job and it left no exit marker "
            + ("(it was killed before it could record one)" if job_id in started
               else "(it may have been cancelled before it started)"),
        )

    def _jobs(self) -> list[JobInfo]:
        """The first available live probe that can list; unclear jobs settled by markers."""
        user = self._user or ""
        for probe in self.dialect.status_probes():
            if (probe.stage != "live" or probe.list_command is None or probe.parse_list is None
                    or self.probes.is_unavailable(probe.name)):
                continue
            result = self._run_probe(probe, probe.list_command(user))
            if result is None:
                continue
            listed = self._mine({i.id: i for i in probe.parse_list(result, user)})
            if probe.confirm_list and listed:
                listed = self._confirmed(probe, listed)
            unclear = [i for i, info in listed.items() if self.dialect.needs_marker(info)]
            if unclear:
                listed.update(self._settle(unclear, {i: listed[i] for i in unclear}))
            return list(listed.values())
        raise SchedulerError(f"The {self.dialect.name} dialect has no available way to list jobs",
                             hint="Give a live StatusProbe a list_command")

    def _confirmed(self, probe: StatusProbe, listed: dict[str, JobInfo]) -> dict[str, JobInfo]:
        """``listed`` as the scheduler reports those ids when asked for them alone (one
        more call): records forged into a listing of every user's jobs do not survive."""
        command = probe.command(list(listed))
        if command is None:
            return {}
        confirmed = probe.parse(self._run(command), list(listed))
        return {i: info for i, info in self._mine(confirmed).items() if info.owner}

