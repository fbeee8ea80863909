"""IBM Spectrum LSF's CLI as a pure :class:`SchedulerDialect`.

Facts (sources: IBM bsub.1/bjobs.1/bkill.1 = https://www.ibm.com/docs/en/SSWRJV_10.1.0/lsf_command_ref/<name>.html;
IBM 'About job states' = https://www.ibm.com/docs/en/SSWRJV_10.1.0/lsf_admin/job_states_lsf.html;
see also tests/cluster/emulators/lsf/README.md):

- Submit: ``bsub -J <name> < script``; the script carries ``#BSUB`` directives, which LSF
  honours for a script on stdin whatever ``LSB_BSUB_PARSE_SCRIPT`` says (IBM bsub.1). Options:
  ``-q -n -R "span[ptile=k]" -W [h:]m -M <limit in LSF_UNIT_FOR_LIMITS> -cwd -o -e -w``.
  Array elements write ``<stdout>-%I`` (``%I`` = element index, IBM bsub.1).
- Banner ``Job <N> is submitted to [default ]queue <q>.`` (IBM bsub.1), maybe after
  ``Cannot connect to LSF. Please wait ...`` lines; refusals are ``... Job not submitted.``.
- Status: one ``bjobs -a -o ...`` call for all ids, delimited (default: works on every
  LSF with ``-o``) or ``-json`` (LSF 10.1); see :mod:`remotejobs_lsf._bjobs`.
- States (IBM 'About job states'): PEND/PROV/WAIT queued, PSUSP held, RUN running, USUSP/SSUSP suspended,
  DONE completed, EXIT failed (cancelled for ``TERM_OWNER``/``TERM_ADMIN``, timeout for
  ``TERM_RUNLIMIT``), UNKWN/ZOMBI unknown.
- Cancel: ``bkill``; ``Job has already finished`` is a no-op, ``No matching job found``
  and ``User permission denied`` mean JobNotFoundError (IBM bkill.1).
- Dependencies: afterok -> ``done()``, afternotok -> ``exit()``, afterany -> ``ended()``,
  after -> ``started()``; the ids of a clause joined with ``&&``, clauses with ``&&``
  (group ``all``) or ``||`` (group ``any``) (IBM bsub.1). ``!`` is not written: LSF evaluates
  ``!cond`` at each scheduling pass and dispatches as soon as it holds, i.e. while the
  other job is still pending; a negated workflow condition becomes ``exit()``/``done()``.
"""

from __future__ import annotations

import math
import re
import shlex
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import ClassVar, Literal, Self

from remotejobs._gcpause import collector_paused
from remotejobs.errors import JobNotFoundError, SchedulerError, SubmissionError
from remotejobs.models import Capability, DependencyGroup, JobInfo, JobSpec, JobState
from remotejobs.scheduler.dialect import Command, SchedulerDialect, ScriptContext
from remotejobs.scheduler.site import split_option
from remotejobs.transport.base import CommandResult
from remotejobs_lsf._bjobs import DELIMITER, FIELDS, Record, clean, parse_records, select, to_infos
from remotejobs_lsf.settings import LsfSettings

__all__ = ["LsfDialect", "dependency_expression", "format_runlimit", "lsf_job_name"]

_SUBMITTED = re.compile(r"Job <(\d+)> is submitted to (default )?queue <([^>]+)>")
_RETRY = "Cannot connect to LSF. Please wait ..."
_CONDITIONS = {"afterok": "done", "afternotok": "exit", "afterany": "ended", "after": "started"}
_UNIT_KB = {"KB": 1, "MB": 1024, "GB": 1024 * 1024}


#: The JobSpec site fields this dialect maps (:func:`site_options`). LSF has no QoS and
#: no niceness (``-sp`` is an absolute user priority, 1..MAX_USER_PRIORITY): refused.
SPEC_FIELDS = frozenset({"account", "reservation", "constraint", "exclusive", "cores_per_process",
                         "gpus_per_node", "memory_mb_per_process", "begin", "email", "email_on",
                         "array_limit", "scheduler_options"})
_IBM = "https://www.ibm.com/docs/en/spectrum-lsf/10.1.0?topic=bsub-options"


def begin_time(begin: datetime) -> str:
    """``-b [[year:][month:]day:]hour:minute`` in full (``YYYY:MM:DD:hh:mm``), rounded up
    to the minute so the job never starts before ``begin`` (bsub -b, IBM LSF 10.1 docs)."""
    naive = begin.replace(tzinfo=None)
    if naive.second or naive.microsecond:
        naive = naive.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return naive.strftime("%Y:%m:%d:%H:%M")


def resource_sections(spec: JobSpec, limit_unit: str = "MB") -> str:
    """One ``-R`` resource requirement string for ``spec``: its sections in LSF's order
    (``select[]`` first, then ``rusage[]``, ``span[]``, ``affinity[]``, separated by spaces:
    https://www.ibm.com/docs/en/SSWRJV_10.1.0/lsf_command_ref/bsub.__r.1.html). ``select``
    is the constraint, verbatim, in LSF's expression syntax; ``rusage[mem=N/task]`` the
    memory per process (per-task reservation, LSF 10.1.0.9+, units of LSF_UNIT_FOR_LIMITS);
    ``span[ptile=P]`` the processes per node; ``affinity[core(N)]`` N cores per task."""
    sections = []
    if spec.constraint is not None:
        sections.append(f"select[{spec.constraint}]")
    if spec.memory_mb_per_process is not None:
        amount = max(1, math.ceil(spec.memory_mb_per_process * 1024 / _UNIT_KB[limit_unit]))
        sections.append(f"rusage[mem={amount}/task]")
    if spec.nodes > 1 or spec.processes_per_node > 1:
        sections.append(f"span[ptile={spec.processes_per_node}]")
    if spec.cores_per_process is not None:
        sections.append(f"affinity[core({spec.cores_per_process})]")
    return " ".join(sections)


def site_options(spec: JobSpec) -> list[tuple[str, str]]:
    """bsub options for the site fields besides ``-R`` (:func:`resource_sections`) and
    ``-J`` (``""`` value: a bare flag). Syntax from the IBM Spectrum LSF 10.1 bsub
    reference (``_IBM``): ``-P project_name``, ``-U reservation_ID``, ``-x``, ``-gpu
    "num=N"`` (per host), ``-b``, ``-u mail_user``, ``-B`` (mail at dispatch), ``-N``
    (mail the job report when it finishes) or ``-Ne`` (only when it exits with failure);
    ``array_limit`` is the ``%N`` of ``-J "name[1-10]%N"`` (see :meth:`LsfDialect.options`).
    Per-task rusage (:func:`resource_sections`):
    https://www.ibm.com/docs/en/SSWRJV_10.1.0/lsf_release_notes/lsf_relnotes_resourcemanagement10.1.0.9.html;
    ``-Ne``: https://www.ibm.com/docs/en/SSWRJV_10.1.0/lsf_command_ref/bsub.__ne.1.html."""
    opts: list[tuple[str, str]] = []
    if spec.account is not None:
        opts.append(("-P", spec.account))
    if spec.reservation is not None:
        opts.append(("-U", spec.reservation))
    if spec.exclusive:
        opts.append(("-x", ""))
    if spec.gpus_per_node is not None:
        opts.append(("-gpu", f"num={spec.gpus_per_node}"))
    if spec.begin is not None:
        opts.append(("-b", begin_time(spec.begin)))
    if spec.email is not None:
        opts.append(("-u", spec.email))
        if "begin" in spec.email_on:
            opts.append(("-B", ""))
        if "end" in spec.email_on:
            opts.append(("-N", ""))
        elif "fail" in spec.email_on:
            opts.append(("-Ne", ""))
    for raw in spec.scheduler_options.get("lsf", ()):
        opts.append(split_option(raw))
    return opts


def lsf_job_name(name: str) -> str:
    """``name`` safe for ``-J``: control characters become spaces; ``[`` ``]`` (array
    syntax, IBM bsub.1) become ``(`` ``)``; surrounding spaces are trimmed (bjobs columns are
    read trimmed, so the name reported is exactly the name sent)."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in name)
    return text.replace("[", "(").replace("]", ")").strip()


def dependency_expression(group: DependencyGroup) -> str:
    """The ``-w`` expression for ``group`` (see the module doc)."""

    def clause(condition: str, ids: tuple[str, ...]) -> str:
        text = " && ".join(f"{_CONDITIONS[condition]}({_dep_target(i)})" for i in ids)
        return f"({text})" if len(ids) > 1 and group.join == "any" and len(group.clauses) > 1 else text

    joiner = " && " if group.join == "all" else " || "
    return joiner.join(clause(c.condition, c.job_ids) for c in group.clauses)


def format_runlimit(walltime: timedelta) -> str:
    """``-W [hour:]minute`` (IBM bsub.1), rounded up to whole minutes."""
    minutes = max(1, math.ceil(walltime.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}" if hours else str(minutes)


class LsfDialect(SchedulerDialect[LsfSettings]):
    """LSF's CLI. ``limit_unit``: the site's ``LSF_UNIT_FOR_LIMITS`` (for ``-M``);
    ``status_format``: ``delimited`` or ``json``; ``resource_requirement``: an ``-R`` string."""

    name: ClassVar[str] = "lsf"
    # "123" in a plain job, "123[4]" in an array element: exactly what status reports
    # (LSB_JOBINDEX is 0 outside arrays, IBM bsub.1 -o).
    job_id_expr: ClassVar[str] = (
        '"$LSB_JOBID$([ "${LSB_JOBINDEX:-0}" = 0 ] || printf \'[%s]\' "$LSB_JOBINDEX")"'
    )
    state_map: ClassVar[Mapping[str, JobState]] = {
        "PEND": JobState.QUEUED,
        "PROV": JobState.QUEUED,
        "WAIT": JobState.QUEUED,
        "PSUSP": JobState.HELD,
        "RUN": JobState.RUNNING,
        "USUSP": JobState.SUSPENDED,
        "SSUSP": JobState.SUSPENDED,
        "DONE": JobState.COMPLETED,
        "EXIT": JobState.FAILED,
        "UNKWN": JobState.UNKNOWN,
        "ZOMBI": JobState.UNKNOWN,
    }
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.FILE_TRANSFER, Capability.WALLTIME, Capability.ARRAYS, Capability.DEPENDENCIES,
         Capability.DEPENDENCY_ANY}
    )
    # "123" or an element "123[4]" (IBM bkill.1). Never "0": ``bkill 0`` means every job of the
    # user (IBM bkill.1), so 0 is not an id here.
    job_id_pattern: ClassVar[re.Pattern[str]] = re.compile(r"[1-9][0-9]{0,18}(\[[1-9][0-9]{0,18}\])?")
    spec_fields: ClassVar[frozenset[str]] = SPEC_FIELDS

    def __init__(self, bin_dir: str = "", limit_unit: Literal["KB", "MB", "GB"] = "MB",
                 status_format: Literal["json", "delimited"] = "delimited",
                 resource_requirement: str | None = None) -> None:
        super().__init__(bin_dir)
        self.limit_unit = limit_unit
        self.status_format = status_format
        self.resource_requirement = resource_requirement

    @classmethod
    def from_settings(cls, settings: LsfSettings) -> Self:
        return cls(bin_dir=settings.bin_dir, limit_unit=settings.limit_unit,
                   status_format=settings.status_format,
                   resource_requirement=settings.resource_requirement)

    # -- script -------------------------------------------------------------------
    def options(self, spec: JobSpec, ctx: ScriptContext) -> list[tuple[str, str]]:
        """bsub options for ``spec`` as (flag, value) pairs."""
        name = lsf_job_name(spec.name or "") or lsf_job_name(posix_basename(spec.executable))
        limit = f"%{spec.array_limit}" if spec.array_limit else ""
        opts = [("-J", f"{name}[{spec.array}]{limit}" if spec.array else name)]
        if spec.queue:
            opts.append(("-q", spec.queue))
        tasks = spec.nodes * spec.processes_per_node
        if tasks > 1:
            opts.append(("-n", str(tasks)))
        sections = resource_sections(spec, self.limit_unit)
        if sections:
            opts.append(("-R", sections))
        if self.resource_requirement:
            opts.append(("-R", self.resource_requirement))
        if spec.walltime is not None:
            opts.append(("-W", format_runlimit(spec.walltime)))
        if spec.memory_mb is not None:
            opts.append(("-M", str(max(1, math.ceil(spec.memory_mb * 1024 / _UNIT_KB[self.limit_unit])))))
        array = spec.array is not None
        opts += [("-cwd", ctx.workdir),
                 ("-o", ctx.stdout + ("-%I" if array and spec.stdout is None else "")),
                 ("-e", ctx.stderr + ("-%I" if array and spec.stderr is None else ""))]
        if spec.depends_on is not None:
            opts.append(("-w", dependency_expression(DependencyGroup.of(spec.depends_on))))
        return opts + site_options(spec)

    def directives(self, spec: JobSpec, ctx: ScriptContext) -> list[str]:
        return [f"#BSUB {flag} {shlex.quote(value)}" if value else f"#BSUB {flag}"
                for flag, value in self.options(spec, ctx)]

    # -- submit -------------------------------------------------------------------
    def submit_command(self, spec: JobSpec, ctx: ScriptContext, script_path: str) -> Command:
        """``bsub -J <name> < script`` (the script text on stdin, see module doc)."""
        name = self.options(spec, ctx)[0][1]
        return Command.of(self.cmd("bsub"), "-J", name, stdin=self.render_script(spec, ctx))

    def parse_submit(self, result: CommandResult) -> str:
        """The id from the banner (stdout or, with BSUB_STDERR, stderr). SubmissionError
        with LSF's message when it refused the job (transient when LSF was unreachable);
        SchedulerError for anything else."""
        match = _SUBMITTED.search(result.stdout) or _SUBMITTED.search(result.stderr)
        if match and result.exit_status == 0:
            return match.group(1)
        lines = [ln.strip() for ln in result.output.splitlines() if ln.strip() and ln.strip() != _RETRY]
        refusals = [ln for ln in lines if ln.endswith("Job not submitted.")]
        if refusals:
            raise SubmissionError(f"LSF refused the job: {' '.join(refusals)}",
                                  hint="Check the queue, limits and dependency in the message")
        if any(t in result.output for t in ("LSF is down", _RETRY)) and result.exit_status != 0:
            raise SubmissionError("LSF could not be reached; the job was not submitted", transient=True,
                                  hint="Try again later")
        raise SchedulerError("bsub did not report a job id", command=result.argv,
                             exit_status=result.exit_status, output=result.output,
                             hint="Check that bsub is on the PATH, or set bin_dir")

    # -- status -------------------------------------------------------------------
    def _bjobs(self, *args: str) -> Command:
        fields = " ".join(FIELDS)
        if self.status_format == "json":
            return Command.of(self.cmd("bjobs"), "-a", "-o", fields, "-json", *args)
        return Command.of(self.cmd("bjobs"), "-a", "-o", f"{fields} delimiter='{DELIMITER}'", "-noheader", *args)

    #: Past this many ids, ``bjobs -u <user>`` (same ``-o`` fields) instead of the ids:
    #: bjobs sends one query either way, and the user's listing avoids an argv that
    #: grows with the ids (see scheduler/probes.py).
    bulk_status_above: ClassVar[int | None] = 50

    def status_command(self, ids: Sequence[str]) -> Command:
        valid = [i for i in ids if self.valid_id(i)]
        if not valid:
            raise JobNotFoundError(",".join(ids)[:100], message="No valid LSF job id to ask for")
        return self._bjobs(*valid)

    @collector_paused
    def parse_status(self, result: CommandResult, ids: Sequence[str]) -> dict[str, JobInfo]:
        return select(parse_records(result, self.status_format == "json"), ids, self._infos)

    def jobs_command(self, user: str) -> Command:
        return self._bjobs("-u", user) if user else self._bjobs()

    @collector_paused
    def parse_jobs(self, result: CommandResult, user: str) -> list[JobInfo]:
        """Every element, plus one aggregate entry per job array (under the array's id)."""
        dash = self.status_format != "json"
        records = [r for r in parse_records(result, not dash) if not user or clean(r[3][3], dash) == user]
        arrays = sorted({r[1] for r in records if r[2]}, key=int)
        return self._infos(records) + list(select(records, arrays, self._infos).values())

    # -- cancel -------------------------------------------------------------------
    def cancel_command(self, job_id: str) -> Command:
        # No "--": the reference (IBM bkill.1) does not show bkill accepting it; the id is
        # checked against job_id_pattern instead, so it cannot be an option or "0".
        if not self.valid_id(job_id):
            raise JobNotFoundError(job_id, message=f"{job_id[:100]!r} is not an LSF job id")
        return Command.of(self.cmd("bkill"), job_id)

    def parse_cancel(self, result: CommandResult, job_id: str) -> None:
        """Success only when bkill said ``Job <job_id> is being terminated`` for this id."""
        text = result.output
        if "Job has already finished" in text:
            return
        if "No matching job found" in text:
            raise JobNotFoundError(job_id, message=f"LSF does not know job {job_id!r}")
        if "User permission denied" in text:
            raise JobNotFoundError(job_id, message=f"Job {job_id!r} is not one of this user's jobs")
        confirmed = re.search(rf"^Job <{re.escape(job_id)}> is being (terminated|signaled)$", text, re.M)
        if result.exit_status != 0 or not confirmed:
            raise SchedulerError("bkill failed", command=result.argv, exit_status=result.exit_status,
                                 output=text, transient=any(t in text for t in ("LSF is down", _RETRY)))

    def _infos(self, records: list[Record]) -> list[JobInfo]:
        return to_infos(records, self.state_map, dash=self.status_format != "json")


def posix_basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path


def _dep_target(job_id: str) -> str:
    """A job id for ``-w``: ``123`` or ``123[4]``; anything else is quoted as a name."""
    if re.fullmatch(r"\d+(\[\d+\])?", job_id):
        return job_id
    return '"' + job_id.replace('"', "") + '"'
