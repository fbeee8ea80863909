"""Grid Engine's CLI (qsub, qstat, qacct, qdel) as a pure :class:`SchedulerDialect`.

Written for Son of Grid Engine 8.1.9 (Debian 12, the test cluster) and checked against
outputs of Sun Grid Engine 6.2 and SoGE 8.x sites (tests/golden/SOURCES.md). Facts used,
besides those in _qstat.py and _qacct.py (qsub(1), qstat(1), sge_status(5) of 8.1.9):

- ``qsub -terse`` prints the job id alone (``55``), for an array ``56.1-3:1``; the id users
  hold is the job number, array tasks are ``<job>.<task>`` (the notation qdel accepts);
- ``-C ''`` stops qsub from reading ``#$`` lines from the script, so no argument text
  that happens to start a line with ``#$`` becomes an option; options go on the command line;
- ``-o``/``-e``/``-wd`` paths are ``[[host]:]path`` lists separated by commas, and qsub expands
  ``$USER``, ``$JOB_ID``, ``$TASK_ID`` ... in them: paths with ``:``, ``,`` or ``$`` are refused;
- ``-t`` takes one range ``n[-m[:s]]`` of task numbers >= 1;
- ``-hold_jid`` waits for the listed jobs to end, whatever their outcome: it expresses
  ``afterany`` and nothing else;
- ``qstat`` without ``-u`` lists every user's jobs, ``qstat -s z`` the finished ones
  (``finished_jobs`` of sge_conf(5) are kept); a deleted pending job never reaches qacct;
- ``qdel`` answers ``denied: job "N" does not exist`` for unknown *and* finished jobs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import ClassVar, Self

from remotejobs._gcpause import collector_paused
from remotejobs.errors import InvalidJobSpecError, JobNotFoundError, SchedulerError, SubmissionError
from remotejobs.models import Capability, DependencyGroup, JobInfo, JobSpec, JobState
from remotejobs.scheduler import Command, SchedulerDialect, ScriptContext, StatusProbe
from remotejobs.scheduler.arrays import select
from remotejobs.scheduler.site import feature_names, pbs_datetime, per_process_memory, priority_of_nice, split_option
from remotejobs.transport.base import CommandResult
from remotejobs_sge._qacct import info_from_record, parse_qacct, record_id
from remotejobs_sge._qstat import QstatRow, error_reasons, parse_qstat_xml
from remotejobs_sge.settings import SgeSettings

__all__ = ["SgeDialect", "job_name", "native_state"]

#: Grid Engine's id grammar: a job number, or ``<job>.<task>`` for one array task.
JOB_ID = re.compile(r"^[1-9][0-9]{0,9}(\.[1-9][0-9]{0,9})?$")
_SUBMITTED = re.compile(r"^([1-9][0-9]{0,9})(?:\.[0-9]+-[0-9]+:[0-9]+)?$")
_QUEUE = re.compile(r"^[A-Za-z0-9_.@*+-]+$")
_USER = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.@-]*$")
_PATH_REFUSED = re.compile(r"[:,$\x00-\x1f]")
_ARRAY = re.compile(r"^([1-9][0-9]*)(?:-([1-9][0-9]*))?$")
DETAIL_MARK = "<!-- remotejobs: qstat -j -->"
ACCT_MARK = "== remotejobs qacct"

# One command: the user's live jobs as XML, and for jobs in error state their reasons.
_QSTAT_SH = (
    'ids=$1; shift; out=$("$@" -xml -u "$(id -un)") || { rc=$?; printf "%s\\n" "$out"; exit "$rc"; }; '
    'printf "%s\\n" "$out"; if printf "%s" "$out" | grep -q "<state>[a-zA-Z]*E"; then '
    f'echo "{DETAIL_MARK}"; "$@" -j "$ids" 2>&1; fi; exit 0'
)
# One command: qacct -j for each job (qacct takes one job per call).
_QACCT_SH = (
    'ids=$1; shift; rc=0; for j in $ids; do printf "%s %s\\n" "' + ACCT_MARK + '" "$j"; '
    '"$@" -j "$j" 2>&1 || rc=$?; done; exit "$rc"'
)

_STATE_WORDS = ("qw", "hqw", "hRwq", "Rq", "r", "hr", "t", "Rr", "Rt", "s", "ts", "S", "tS", "T", "tT",
                "Eqw", "Ehqw", "EhRqw", "dr", "dt", "ds", "dS", "dT", "z")


def native_state(word: str) -> tuple[JobState, str | None]:
    """The portable state of a qstat state word, with a reason where it helps."""
    if "E" in word:
        return JobState.FAILED, None
    if "z" in word:
        return JobState.UNKNOWN, "finished (qstat -s z); the exit marker or qacct tells how"
    deleting = "being deleted (qdel)" if "d" in word else None
    if any(c in word for c in "sST"):
        return JobState.SUSPENDED, deleting or ("suspended by its queue" if "S" in word or "T" in word else None)
    if "r" in word or "t" in word:
        return JobState.RUNNING, deleting
    if "h" in word:
        return JobState.HELD, "on hold (qhold, qsub -h, or waiting for -hold_jid jobs)"
    if "q" in word or "w" in word:
        return JobState.QUEUED, None
    return JobState.UNKNOWN, f"unknown Grid Engine state {word!r}"


#: The JobSpec site fields this dialect maps (:meth:`SgeDialect.site_options`). Grid Engine
#: has no QoS and no standard GPU resource (sites define their own complex: pass it with
#: ``scheduler_options={"sge": ["-l=gpu=1"]}``): ``qos`` and ``gpus_per_node`` are refused.
SPEC_FIELDS = frozenset({"account", "reservation", "constraint", "exclusive", "cores_per_process",
                         "memory_mb_per_process", "nice", "begin", "email", "email_on", "array_limit",
                         "scheduler_options"})
# qsub(1) "-m b|e|a|s|n": b beginning, e end, a aborted or rescheduled (no "failed" event).
_MAIL_POINTS = {"begin": "b", "end": "e", "fail": "a"}
_WORD = re.compile(r"^[A-Za-z0-9_.@+-]+$")


def _word(value: str, what: str) -> str:
    """``value`` when it is one plain word (qsub splits option lists at ``,`` and reads
    ``=``/``:`` in resource requests), else InvalidJobSpecError."""
    if not _WORD.match(value):
        raise InvalidJobSpecError(f"The {what} {value!r} cannot be given to Grid Engine's qsub",
                                  hint="Use letters, digits and _ . @ + -")
    return value


def job_name(name: str | None) -> str:
    """A name Grid Engine accepts: ``[A-Za-z0-9_.-]``, starting with a letter (no digit
    first, qsub says), at most 64 characters (default ``remotejobs``)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name or "remotejobs")[:64]
    return cleaned if cleaned[:1].isalpha() else ("j" + cleaned)[:64]


def _path(value: str, what: str) -> str:
    if _PATH_REFUSED.search(value):
        raise InvalidJobSpecError(
            f"The {what} {value!r} contains a character Grid Engine gives a meaning to",
            hint="Use a path without ':' (host prefix), ',' (path list) and '$' (qsub expands "
            "$USER, $JOB_ID ... in output paths)",
        )
    return value


class SgeDialect(SchedulerDialect[SgeSettings]):
    """qsub/qstat/qacct/qdel of Grid Engine (SGE 6.2, Son of Grid Engine 8.x, Univa/Altair)."""

    name: ClassVar[str] = "sge"
    # The id status reports: the job number, plus ``.<task>`` inside an array task
    # (Grid Engine sets SGE_TASK_ID to "undefined" outside arrays).
    job_id_expr: ClassVar[str] = (
        '"$JOB_ID$(test "${SGE_TASK_ID:-undefined}" = undefined || printf .%s "$SGE_TASK_ID")"'
    )
    state_map: ClassVar[Mapping[str, JobState]] = {w: native_state(w)[0] for w in _STATE_WORDS}
    #: job numbers and ``<job>.<task>`` only: the resource refuses other ids before any command.
    job_id_pattern: ClassVar[re.Pattern[str]] = JOB_ID
    spec_fields: ClassVar[frozenset[str]] = SPEC_FIELDS
    dependency_conditions: ClassVar[frozenset[str]] = frozenset({"afterany"})  # -hold_jid, see _hold
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.WALLTIME, Capability.ARRAYS, Capability.DEPENDENCIES}
    )

    def __init__(self, bin_dir: str = "", *, sge_root: str | None = None, sge_cell: str | None = None,
                 parallel_environment: str | None = None, memory_resource: str = "h_vmem",
                 shell: str = "/bin/bash") -> None:
        super().__init__(bin_dir=bin_dir)
        self.env = tuple(f"{k}={v}" for k, v in (("SGE_ROOT", sge_root), ("SGE_CELL", sge_cell)) if v)
        self.parallel_environment = parallel_environment
        self.memory_resource = memory_resource
        self.shell = shell

    @classmethod
    def from_settings(cls, settings: SgeSettings) -> Self:
        return cls(bin_dir=settings.bin_dir, sge_root=settings.sge_root, sge_cell=settings.sge_cell,
                   parallel_environment=settings.parallel_environment,
                   memory_resource=settings.memory_resource, shell=settings.shell)

    def program(self, name: str) -> tuple[str, ...]:
        """argv prefix running ``name`` (with ``env SGE_ROOT=... SGE_CELL=...`` when set)."""
        return ("env", *self.env, self.cmd(name)) if self.env else (self.cmd(name),)

    # -- submit -------------------------------------------------------------------
    def directives(self, spec: JobSpec, ctx: ScriptContext) -> list[str]:
        """None: options go on the qsub command line, and ``-C ''`` keeps qsub from reading
        ``#$`` lines, so no text in the script can add an option."""
        return []

    def _resources(self, spec: JobSpec) -> list[str]:
        # A slot is one core: cores_per_process multiplies the slots (the parallel
        # environment's allocation rule places them).
        slots = spec.nodes * spec.processes_per_node * (spec.cores_per_process or 1)
        argv: list[str] = []
        if spec.walltime is not None:
            argv += ["-l", f"h_rt={math.ceil(spec.walltime.total_seconds())}"]
        per_process = per_process_memory(spec, "sge")
        if spec.memory_mb is not None:  # per node; Grid Engine memory resources count per slot
            per_node = spec.processes_per_node * (spec.cores_per_process or 1)
            argv += ["-l", f"{self.memory_resource}={math.ceil(spec.memory_mb / per_node)}M"]
        elif per_process is not None:
            argv += ["-l", f"{self.memory_resource}={math.ceil(per_process / (spec.cores_per_process or 1))}M"]
        if slots > 1:
            if self.parallel_environment is None:
                raise InvalidJobSpecError(
                    f"The job asks for {slots} slots but no parallel environment is configured",
                    hint="Set parallel_environment (qconf -spl lists them) in the resource's settings")
            argv += ["-pe", self.parallel_environment, str(slots)]
        return argv

    def _array(self, spec: JobSpec) -> list[str]:
        if spec.array is None:
            return []
        match = _ARRAY.match(spec.array)
        if match is None or int(match.group(2) or match.group(1)) < int(match.group(1)):
            raise InvalidJobSpecError(
                f"Grid Engine takes one range of task numbers >= 1, not {spec.array!r}",
                hint="Give array as 'N' or 'N-M' with 1 <= N <= M")
        return ["-t", spec.array]

    def site_options(self, spec: JobSpec) -> list[str]:
        """qsub arguments for the site fields (qsub(1) of Grid Engine 8.1.9, Debian's
        gridengine-client, ``man sge_submit``): ``-A account_string``, ``-ar ar_id``, ``-l
        name=true`` per node feature (boolean complexes, sge_complex(5)), ``-l
        exclusive=true`` (the site's EXCL complex named ``exclusive``, sge_complex(5)
        "EXCL"), ``-p priority`` (-1023..1024; users may only lower it: given as -nice),
        ``-a [[CC]YY]MMDDhhmm[.SS]``, ``-M user[@host]``, ``-m`` (b e a), ``-tc
        max_running_tasks``, then scheduler_options["sge"]."""
        argv: list[str] = []
        if spec.account is not None:
            argv += ["-A", _word(spec.account, "account")]
        if spec.reservation is not None:
            if not spec.reservation.isdigit():
                raise InvalidJobSpecError(f"Grid Engine advance reservations are numbers, not {spec.reservation!r}",
                                          hint="Give the id qrsub printed (qrstat lists them)")
            argv += ["-ar", spec.reservation]
        for name in feature_names(spec, "sge"):
            argv += ["-l", f"{name}=true"]
        if spec.exclusive:
            argv += ["-l", "exclusive=true"]
        priority = priority_of_nice(spec, -1023, 1024, "sge")
        if priority is not None:
            argv += ["-p", str(priority)]
        if spec.begin is not None:
            argv += ["-a", pbs_datetime(spec.begin)]
        if spec.email is not None:
            argv += ["-M", _word(spec.email, "e-mail address")]
            if spec.email_on:
                # One word ("ae"): qsub 8.1.9 refuses "a,e" ("Wrong mail options list format").
                argv += ["-m", "".join(sorted(_MAIL_POINTS[e] for e in spec.email_on))]
        if spec.array_limit is not None:
            argv += ["-tc", str(spec.array_limit)]
        for raw in spec.scheduler_options.get("sge", ()):
            flag, value = split_option(raw)
            argv += [flag, value] if value else [flag]
        return argv

    def _hold(self, spec: JobSpec) -> list[str]:
        """``-hold_jid`` for ``afterany`` clauses joined by ``all`` (a group's clauses unite
        their job lists); anything else Grid Engine cannot say."""
        if spec.depends_on is None:
            return []
        group = DependencyGroup.of(spec.depends_on)
        other = sorted({c.condition for c in group.clauses} - {"afterany"})
        if other or (group.join == "any" and len(group.clauses) > 1):
            what = f"the dependency condition {other[0]!r}" if other else "an 'any' of conditions"
            raise InvalidJobSpecError(
                f"Grid Engine cannot express {what}",
                hint="qsub -hold_jid waits for all listed jobs to end whatever their outcome: use 'afterany'")
        ids = list(dict.fromkeys(i for c in group.clauses for i in c.job_ids))
        bad = [i for i in ids if not JOB_ID.match(i) or "." in i]
        if bad:
            raise InvalidJobSpecError(f"Not Grid Engine job numbers: {', '.join(map(repr, bad))}")
        return ["-hold_jid", ",".join(ids)]

    def submit_command(self, spec: JobSpec, ctx: ScriptContext, script_path: str) -> Command:
        argv = [*self.program("qsub"), "-terse", "-C", "", "-S", self.shell, "-N", job_name(spec.name)]
        if spec.queue:
            if not _QUEUE.match(spec.queue):
                raise InvalidJobSpecError(f"Not a Grid Engine queue name: {spec.queue!r}")
            argv += ["-q", spec.queue]
        argv += self._resources(spec)
        argv += ["-wd", _path(ctx.job_dir, "job directory"), "-o", _path(ctx.stdout, "stdout path")]
        if ctx.stderr == ctx.stdout:
            argv += ["-j", "y"]
        else:
            argv += ["-e", _path(ctx.stderr, "stderr path")]
        argv += [*self._array(spec), *self._hold(spec), *self.site_options(spec), _path(script_path, "script path")]
        return Command(tuple(argv))

    def parse_submit(self, result: CommandResult) -> str:
        """The job number qsub -terse printed (an array's ``56.1-3:1`` gives ``56``)."""
        lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
        if result.exit_status != 0:
            text = " ".join(result.output.split()) or f"qsub exited with status {result.exit_status}"
            raise SubmissionError(f"qsub refused the job: {text[:500]}",
                                  transient="commlib error" in text or "unable to contact" in text)
        match = _SUBMITTED.match(lines[-1]) if lines else None
        if match is None:
            raise SchedulerError("qsub -terse printed no job id", command=result.argv,
                                 exit_status=result.exit_status, output=result.output)
        return match.group(1)

    # -- status -------------------------------------------------------------------
    def status_probes(self) -> Sequence[StatusProbe]:
        """``qstat`` (live jobs, with ``qstat -j`` reasons for error states), then
        ``qacct`` (finished jobs) for the ids qstat no longer shows."""
        return (
            StatusProbe("qstat", self.status_command, self.parse_status,
                        list_command=self.jobs_command, parse_list=self.parse_jobs),
            StatusProbe("qacct", self.history_command, self.parse_history, stage="history",
                        unavailable=("command not found", "No such file or directory")),
        )

    @staticmethod
    def _numbers(ids: Sequence[str]) -> list[str]:
        """The job numbers of the valid ids, once each, in order."""
        return list(dict.fromkeys(i.split(".")[0] for i in ids if JOB_ID.match(i)))

    def status_command(self, ids: Sequence[str]) -> Command | None:
        numbers = self._numbers(ids)
        if not numbers:
            return None
        return Command.of("sh", "-c", _QSTAT_SH, "sh", ",".join(numbers), *self.program("qstat"))

    def _info(self, row: QstatRow, reasons: Mapping[str, str]) -> JobInfo:
        state, reason = native_state(row.state)
        if state is JobState.FAILED:
            why = reasons.get(row.job) or "qstat -j gives no reason"
            reason = (f"Grid Engine put the job in error state {row.state}: {why}. It stays queued "
                      "until deleted (qdel), or an administrator clears it (qmod -cj)")
        return JobInfo.trusted(row.id, state, name=row.name, native_state=row.state, reason=reason,
                               submit_time=row.submit_time, start_time=row.start_time, queue=row.queue,
                               owner=row.owner)

    def _rows(self, result: CommandResult) -> tuple[list[QstatRow], dict[str, str]]:
        if result.exit_status != 0:
            raise SchedulerError("qstat failed", command=result.argv, exit_status=result.exit_status,
                                 output=result.output, transient="commlib error" in result.output)
        xml, _, detail = result.stdout.partition(DETAIL_MARK)
        try:
            return parse_qstat_xml(xml), error_reasons(detail)
        except ValueError as exc:
            raise SchedulerError(f"Could not understand the qstat output: {exc}", command=result.argv,
                                 exit_status=result.exit_status, output=result.output) from exc

    @collector_paused
    def parse_status(self, result: CommandResult, ids: Sequence[str]) -> dict[str, JobInfo]:
        """Infos for the asked ids (an array's number aggregates its tasks); unknown ids
        are left out."""
        rows, reasons = self._rows(result)
        return select(rows, ids, lambda r: self._info(r, reasons), own_id=lambda r: r.id,
                      array_id=lambda r: r.job if r.task else None)

    def jobs_command(self, user: str) -> Command:
        """Live and finished (``-s prsz``) jobs of ``user``."""
        if not _USER.match(user):
            raise SchedulerError(f"Not a user name Grid Engine can list: {user!r}")
        return Command.of(*self.program("qstat"), "-xml", "-s", "prsz", "-u", user)

    @collector_paused
    def parse_jobs(self, result: CommandResult, user: str) -> list[JobInfo]:
        rows, reasons = self._rows(result)
        return [self._info(r, reasons) for r in rows if not user or r.owner == user]

    def needs_marker(self, info: JobInfo) -> bool:
        """A finished job in a listing (``z``): its exit marker tells how it ended."""
        return info.native_state == "z"

    def history_command(self, ids: Sequence[str]) -> Command | None:
        numbers = self._numbers(ids)
        if not numbers:
            return None
        return Command.of("sh", "-c", _QACCT_SH, "sh", " ".join(numbers), *self.program("qacct"))

    def parse_history(self, result: CommandResult, ids: Sequence[str]) -> dict[str, JobInfo]:
        """Finished jobs (and array tasks) from their last qacct record; ``not found``
        answers are left out."""
        records: dict[str, dict[str, str]] = {}
        for block in result.stdout.split(ACCT_MARK)[1:]:
            text = "\n".join(line for line in block.splitlines()[1:] if not line.startswith("error:"))
            if not text.strip():
                continue
            try:
                for record in parse_qacct(text):
                    records[record_id(record)] = record
            except ValueError as exc:
                raise SchedulerError(f"Could not understand the qacct output: {exc}", command=result.argv,
                                     exit_status=result.exit_status, output=result.output) from exc
        return select(records.items(), ids, lambda kv: info_from_record(*kv), own_id=lambda kv: kv[0],
                      array_id=lambda kv: kv[1]["jobnumber"] if "." in kv[0] else None)

    # -- cancel -------------------------------------------------------------------
    def cancel_command(self, job_id: str) -> Command:
        if not JOB_ID.match(job_id):
            raise JobNotFoundError(job_id, message=f"{job_id!r} is not a Grid Engine job id")
        return Command.of(*self.program("qdel"), job_id)

    def parse_cancel(self, result: CommandResult, job_id: str) -> None:
        """Exit 0: deleted, or registered for deletion. ``does not exist`` (unknown or
        already finished: see :meth:`cancel_not_found_may_be_finished`) and another user's
        job: JobNotFoundError."""
        text = " ".join(result.output.split())
        if result.exit_status == 0:
            return
        if "does not exist" in text:
            raise JobNotFoundError(job_id, message=f"Grid Engine does not know job {job_id!r} (any more)")
        if "necessary privileges" in text:
            raise JobNotFoundError(job_id, message=f"Job {job_id!r} is not one of this user's jobs")
        raise SchedulerError(f"qdel failed for job {job_id!r}", command=result.argv,
                             exit_status=result.exit_status, output=result.output)

    def cancel_not_found_may_be_finished(self, result: CommandResult) -> bool:
        return "does not exist" in result.output
