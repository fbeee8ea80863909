"""The scheduler-dialect extension point: what a batch scheduler's CLI says.

A dialect is pure: it builds argv lists from a :class:`~remotejobs.models.JobSpec` and
parses command output into :class:`~remotejobs.models.JobInfo`. It does no I/O and never
changes after construction (what a resource learns while running, e.g. that ``sacct`` is
unavailable, lives in the resource's :class:`~remotejobs.scheduler.probes.ProbeMemory`),
so it is tested with golden outputs, and the same dialect serves over any transport.

The status path is the resource's (:class:`~remotejobs.scheduler.BatchResource`): the
dialect declares its :meth:`~SchedulerDialect.status_probes` in order (live queue, then
history), and may settle unclear jobs with their exit markers (:meth:`~SchedulerDialect.needs_marker`,
:meth:`~SchedulerDialect.settle`).

Parsers raise :class:`~remotejobs.errors.SchedulerError` carrying the raw output when the
output cannot be understood; they never let IndexError/KeyError/ValueError escape.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Self

from typing_extensions import TypeVar

from remotejobs.models import Capability, JobInfo, JobSpec, JobState
from remotejobs.scheduler.command import Command
from remotejobs.scheduler.probes import StatusProbe
from remotejobs.scheduler.script import info_from_marker, render_script
from remotejobs.scheduler.settings import BatchSettings
from remotejobs.transport.base import CommandResult

__all__ = ["BatchSettingsT", "Command", "SchedulerDialect", "ScriptContext"]

#: The settings type a dialect is configured from (:meth:`SchedulerDialect.from_settings`).
BatchSettingsT = TypeVar("BatchSettingsT", bound=BatchSettings, default=BatchSettings)


@dataclass(frozen=True)
class ScriptContext:
    """Where a job lives on the cluster (all absolute paths).

    :ivar job_dir: the job's own directory: script, default stdout/stderr files.
    :ivar index_dir: where the script records ``<id>`` (a link to ``job_dir``) and
        ``<id>.exit`` (the exit code marker), so any process can resolve a job by id.
    :ivar workdir: the working directory of the job.
    :ivar stdout: absolute path of the job's standard output file.
    :ivar stderr: absolute path of the job's standard error file.
    :ivar user: the user submitting.
    """

    job_dir: str
    index_dir: str
    workdir: str
    stdout: str
    stderr: str
    user: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


class SchedulerDialect(ABC, Generic[BatchSettingsT]):
    """Pure functions for one scheduler's CLI. Subclasses set the class attributes.

    Generic over the settings it is configured from: ``SchedulerDialect[MySettings]``
    with a :meth:`from_settings` that reads them (the default reads ``bin_dir`` only).

    :cvar name: the dialect name (``slurm``, ``torque``, ``lsf``); the default backend name.
    :cvar job_id_expr: a shell expression that expands, inside the running job, to the id
        :meth:`parse_submit` returned (for arrays: the element's id as reported by status).
    :cvar state_map: native state word -> JobState; unknown words map to UNKNOWN.
    :cvar capabilities: what the scheduler supports (the resource adds FILE_TRANSFER).
    :cvar job_id_pattern: the scheduler's job id grammar (matched in full: plain ids,
        array elements, server suffixes). Ids are checked against it before any command,
        path or URL is built, so an id can never be read as an option (``-u alice``,
        ``--help``), a path (``../..``) or a wildcard (``0``, ``all``). The default is a
        conservative numeric grammar; dialects narrow it.
    """

    name: ClassVar[str]
    job_id_expr: ClassVar[str]
    state_map: ClassVar[Mapping[str, JobState]]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: The site fields of JobSpec (:data:`remotejobs.models.SITE_FIELDS`) this dialect
    #: maps in :meth:`directives`/:meth:`submit_command`; others are refused for it.
    spec_fields: ClassVar[frozenset[str]] = frozenset()
    #: The dependency conditions :meth:`directives` can say (with ``DEPENDENCIES``);
    #: workflows hold conditions needing others in the client.
    dependency_conditions: ClassVar[frozenset[str]] = frozenset({"afterok", "afterany", "afternotok", "after"})
    #: With the default probes: past this many ids, status asks for all of the user's
    #: jobs (:meth:`jobs_command`) and keeps the asked ones (see scheduler/probes.py).
    bulk_status_above: ClassVar[int | None] = None
    job_id_pattern: ClassVar[re.Pattern[str]] = re.compile(
        r"[1-9][0-9]{0,18}(\[[0-9]{0,18}\]|_[0-9]{1,18})?(\.[A-Za-z0-9_-]{1,63}){0,8}"
    )

    def __init__(self, bin_dir: str = "") -> None:
        self.bin_dir = bin_dir

    @classmethod
    def from_settings(cls, settings: BatchSettingsT) -> Self:
        """The dialect configured by a resource's settings (default: ``bin_dir`` only)."""
        return cls(bin_dir=settings.bin_dir)

    def cmd(self, program: str) -> str:
        """The path to run ``program`` (honours the ``bin_dir`` setting)."""
        return f"{self.bin_dir.rstrip('/')}/{program}" if self.bin_dir else program

    def valid_id(self, job_id: str) -> bool:
        """True when ``job_id`` matches :attr:`job_id_pattern` in full."""
        return self.job_id_pattern.fullmatch(job_id) is not None

    def map_state(self, native: str) -> JobState:
        """Map a native state word; unknown words give UNKNOWN (never an exception)."""
        return self.state_map.get(native.strip(), JobState.UNKNOWN)

    # -- script -------------------------------------------------------------------
    @abstractmethod
    def directives(self, spec: JobSpec, ctx: ScriptContext) -> list[str]:
        """The scheduler directive lines (``#SBATCH ...``) for ``spec``, already quoted."""

    def render_script(self, spec: JobSpec, ctx: ScriptContext) -> str:
        """The whole job script: directives, then the common body (see script.py)."""
        return render_script(spec, ctx, self.directives(spec, ctx), self.job_id_expr)

    # -- submit -------------------------------------------------------------------
    @abstractmethod
    def submit_command(self, spec: JobSpec, ctx: ScriptContext, script_path: str) -> Command:
        """The command that submits the script at ``script_path``."""

    @abstractmethod
    def parse_submit(self, result: CommandResult) -> str:
        """The job id from a submit's result; SubmissionError with the scheduler's message
        when it refused the job, SchedulerError when the output is not understood."""

    # -- status -------------------------------------------------------------------
    def status_probes(self) -> Sequence[StatusProbe]:
        """The ways to ask about jobs, in order (see :mod:`remotejobs.scheduler.probes`).

        Default: one live probe ``status`` (:meth:`status_command`, :meth:`parse_status`;
        lists with :meth:`jobs_command`, :meth:`parse_jobs`; past :attr:`bulk_status_above`
        ids, when set, asks with :meth:`jobs_command`, whose output :meth:`parse_status`
        must then read) and one history probe
        ``history`` (:meth:`history_command`, :meth:`parse_history`)."""
        return (
            StatusProbe("status", self.status_command, self.parse_status,
                        list_command=self.jobs_command, parse_list=self.parse_jobs,
                        bulk_command=(lambda user, _ids: self.jobs_command(user))
                        if self.bulk_status_above is not None else None,
                        bulk_above=self.bulk_status_above or 0),
            StatusProbe("history", self.history_command, self.parse_history, stage="history"),
        )

    def needs_marker(self, info: JobInfo) -> bool:
        """True for a reported job its report alone cannot settle (e.g. Torque's ``C``
        without an exit status): the resource reads its exit marker and calls :meth:`settle`."""
        return False

    def settle(self, job_id: str, info: JobInfo | None, marker: str | None) -> JobInfo | None:
        """Decide a job with its exit marker. ``info``: the probes' view (None: no probe
        reports the job); ``marker``: the marker's text (None: no marker). None means no
        evidence: the resource reports UNKNOWN for a job it knows, else "not found".

        Default: the marker decides (:func:`~remotejobs.scheduler.script.info_from_marker`);
        without one, the probes' view stands."""
        return info_from_marker(job_id, marker) if marker is not None else info

    @abstractmethod
    def status_command(self, ids: Sequence[str]) -> Command | None:
        """One command giving the status of all ``ids`` (whatever their number); None when
        no id is one the scheduler could know (ids are validated before any command)."""

    @abstractmethod
    def parse_status(self, result: CommandResult, ids: Sequence[str]) -> dict[str, JobInfo]:
        """Infos of the jobs the scheduler reported; ids it does not know are left out."""

    def history_command(self, ids: Sequence[str]) -> Command | None:
        """A second source for jobs the status command no longer shows (sacct, bhist), or
        None when the scheduler has none."""
        return None

    def parse_history(self, result: CommandResult, ids: Sequence[str]) -> dict[str, JobInfo]:
        """Parse :meth:`history_command` output (same contract as :meth:`parse_status`)."""
        return {}

    @abstractmethod
    def jobs_command(self, user: str) -> Command:
        """One command listing ``user``'s jobs (recently finished ones included if possible)."""

    @abstractmethod
    def parse_jobs(self, result: CommandResult, user: str) -> list[JobInfo]:
        """Parse :meth:`jobs_command` output."""

    # -- cancel -------------------------------------------------------------------
    @abstractmethod
    def cancel_command(self, job_id: str) -> Command:
        """The command that cancels ``job_id``."""

    @abstractmethod
    def parse_cancel(self, result: CommandResult, job_id: str) -> None:
        """Return when the job was cancelled or had already finished; JobNotFoundError
        when the scheduler does not know it; SchedulerError otherwise."""

    def cancel_not_found_may_be_finished(self, result: CommandResult) -> bool:
        """True when a cancel ``result`` that :meth:`parse_cancel` read as "not found" may
        also mean "already finished" (e.g. a qdel that exits 1 silently for both): the
        resource then asks for the job's status and treats a known job as finished."""
        return False
