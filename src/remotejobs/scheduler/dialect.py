"""The scheduler-dialect extension point: what a batch scheduler's CLI says.

A dialect is pure: it builds argv lists from a :class:`~remotejobs.models.JobSpec` and
parses command output into :class:`~remotejobs.models.JobInfo`. It does no I/O, so it is
tested with golden outputs, and the same dialect serves over any transport.

Parsers raise :class:`~remotejobs.errors.SchedulerError` carrying the raw output when the
output cannot be understood; they never let IndexError/KeyError/ValueError escape.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from remotejobs.models import Capability, JobInfo, JobSpec, JobState
from remotejobs.scheduler.script import render_script
from remotejobs.transport.base import CommandResult

__all__ = ["Command", "SchedulerDialect", "ScriptContext"]


@dataclass(frozen=True)
class Command:
    """An argv list plus optional text fed to its standard input."""

    argv: tuple[str, ...]
    stdin: str | None = None

    @classmethod
    def of(cls, *argv: str, stdin: str | None = None) -> Command:
        return cls(tuple(argv), stdin)


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


class SchedulerDialect(ABC):
    """Pure functions for one scheduler's CLI. Subclasses set the class attributes.

    :cvar name: the dialect name (``slurm``, ``torque``, ``lsf``).
    :cvar job_id_expr: a shell expression that expands, inside the running job, to the id
        :meth:`parse_submit` returned (for arrays: the element's id as reported by status).
    :cvar state_map: native state word -> JobState; unknown words map to UNKNOWN.
    """

    name: ClassVar[str]
    job_id_expr: ClassVar[str]
    state_map: ClassVar[Mapping[str, JobState]]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, bin_dir: str = "") -> None:
        self.bin_dir = bin_dir

    def cmd(self, program: str) -> str:
        """The path to run ``program`` (honours the ``bin_dir`` setting)."""
        return f"{self.bin_dir.rstrip('/')}/{program}" if self.bin_dir else program

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
    @abstractmethod
    def status_command(self, ids: Sequence[str]) -> Command:
        """One command giving the status of all ``ids`` (whatever their number)."""

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
