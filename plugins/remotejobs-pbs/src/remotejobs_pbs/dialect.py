"""The PBS Professional / OpenPBS dialect: qsub, ``qstat -f -F json -x``, qdel.

Facts (openpbs/openpbs ``src/cmds/qsub.c``, ``qstat.c``, ``qdel.c``,
``src/lib/Libcmds/err_handling.c``, ``src/lib/Liblog/pbs_messages.c``,
``src/include/pbs_error.h``; the PBS Reference Guide; peers: psij-python's PBS executor,
buildtest's, AiiDA's pbspro scheduler):

- qsub prints the new id and a newline (``123.server``, ``123[].server`` for ``-J``);
  errors are ``qsub: <message>`` on stderr, exit status the PBS error number & 0xFF;
- ``qstat -f -F json -x -t ids``: ``-x`` adds finished (``F``) jobs kept by the server's
  job history, ``-t`` lists an array's subjobs (``123[4].server``); an unknown id prints
  ``qstat: Unknown Job Id <id>`` (PBSE_UNKJOBID 15001, exit 153) while the others still
  print; PBS Pro before 13 has no ``-F``: the resource falls back to text once;
- qdel: silent on success; ``qdel: Unknown Job Id <id>`` (exit 153); a finished job
  ``qdel: Job has finished <id>`` (PBSE_HISTJOBID 15139, exit 35); an exiting one
  ``qdel: Request invalid for state of job <id>`` (PBSE_BADSTATE, exit 168).

Every id is checked against the PBS id grammar (:mod:`remotejobs_pbs._ids`) before it
reaches a command; values on the command line are argv elements (no shell), restricted to
what qsub's own parsers read unambiguously.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import ClassVar, Literal, Self

from remotejobs._gcpause import collector_paused
from remotejobs.errors import InvalidJobSpecError, JobNotFoundError, SchedulerError, SubmissionError
from remotejobs.models import Capability, DependencyGroup, JobInfo, JobSpec
from remotejobs.scheduler.arrays import aggregate_array
from remotejobs.scheduler.dialect import Command, SchedulerDialect, ScriptContext
from remotejobs.scheduler.probes import ProbeAnswer, StatusProbe, format_probes
from remotejobs.scheduler.site import feature_names, per_process_memory, qsub_site_options
from remotejobs.transport.base import CommandResult
from remotejobs_pbs._ids import _ID, ID_FORMS, array_of, is_job_id, key
from remotejobs_pbs._qstat import parse_json, parse_text
from remotejobs_pbs._states import STATE_MAP, info_from_attrs, needs_marker, resolve
from remotejobs_pbs.settings import PbsSettings

__all__ = ["PbsDialect", "depend_value", "job_name"]

UNKJOBID_EXIT = 153  # PBSE_UNKJOBID 15001 & 0xFF
# PBSE_PERM 15007 "Unauthorized Request": another user's job (openpbs src/include/pbs_error.h,
# torque src/include/pbs_error_db.h); to this user such a job does not exist.
PERM_EXIT = 159  # 15007 & 0xFF
_NOT_MINE = "Unauthorized Request"
HISTJOBID_EXIT = 35  # PBSE_HISTJOBID 15139 & 0xFF
_SAFE = re.compile(r"^[A-Za-z0-9_./=+@%-]+$")
_PATH = re.compile(r"^/[^:\x00-\x1f\x7f]*$")  # qsub reads "[host:]path"; no ':' so no host
_UNKNOWN = ("Unknown Job Id",)
_FINISHED = ("Job has finished", "Request invalid for finished array subjob")
_BAD_OPTION = ("invalid option", "illegal option", "Unknown option")
_TRANSIENT = ("cannot connect to server", "Connection refused", "Premature end of message",
              "Invalid credential", "No route to host")


#: The JobSpec site fields this dialect maps (:func:`site_options`, :meth:`PbsDialect._options`);
#: PBS has no QoS, so ``qos`` is refused.
SPEC_FIELDS = frozenset({"account", "reservation", "constraint", "exclusive", "cores_per_process",
                         "gpus_per_node", "memory_mb_per_process", "nice", "begin", "email", "email_on",
                         "array_limit", "scheduler_options"})
# qsub(1B) "-m" (openpbs doc/man1/qsub.1B): b begins, e terminates, a aborted by the batch
# system (PBS has no "failed" event; a job that exits non-zero is not aborted).
_MAIL_POINTS = {"begin": "b", "end": "e", "fail": "a"}


def chunk(spec: JobSpec) -> str:
    """The ``select`` chunk, one per node: ``N:ncpus=C:mpiprocs=P[:ompthreads=T][:ngpus=G]
    [:mem=Mmb][:feature=True...]`` (openpbs doc/man1/pbs_resources.7B: ``ncpus``,
    ``mpiprocs``, ``ompthreads``, ``mem`` per chunk; ``ngpus``, doc/man8/pbsnodes.8B; node
    features are the site's boolean host resources, requested as ``name=True``)."""
    cores = spec.cores_per_process or 1
    parts = [str(spec.nodes), f"ncpus={spec.processes_per_node * cores}", f"mpiprocs={spec.processes_per_node}"]
    if spec.cores_per_process is not None:
        parts.append(f"ompthreads={cores}")
    if spec.gpus_per_node is not None:
        parts.append(f"ngpus={spec.gpus_per_node}")
    per_process = per_process_memory(spec, "pbs")
    if spec.memory_mb is not None:
        parts.append(f"mem={spec.memory_mb}mb")  # memory_mb is per node: one chunk per node
    elif per_process is not None:
        parts.append(f"mem={per_process * spec.processes_per_node}mb")
    return ":".join(parts + [f"{name}=True" for name in feature_names(spec, "pbs")])


def reservation_queue(spec: JobSpec) -> str | None:
    """The queue of ``spec.reservation``: a reservation ``R<n>.<server>`` (or ``S<n>``) has
    the queue ``R<n>`` and jobs run in it by being submitted to it (openpbs
    doc/man1/pbs_rsub.1B OUTPUT, "The associated queue's name is the prefix")."""
    if spec.reservation is None:
        return None
    if spec.queue:
        raise InvalidJobSpecError("PBS runs a job in a reservation by submitting it to the reservation's "
                                  f"queue, so queue={spec.queue!r} and reservation cannot both be given",
                                  hint="Leave queue unset when giving a reservation")
    return _safe(spec.reservation.split(".", 1)[0], "reservation")


def site_options(spec: JobSpec) -> list[tuple[str, str]]:
    """qsub options for the site fields not in the chunk (openpbs doc/man1/qsub.1B):
    ``-A <account string>``, ``-p <priority>`` ([-1024, +1023]; given as -nice),
    ``-a [[[[CC]YY]MM]DD]hhmm[.SS]``, ``-M <user list>``, ``-m`` (a b e), and
    scheduler_options["pbs"]; ``-l place=...:excl`` and ``-J <range>%<max subjobs>`` are
    in :meth:`PbsDialect._options`."""
    opts: list[tuple[str, str]] = []
    if spec.account is not None:
        opts.append(("-A", _safe(spec.account, "account")))
    return opts + qsub_site_options(spec, "pbs", _MAIL_POINTS, _safe)


def job_name(name: str | None) -> str:
    """A name qsub accepts: ``[A-Za-z0-9_.-]``, starting with a letter, at most 64
    characters (default ``remotejobs``)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name or "remotejobs")[:64]
    return cleaned if cleaned[:1].isalpha() else ("j" + cleaned)[:64]


def _safe(value: str, what: str) -> str:
    if not _SAFE.match(value):
        raise InvalidJobSpecError(f"The {what} {value!r} contains characters the pbs backend "
                                  "does not pass to qsub", hint="Use letters, digits and _ . / = + @ % -")
    return value


def _path(value: str, what: str) -> str:
    if not _PATH.match(value):
        raise InvalidJobSpecError(f"The {what} {value!r} cannot be given to qsub",
                                  hint="qsub reads a ':' as host:path; use a path without ':'")
    return value


def depend_value(group: DependencyGroup) -> str:
    """``type:id[:id...][,type:id...]`` for ``-W depend=`` (qsub(1B) ``depend=<type>:<arg
    list>[,<type>:<arg list>...]``: every listed dependency must hold; PBS has no "or")."""
    if group.join != "all":
        raise InvalidJobSpecError("PBS dependencies cannot express 'any' (an or of conditions)",
                                  hint="Use a DependencyGroup with join='all', or a workflow condition")
    bad = [i for c in group.clauses for i in c.job_ids if not is_job_id(i)]
    if bad:
        raise InvalidJobSpecError(f"Not PBS job ids in depends_on: {', '.join(map(repr, bad))} "
                                  f"(expected {ID_FORMS})")
    return ",".join(":".join([c.condition, *c.job_ids]) for c in group.clauses)


def _array(spec: str) -> str:
    """``X-Y`` with X < Y: the only form of ``-J`` the JobSpec grammar and PBS share
    (qsub(1B) ``-J <range>``: ``X-Y[:Z]``; a single index or a list is refused by PBS)."""
    match = re.fullmatch(r"(\d+)-(\d+)", spec)
    if not match or int(match.group(1)) >= int(match.group(2)):
        raise InvalidJobSpecError(f"PBS job arrays are one range X-Y with X < Y, not {spec!r}",
                                  hint="Give array='1-10' (lists and single indices are not PBS arrays)")
    return spec


#: The qstat attributes the dialect reads (``_states``, listings): the JSON parser keeps only these.
_ATTRIBUTES = frozenset({"job_state", "Job_Name", "Job_Owner", "queue", "qtime", "ctime", "stime", "obittime",
                         "Exit_status", "comment", "Resource_List.walltime", "resources_used.walltime"})


class PbsDialect(SchedulerDialect[PbsSettings]):
    """qsub/qstat/qdel for PBS Professional (13+, and 12 with ``status_format="text"``)
    and OpenPBS.

    :ivar status_format: ``json`` asks ``qstat -f -F json``, ``text`` asks ``qstat -f``;
        ``auto`` declares both probes, so that a resource whose qstat has no ``-F`` asks
        with text from then on.
    """

    name: ClassVar[str] = "pbs"
    job_id_expr: ClassVar[str] = '"${PBS_JOBID:-unknown}"'
    #: N[.server], N[].server, N[i].server (:mod:`remotejobs_pbs._ids`)
    job_id_pattern: ClassVar[re.Pattern[str]] = _ID
    state_map = STATE_MAP
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.FILE_TRANSFER, Capability.WALLTIME, Capability.ARRAYS, Capability.DEPENDENCIES}
    )
    spec_fields: ClassVar[frozenset[str]] = SPEC_FIELDS

    def __init__(self, bin_dir: str = "", status_format: Literal["auto", "json", "text"] = "auto") -> None:
        super().__init__(bin_dir=bin_dir)
        self.status_format = status_format

    @classmethod
    def from_settings(cls, settings: PbsSettings) -> Self:
        return cls(bin_dir=settings.bin_dir, status_format=settings.status_format)

    # -- ids ----------------------------------------------------------------------
    @staticmethod
    def check_id(job_id: str) -> str:
        """``job_id`` unchanged when it is a PBS id; JobNotFoundError otherwise (no PBS
        server could know it, so no command is run for it)."""
        if not is_job_id(job_id):
            raise JobNotFoundError(job_id, message=f"{job_id!r} is not a PBS job id ({ID_FORMS})")
        return job_id

    # -- submit -------------------------------------------------------------------
    def _options(self, spec: JobSpec) -> list[tuple[str, str]]:
        opts = [("-N", job_name(spec.name))]
        queue = reservation_queue(spec) or (spec.queue and _safe(spec.queue, "queue"))
        if queue:
            opts.append(("-q", queue))
        opts.append(("-l", f"select={chunk(spec)}"))
        # qsub(1B) "-l place=[arrangement][:sharing]": scatter = one chunk per host, excl = no other job.
        place = ":".join(p for p in ("scatter" if spec.nodes > 1 else "", "excl" if spec.exclusive else "") if p)
        if place:
            opts.append(("-l", f"place={place}"))
        if spec.walltime is not None:
            total = math.ceil(spec.walltime.total_seconds())
            opts.append(("-l", f"walltime={total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"))
        if spec.array:  # qsub(1B) "-J <range> [%<max subjobs>]"
            opts.append(("-J", _array(spec.array) + (f"%{spec.array_limit}" if spec.array_limit else "")))
        if spec.depends_on is not None:
            opts.append(("-W", "depend=" + depend_value(DependencyGroup.of(spec.depends_on))))
        return opts + site_options(spec)

    def directives(self, spec: JobSpec, ctx: ScriptContext) -> list[str]:
        """``#PBS`` lines for the resource options (the command line repeats them and wins;
        the output paths are only on the command line)."""
        return [f"#PBS {flag} {value}".rstrip() for flag, value in self._options(spec)]

    def submit_command(self, spec: JobSpec, ctx: ScriptContext, script_path: str) -> Command:
        argv = [self.cmd("qsub")]
        for flag, value in self._options(spec):
            argv += [flag, value] if value else [flag]
        argv += ["-o", _path(ctx.stdout, "stdout path")]
        if ctx.stderr == ctx.stdout:
            argv += ["-j", "oe"]
        else:
            argv += ["-e", _path(ctx.stderr, "stderr path")]
        return Command((*argv, _path(script_path, "script path")))

    def parse_submit(self, result: CommandResult) -> str:
        """The id qsub printed (``123.server`` or ``123[].server``)."""
        if result.exit_status != 0:
            text = result.output.strip() or f"qsub exited with status {result.exit_status}"
            raise SubmissionError(f"qsub refused the job: {text[:500]}",
                                  transient=any(t in text for t in _TRANSIENT))
        lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
        if not lines or not is_job_id(lines[-1]):
            raise SchedulerError("qsub printed no PBS job id", command=result.argv,
                                 exit_status=result.exit_status, output=result.output)
        return lines[-1]

    # -- status -------------------------------------------------------------------
    def status_command(self, ids: Sequence[str], json: bool | None = None) -> Command:
        """``qstat -f -F json -x -t ids``; ``qstat -f -x -t ids`` with ``json=False`` or, by
        default, ``status_format = "text"``. Ids are checked against the PBS grammar."""
        fmt = ("-F", "json") if (self.status_format != "text" if json is None else json) else ()
        return Command.of(self.cmd("qstat"), "-f", *fmt, "-x", "-t", *(self.check_id(i) for i in ids))

    def status_probes(self) -> tuple[StatusProbe, ...]:
        """``qstat-json`` (unavailable where qstat has no ``-F``) and/or ``qstat-f`` text,
        by ``status_format``; both list all jobs (the resource keeps the user's) and answer
        with :meth:`answer` (arrays' subjobs to settle, ids a JSON answer left out)."""
        return format_probes(self.status_format, structured=("json", "qstat-json"), text="qstat-f",
                             command=lambda json, ids: self.status_command(ids, json), parse=self.parse_status,
                             parse_list=self.parse_jobs, unavailable=_BAD_OPTION,
                             parse_answer=self.answer)

    def needs_marker(self, info: JobInfo) -> bool:
        """A finished job without a conclusive exit status (see :func:`_states.needs_marker`);
        never an array's aggregate (its subjobs are settled one by one by the resource)."""
        return needs_marker(info) and "[]" not in info.id

    def settle(self, job_id: str, info: JobInfo | None, marker: str | None) -> JobInfo | None:
        """See :func:`_states.resolve`."""
        return resolve(job_id, info, marker)

    def _records(self, result: CommandResult) -> list[dict[str, str]]:
        stderr = [line for line in result.stderr.splitlines() if line.strip()]
        expected = all(any(t in line for t in _UNKNOWN + _FINISHED) for line in stderr)
        if result.exit_status not in (0, UNKJOBID_EXIT, HISTJOBID_EXIT) or not expected:
            raise SchedulerError("qstat failed", command=result.argv, exit_status=result.exit_status,
                                 output=result.output,
                                 transient=any(t in result.output for t in _TRANSIENT))
        text = result.stdout.lstrip()
        if text.startswith(("<?xml", "<Data")):
            raise SchedulerError("This server answers qstat -x with Torque's XML: it is a Torque "
                                 "server, not PBS Professional/OpenPBS", command=result.argv,
                                 output=result.output[:300], hint='Use backend = "torque" for it')
        try:
            return parse_json(text, _ATTRIBUTES) if text.startswith("{") else parse_text(text)
        except ValueError as exc:
            raise SchedulerError(f"Could not understand the qstat output: {exc}", command=result.argv,
                                 exit_status=result.exit_status, output=result.output,
                                 hint='If the JSON is malformed, set status_format = "text"') from exc

    def answer(self, result: CommandResult, ids: Sequence[str]) -> ProbeAnswer:
        """The asked plain ids and subjobs (``jobs``), the subjobs of each asked array id
        (``elements``: the resource settles them with their own exit markers, whose
        ``$PBS_JOBID`` is ``123[4].server``, then aggregates), and (``unanswered``) the ids a
        ``qstat -F json`` answer neither shows nor names as unknown on stderr: OpenPBS built
        from master after 23.06 prints only the first of several jobs in JSON
        (openpbs/openpbs issue #2672, "qstat does not return all jobs when output format is
        JSON"); the resource asks for these again with the text probe."""
        jobs, arrays = self.status_parts(result, ids)
        unanswered: tuple[str, ...] = ()
        if "json" in result.argv:
            told = result.stderr
            unanswered = tuple(i for i in ids if i not in jobs and i not in arrays and key(i) not in told)
        return ProbeAnswer(jobs, arrays, unanswered)

    @collector_paused
    def status_parts(self, result: CommandResult, ids: Sequence[str]
                     ) -> tuple[dict[str, JobInfo], dict[str, list[JobInfo]]]:
        """``(jobs, arrays)``: infos of the asked plain ids and subjobs (matched on the part
        before the first ``.``, keyed by the asked id), and for each asked array id the
        infos of its subjobs (ids as qstat shows them, as ``$PBS_JOBID`` in the job).
        Unknown ids are left out."""
        rows = self._records(result)
        asked = {key(i): i for i in ids}
        jobs: dict[str, JobInfo] = {}
        arrays: dict[str, list[JobInfo]] = {}
        parents = [array_of(r["Job_Id"]) for r in rows]
        with_subjobs = set(parents)
        for row, parent_key in zip(rows, parents, strict=True):
            row_key = key(row["Job_Id"])
            parent = asked.get(parent_key or "")
            if parent is not None:
                arrays.setdefault(parent, []).append(info_from_attrs(row["Job_Id"], row))
            if row_key in asked and row_key not in with_subjobs:
                jobs[asked[row_key]] = info_from_attrs(asked[row_key], row)
        return jobs, arrays

    @collector_paused
    def parse_status(self, result: CommandResult, ids: Sequence[str]) -> dict[str, JobInfo]:
        """Infos keyed by the asked ids; an asked array id gets the aggregate of its
        subjobs (:func:`remotejobs.scheduler.arrays.aggregate_array`). Finished jobs
        without a conclusive exit status are UNKNOWN with native_state F (see
        :func:`_states.needs_marker`); the resource settles them before aggregating."""
        jobs, arrays = self.status_parts(result, ids)
        jobs.update({array: aggregate_array(array, elements) for array, elements in arrays.items()})
        return jobs

    def jobs_command(self, user: str) -> Command:
        return self.status_command(())

    @collector_paused
    def parse_jobs(self, result: CommandResult, user: str) -> list[JobInfo]:
        """Every job and array of ``user`` (``Job_Owner`` before the ``@``), subjobs
        folded into their array, with ids as qstat shows them."""
        rows = [r for r in self._records(result) if r.get("Job_Owner", "").split("@")[0] == user]
        tops = [r["Job_Id"] for r in rows if array_of(r["Job_Id"]) is None]
        return list(self.parse_status(CommandResult(argv=result.argv, exit_status=0,
                                                    stdout=result.stdout, stderr=""), tops).values())

    # -- cancel -------------------------------------------------------------------
    def cancel_command(self, job_id: str) -> Command:
        return Command.of(self.cmd("qdel"), self.check_id(job_id))

    def parse_cancel(self, result: CommandResult, job_id: str) -> None:
        """Silent exit 0: deleted. ``Job has finished`` or ``Request invalid for state of
        job`` (exiting): already over, a no-op. ``Unknown Job Id``, or another user's job
        (``Unauthorized Request``): JobNotFoundError."""
        text = result.output
        if result.exit_status == 0:
            return
        if any(t in text for t in _FINISHED) or "Request invalid for state of job" in text:
            return
        if result.exit_status == UNKJOBID_EXIT or any(t in text for t in _UNKNOWN):
            raise JobNotFoundError(job_id, message=f"Job {job_id!r} is not known to the PBS server")
        if result.exit_status == PERM_EXIT or _NOT_MINE in text:
            raise JobNotFoundError(job_id, message=f"Job {job_id!r} is not one of this user's jobs")
        raise SchedulerError(f"qdel failed for job {job_id!r}", command=result.argv,
                             exit_status=result.exit_status, output=text)
