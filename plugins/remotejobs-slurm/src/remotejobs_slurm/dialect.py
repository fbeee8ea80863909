"""The Slurm scheduler dialect: sbatch / squeue / sacct / scancel argv lists and parsers.

Pure: no I/O. Facts come from the Slurm 22.05.8 man pages (sbatch(1), squeue(1), sacct(1),
scancel(1); https://manpages.ubuntu.com/manpages/lunar/man1/sbatch.1.html and siblings)
and from probes on the test cluster (Slurm 22.05.8, Debian 12) whose raw output is kept in
``tests/golden/``. Output parsing lives in :mod:`remotejobs_slurm._parse`, the sbatch
options of a spec (names, walltime, dependencies, site fields) in :mod:`remotejobs_slurm._options`.

Design choices:

- Status is ONE ``squeue -h -a -r -t all -j <ids> -O ...`` call (several ids: ``-u <user>
  -j <ids>``, past :data:`BULK_ABOVE` ids ``-u <user>`` alone, see there). Probed quirk: squeue
  exits 1 with ``slurm_load_jobs error: Invalid job id specified`` only when a SINGLE id
  is given and slurmctld does not know it; with several ids it prints the known ones and
  exits 0. So that error (and only it) means "this id is not reported", never a failure.
  squeue's ``exit_code`` field gives the exit status of finished jobs, so no extra call
  is needed for exit codes while slurmctld remembers the job (``MinJobAge``).
- History (jobs slurmctld has forgotten) is ``sacct`` when accounting is enabled.
  ``scontrol show job`` is NOT used as a fallback: it reads the same slurmctld job table
  as squeue and so knows nothing squeue does not. Without accounting the exit-code
  marker written by the job script decides (see BatchResource).
- Options go into ``#SBATCH`` lines when their value is a plain token; any other value
  (spaces, quotes, non-ASCII: e.g. a job name) goes on the sbatch argv, which the
  transport quotes, because sbatch's own ``#SBATCH`` tokenizer is not a shell.
- Job names: control characters (newline, tab ...) are replaced by spaces
  (:func:`slurm_job_name`): a newline in a name would break every line-based Slurm
  output. Everything else is kept verbatim.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import ClassVar, Self

from remotejobs._gcpause import collector_paused
from remotejobs.errors import JobNotFoundError, SchedulerError, SubmissionError
from remotejobs.models import Capability, DependencyGroup, JobInfo, JobSpec, JobState
from remotejobs.scheduler.dialect import Command, SchedulerDialect, ScriptContext
from remotejobs.scheduler.probes import StatusProbe
from remotejobs.transport.base import CommandResult
from remotejobs_slurm._options import (
    JOB_ID,
    PLAIN,
    SPEC_FIELDS,
    dependency_value,
    format_walltime,
    io_path,
    option,
    site_options,
    slurm_job_name,
)
from remotejobs_slurm._parse import (
    SACCT_FIELDS,
    SQUEUE_FIELDS,
    Decision,
    decode_exit_code,
    decode_wait_status,
    sacct_rows,
    select_infos,
    squeue_rows,
    to_infos,
)
from remotejobs_slurm.settings import SlurmSettings

# dependency_value, format_walltime, slurm_job_name, site_options and SPEC_FIELDS live in
# remotejobs_slurm._options (sbatch options of a spec); this module stays their import path.
__all__ = ["SPEC_FIELDS", "SlurmDialect", "dependency_value", "format_walltime", "site_options", "slurm_job_name"]

_PARSABLE = re.compile(r"^(\d+)(?:;(\S+))?$")  # sbatch(1) --parsable: "jobid[;cluster]"
_NO_ACCOUNTING = "accounting storage is disabled"  # sacct's words on such a cluster (probed)
#: Status of several ids asks ``squeue -u <user> -j <ids>``: with one user, squeue asks
#: slurmctld for that user's jobs only (``slurm_load_job_user``), where a ``-j`` list of
#: several ids loads every job of the cluster; past this many ids, ``-u <user>`` alone
#: (squeue matches a ``-j`` list against each job it loads: time grows with ids x jobs,
#: the client keeps the asked ids instead). Measured in docs/benchmarks.md.
BULK_ABOVE = 50
_HELD_REASONS = frozenset({"JobHeldUser", "JobHeldAdmin"})
# Slurm client messages that mean "slurmctld could not be asked": retrying may succeed.
_TRANSIENT = ("Unable to contact slurm controller", "Socket timed out", "temporarily unable",
              "Resource temporarily unavailable", "Communication connection failure",
              "Zero Bytes were transmitted or received")
_EXPLAIN = {
    "TIMEOUT": "The job reached its walltime limit",
    "DEADLINE": "The job reached its deadline (--deadline)",
    "NODE_FAIL": "A node allocated to the job failed",
    "BOOT_FAIL": "Slurm could not launch the job (node boot failure)",
    "OUT_OF_MEMORY": "The job ran out of memory",
    "PREEMPTED": "The job was preempted by a higher-priority job",
    "SPECIAL_EXIT": "The job was requeued in the SPECIAL_EXIT state",
    "REVOKED": "The federation ran this job on another cluster",
}


class SlurmDialect(SchedulerDialect[SlurmSettings]):
    """Slurm's CLI. ``accounting``: False = never call sacct; True/None = use it (a
    resource stops calling it when sacct says accounting storage is disabled)."""

    name: ClassVar[str] = "slurm"
    # One expression for both cases: "<array job>_<task>" in an array element (the id
    # squeue -r / sacct report for it), else $SLURM_JOB_ID (sbatch(1) OUTPUT ENV VARS).
    job_id_expr: ClassVar[str] = (
        '"${SLURM_ARRAY_TASK_ID:+${SLURM_ARRAY_JOB_ID}_}${SLURM_ARRAY_TASK_ID:-$SLURM_JOB_ID}"'
    )
    # squeue(1) "JOB STATE CODES", 22.05. PENDING with reason JobHeld* becomes HELD.
    state_map: ClassVar[Mapping[str, JobState]] = {
        "PENDING": JobState.QUEUED,
        "CONFIGURING": JobState.QUEUED,
        "REQUEUED": JobState.QUEUED,
        "REQUEUE_FED": JobState.QUEUED,
        "REQUEUE_HOLD": JobState.HELD,
        "RESV_DEL_HOLD": JobState.HELD,
        "RUNNING": JobState.RUNNING,
        "COMPLETING": JobState.RUNNING,
        "RESIZING": JobState.RUNNING,
        "SIGNALING": JobState.RUNNING,
        "STAGE_OUT": JobState.RUNNING,
        "SUSPENDED": JobState.SUSPENDED,
        "STOPPED": JobState.SUSPENDED,
        "COMPLETED": JobState.COMPLETED,
        "FAILED": JobState.FAILED,
        "NODE_FAIL": JobState.FAILED,
        "BOOT_FAIL": JobState.FAILED,
        "OUT_OF_MEMORY": JobState.FAILED,
        "PREEMPTED": JobState.FAILED,
        "SPECIAL_EXIT": JobState.FAILED,
        "CANCELLED": JobState.CANCELLED,
        "REVOKED": JobState.CANCELLED,
        "TIMEOUT": JobState.TIMEOUT,
        "DEADLINE": JobState.TIMEOUT,
    }
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.FILE_TRANSFER, Capability.WALLTIME, Capability.ARRAYS, Capability.DEPENDENCIES,
         Capability.DEPENDENCY_ANY}
    )
    spec_fields: ClassVar[frozenset[str]] = SPEC_FIELDS
    job_id_pattern: ClassVar[re.Pattern[str]] = JOB_ID

    def __init__(self, bin_dir: str = "", accounting: bool | None = None) -> None:
        super().__init__(bin_dir)
        self.accounting = accounting
        self._decisions: dict[tuple[str, str], Decision] = {}

    @classmethod
    def from_settings(cls, settings: SlurmSettings) -> Self:
        return cls(bin_dir=settings.bin_dir, accounting=settings.accounting)

    def map_state(self, native: str) -> JobState:
        """First word only (sacct says ``CANCELLED by 1000``); a ``+`` truncation mark
        is ignored; unknown words give UNKNOWN."""
        words = native.split()
        return self.state_map.get(words[0].rstrip("+"), JobState.UNKNOWN) if words else JobState.UNKNOWN

    # -- script -------------------------------------------------------------------
    def options(self, spec: JobSpec, ctx: ScriptContext) -> list[tuple[str, str]]:
        """All sbatch long options for ``spec`` as (option, value) pairs, unquoted."""
        name = spec.name if spec.name is not None else posixpath.basename(spec.executable)
        array = spec.array is not None
        opts = [("--job-name", slurm_job_name(name) or "job")]
        if spec.queue:
            opts.append(("--partition", spec.queue))
        opts += [("--nodes", str(spec.nodes)), ("--ntasks-per-node", str(spec.processes_per_node))]
        if spec.walltime is not None:
            opts.append(("--time", format_walltime(spec.walltime)))
        if spec.memory_mb is not None:
            opts.append(("--mem", f"{spec.memory_mb}M"))
        # --chdir is the job directory, which always exists; the script itself then cds
        # into the working directory and records exit 127 if it cannot.
        opts += [("--output", io_path(ctx.stdout, array)), ("--error", io_path(ctx.stderr, array)),
                 ("--chdir", ctx.job_dir), ("--export", "ALL")]
        if spec.array is not None:
            opts.append(("--array", spec.array + (f"%{spec.array_limit}" if spec.array_limit else "")))
        if spec.depends_on is not None:
            opts.append(("--dependency", dependency_value(DependencyGroup.of(spec.depends_on))))
        return opts + site_options(spec)

    def directives(self, spec: JobSpec, ctx: ScriptContext) -> list[str]:
        return [f"#SBATCH {option(opt, value)}" for opt, value in self.options(spec, ctx)
                if not value or PLAIN.match(value)]

    # -- submit -------------------------------------------------------------------
    def submit_command(self, spec: JobSpec, ctx: ScriptContext, script_path: str) -> Command:
        extra = [option(opt, value) for opt, value in self.options(spec, ctx) if value and not PLAIN.match(value)]
        return Command.of(self.cmd("sbatch"), "--parsable", *extra, script_path)

    def parse_submit(self, result: CommandResult) -> str:
        """The job id (``;cluster`` dropped). SubmissionError carrying Slurm's message when
        sbatch failed (transient when slurmctld could not be reached); SchedulerError when
        sbatch succeeded but printed no id."""
        if result.exit_status != 0:
            errors = [ln.split("error:", 1)[1].strip() for ln in result.stderr.splitlines() if "error:" in ln]
            message = "; ".join(errors) or result.output or f"exit status {result.exit_status}"
            raise SubmissionError(
                f"Slurm refused the job: {message}",
                transient=any(t in result.output for t in _TRANSIENT),
                hint="Check the job's partition, resources and the sbatch message",
            )
        lines = [ln.strip() for ln in result.stdout.splitlines() if ln.strip()]
        match = _PARSABLE.match(lines[-1]) if lines else None
        if match is None:
            raise SchedulerError("sbatch printed no job id", command=result.argv,
                                 exit_status=result.exit_status, output=result.output)
        return match.group(1)

    # -- status -------------------------------------------------------------------
    def _squeue(self, *select_args: str) -> Command:
        fmt = ",".join(f"{f}:|" for f in SQUEUE_FIELDS[:-1]) + f",{SQUEUE_FIELDS[-1]}:"
        return Command.of(self.cmd("squeue"), "-h", "-a", "-r", "-t", "all", *select_args, "-O", fmt)

    def status_command(self, ids: Sequence[str]) -> Command:
        valid = [i for i in ids if self.valid_id(i)]
        if not valid:
            raise JobNotFoundError(",".join(ids)[:100], message="No valid Slurm job id to ask for")
        return self._squeue("-j", ",".join(valid))

    def user_status_command(self, user: str, ids: Sequence[str]) -> Command:
        """Status of several ``ids`` among ``user``'s jobs: ``squeue -u <user> -j <ids>``
        (slurmctld sends only the user's jobs, squeue prints the asked ones), or past
        :data:`BULK_ABOVE` ids ``squeue -u <user>`` alone (the client keeps the asked
        ones). One id: :meth:`status_command` (squeue asks slurmctld for that job only)."""
        valid = [i for i in ids if self.valid_id(i)]
        if len(valid) > BULK_ABOVE:
            return self._squeue("-u", user)
        return self._squeue("-u", user, "-j", ",".join(valid)) if valid else self.status_command(ids)

    @collector_paused
    def parse_status(self, result: CommandResult, ids: Sequence[str]) -> dict[str, JobInfo]:
        if result.exit_status != 0:
            if "Invalid job id" in result.output:  # see module docstring: id(s) unknown
                return {}
            raise self._failed("squeue", result)
        return select_infos(squeue_rows(result), ids, self._decisions, self.decision, decode_wait_status)

    def status_probes(self) -> tuple[StatusProbe, ...]:
        """``squeue`` (live, also lists), then ``sacct`` (history) unless accounting is
        False; sacct is unavailable where it says accounting storage is disabled."""
        squeue = StatusProbe("squeue", self.status_command, self.parse_status,
                             list_command=self.jobs_command, parse_list=self.parse_jobs,
                             bulk_command=self.user_status_command, bulk_above=1)
        if self.accounting is False:
            return (squeue,)
        return (squeue, StatusProbe("sacct", self.history_command, self.parse_history,
                                    unavailable=(_NO_ACCOUNTING,), stage="history"))

    def history_command(self, ids: Sequence[str]) -> Command | None:
        valid = [i for i in ids if self.valid_id(i)]
        if self.accounting is False or not valid:
            return None
        return Command.of(self.cmd("sacct"), "-n", "-X", "-P", "-j", ",".join(valid),
                          "--format=" + ",".join(SACCT_FIELDS))

    @staticmethod
    def accounting_disabled(result: CommandResult) -> bool:
        """True when sacct says this cluster keeps no accounting (probed wording)."""
        return result.exit_status != 0 and _NO_ACCOUNTING in result.output

    @collector_paused
    def parse_history(self, result: CommandResult, ids: Sequence[str]) -> dict[str, JobInfo]:
        if self.accounting_disabled(result):
            return {}
        if result.exit_status != 0:
            raise self._failed("sacct", result)
        return select_infos(sacct_rows(result), ids, self._decisions, self.decision, decode_exit_code)

    def jobs_command(self, user: str) -> Command:
        return self._squeue("-u", user) if user else self._squeue()

    @collector_paused
    def parse_jobs(self, result: CommandResult, user: str) -> list[JobInfo]:
        if result.exit_status != 0:
            raise self._failed("squeue", result)
        rows = squeue_rows(result).values()
        return to_infos([r for r in rows if r[5].strip() == user] if user else rows, self._decisions,
                        self.decision, decode_wait_status)

    # -- cancel -------------------------------------------------------------------
    def cancel_command(self, job_id: str) -> Command:
        # Without -v, scancel 22.05 prints nothing and exits 0 for unknown or finished
        # jobs (probed); -v makes it say which. The id follows "--" (getopt_long: no
        # option after it), besides being checked against job_id_pattern.
        if not self.valid_id(job_id):
            raise JobNotFoundError(job_id, message=f"{job_id[:100]!r} is not a Slurm job id")
        return Command.of(self.cmd("scancel"), "-v", "--", job_id)

    def parse_cancel(self, result: CommandResult, job_id: str) -> None:
        """Success only when scancel said ``Terminating job <job_id>`` and no error
        (probed: ``scancel -v -- 41`` prints ``scancel: Terminating job 41``); exit 0
        alone proves nothing (scancel exits 0 for unknown ids too)."""
        text = result.output
        if "Invalid job id" in text:
            raise JobNotFoundError(job_id, message=f"Slurm does not know job {job_id!r}")
        if "Access/permission denied" in text:
            raise JobNotFoundError(job_id, message=f"Job {job_id!r} is not one of this user's jobs")
        if "already completing or completed" in text:
            return
        if result.exit_status != 0 or "error:" in text:
            raise self._failed("scancel", result)
        if f"Terminating job {job_id}\n" not in text + "\n":
            raise SchedulerError(f"scancel did not confirm the cancellation of job {job_id!r}",
                                 command=result.argv, exit_status=result.exit_status, output=text)

    # -- helpers ------------------------------------------------------------------
    def _failed(self, program: str, result: CommandResult) -> SchedulerError:
        return SchedulerError(f"{program} failed", command=result.argv, exit_status=result.exit_status,
                              output=result.output,
                              transient=any(t in result.output for t in _TRANSIENT))

    def _decide(self, native: str, slurm_reason_text: str) -> tuple[JobState, str | None, bool, bool]:
        """(state, reason, started, final) for a state word and Slurm's reason field."""
        word = native.split(maxsplit=1)[0].rstrip("+") if native.split() else native
        state = self.map_state(word)
        slurm_reason = slurm_reason_text if slurm_reason_text not in ("", "None", "(null)") else None
        if state is JobState.QUEUED and slurm_reason in _HELD_REASONS:
            state = JobState.HELD
        if state is JobState.UNKNOWN:
            reason: str | None = f"Slurm reported the state {native!r}, which remotejobs does not know"
        else:
            parts = [p for p in (_EXPLAIN.get(word), slurm_reason) if p]
            reason = "; ".join(parts) or None
        started = state not in (JobState.QUEUED, JobState.HELD, JobState.UNKNOWN)
        return state, reason, started, state.is_final

    def decision(self, state_field: str, reason_field: str) -> Decision:
        """(state, native state, reason, started, final) of a row's State and Reason
        fields as printed, remembered per instance: a queue repeats a few of them many
        times over (the cache is emptied past 4,096 entries)."""
        native = state_field.strip()
        state, reason, started, final = self._decide(native, reason_field.strip())
        if len(self._decisions) >= 4096:
            self._decisions.clear()
        decided = self._decisions[(state_field, reason_field)] = (state, native, reason, started, final)
        return decided
