"""The Torque dialect: pure qsub/qstat/qdel argv builders and output parsers.

Written against Torque's commands (github.com/adaptivecomputing/torque ``src/cmds/qsub_functions.c``,
``qstat.c``, ``qdel.c``) and Slurm's torque wrappers (SchedMD/slurm ``contribs/torque/qsub.pl``,
``qstat.pl``, ``qdel.pl``), and tested with golden outputs of both (real Torque outputs:
tests/golden/real/).

Choices forced by the Slurm wrapper (its source, ``qsub`` builds one
shell command line from the option values and runs it with backticks):

- every value put on the qsub command line must be shell-inert, so job names are reduced
  to ``[A-Za-z0-9_.-]`` and paths/queues with other characters are refused
  (:class:`InvalidJobSpecError`) instead of being handed to a shell;
- neither ``-d`` (not a wrapper option) nor ``#PBS -d`` (sbatch's #PBS translation turns
  it into an option sbatch rejects: "sbatch: invalid option -- 'd'") is usable, so the
  working directory is set by the script body's ``cd``; the environment is exported by the
  script body too, not with ``-v`` (whose comma-separated syntax cannot carry every value);
- ``-j`` is given only as ``-j oe`` when both streams go to one file: the wrapper drops
  ``-e`` whenever ``-j`` has any value, even ``n``;
- the wrapper prints bare ids and its jobs see no ``PBS_JOBID``, hence ``job_id_expr``.

Ids are kept exactly as qsub printed them; a qstat line is matched to an asked id by the
part before the first ``.`` (``123``, ``123[]``, ``123[4]``): qsub may print a longer server
name than qstat shows (the wrapper prints none).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from typing import ClassVar, Literal, Self

from remotejobs._gcpause import collector_paused
from remotejobs.errors import InvalidJobSpecError, JobNotFoundError, SchedulerError, SubmissionError
from remotejobs.models import Capability, DependencyGroup, JobInfo, JobSpec
from remotejobs.scheduler.dialect import Command, SchedulerDialect, ScriptContext
from remotejobs.scheduler.probes import StatusProbe, format_probes
from remotejobs.scheduler.site import feature_names, qsub_site_options
from remotejobs.transport.base import CommandResult
from remotejobs_torque._qstat_text import MALFORMED, parse_full
from remotejobs_torque._qstat_xml import parse_xml
from remotejobs_torque._states import STATE_MAP, info_from_attrs, needs_marker, resolve
from remotejobs_torque.settings import TorqueSettings

__all__ = ["TorqueDialect", "depend_value", "id_key"]

log = logging.getLogger(__name__)

# "123", "123.server.domain", arrays "123[]" and elements "123[4]" (with a suffix or
# not). Never "all"/"ALL" (qdel deletes every job, adaptivecomputing/torque
# src/cmds/qdel.c) and never anything starting with "-".
_ID = re.compile(r"[1-9][0-9]{0,18}(\[[0-9]{0,18}\])?(\.[A-Za-z0-9_-]{1,63}){0,8}")
_SAFE = re.compile(r"^[A-Za-z0-9_./:=,+@%-]+$")
_UNKNOWN_ID = ("Unknown Job Id", "nonexistent job id")
_BAD_OPTION = ("invalid option", "Unknown option", "illegal option")
UNKJOBID_EXIT = 153  # PBSE_UNKJOBID 15001 & 0xFF
# PBSE_PERM 15007 "Unauthorized Request": another user's job (openpbs src/include/pbs_error.h,
# torque src/include/pbs_error_db.h); to this user such a job does not exist.
PERM_EXIT = 159  # 15007 & 0xFF
_NOT_MINE = "Unauthorized Request"
_HEADER_TEXT = "Job Id:"

#: The qstat attributes the dialect reads (``_states``, listings): the XML parser keeps only these.
_ATTRIBUTES = frozenset({"Job_Id", "job_state", "Job_Name", "Job_Owner", "queue", "qtime", "ctime", "mtime",
                         "start_time", "comp_time", "exit_status", "Resource_List.walltime",
                         "resources_used.walltime"})


def id_key(job_id: str) -> str:
    """The comparable part of a Torque id: everything before the first ``.``."""
    return job_id.strip().split(".", 1)[0]


def _safe(value: str, what: str) -> str:
    if not _SAFE.match(value):
        raise InvalidJobSpecError(
            f"The {what} {value!r} contains characters the torque backend does not pass to qsub",
            hint="Use only letters, digits and _ . / : = , + @ % - (Slurm's qsub wrapper runs "
            "its options through a shell)",
        )
    return value


def depend_value(group: DependencyGroup) -> str:
    """``type:id[:id...][,type:id...]`` for ``-W depend=`` (qsub(1B) "depend=dependency_list":
    every listed dependency must hold; Torque has no "or")."""
    if group.join != "all":
        raise InvalidJobSpecError("Torque dependencies cannot express 'any' (an or of conditions)",
                                  hint="Use a DependencyGroup with join='all', or a workflow condition")
    return ",".join(":".join([c.condition, *(_safe(i, "dependency id") for i in c.job_ids)])
                    for c in group.clauses)


#: The JobSpec site fields this dialect maps (:func:`site_options`); Torque has no QoS
#: and no reservations of its own (both are Moab's), so ``qos``/``reservation`` are refused.
SPEC_FIELDS = frozenset({"account", "constraint", "exclusive", "cores_per_process", "gpus_per_node",
                         "memory_mb_per_process", "nice", "begin", "email", "email_on", "array_limit",
                         "scheduler_options"})
# qsub(1B) of Torque (adaptivecomputing/torque doc/man1/qsub.1.in) "-m": b begins, e
# terminates, f "terminates with a non-zero exit code".
_MAIL_POINTS = {"begin": "b", "end": "e", "fail": "f"}


def node_spec(spec: JobSpec) -> str:
    """``nodes=N:ppn=P[:gpus=G][:feature...]`` (Torque's node spec: properties after the
    count, ``gpus=`` parsed by adaptivecomputing/torque src/server/node_manager.c). ``ppn``
    counts cores: processes_per_node x cores_per_process."""
    ppn = spec.processes_per_node * (spec.cores_per_process or 1)
    parts = [f"nodes={spec.nodes}", f"ppn={ppn}"]
    if spec.gpus_per_node is not None:
        parts.append(f"gpus={spec.gpus_per_node}")
    return ":".join(parts + feature_names(spec, "torque"))


def site_options(spec: JobSpec) -> list[tuple[str, str]]:
    """qsub options for the site fields (``""`` value: a bare flag), from Torque's qsub(1B)
    (adaptivecomputing/torque doc/man1/qsub.1.in): ``-A account_string``, ``-n``
    (node-exclusive), ``-p priority`` (-1024..+1023; given as -nice), ``-a
    [[[[CC]YY]MM]DD]hhmm[.SS]``, ``-M user_list``, ``-m`` (b/e/f). ``pmem`` (per-process
    memory) is in ``-l`` (doc/man7/pbs_resources_linux.7.in); ``%N`` on ``-t`` is the
    array slot limit (qsub.1.in "-t", README.array_changes)."""
    opts: list[tuple[str, str]] = []
    if spec.account is not None:
        opts.append(("-A", _safe(spec.account, "account")))
    if spec.exclusive:
        opts.append(("-n", ""))
    return opts + qsub_site_options(spec, "torque", _MAIL_POINTS, _safe)


def job_name(name: str | None) -> str:
    """A name every Torque flavour accepts: ``[A-Za-z0-9_.-]``, starting with a letter,
    at most 64 characters (default ``remotejobs``)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name or "remotejobs")[:64]
    return cleaned if cleaned[:1].isalpha() else ("j" + cleaned)[:64]


def _pbs_pro(result: CommandResult, evidence: str) -> SchedulerError:
    """The error for a PBS Professional / OpenPBS server: there ``qstat -x`` means "include
    finished jobs" and prints text (openpbs ``src/cmds/qstat.c``, ``doc/man1/qstat.1B``),
    finished jobs are ``F`` with ``Exit_status``, so this backend would never settle them."""
    return SchedulerError(
        f"This server looks like PBS Professional or OpenPBS, not Torque: {evidence}",
        command=result.argv, output=result.output[:300],
        hint='Use backend = "pbs" (package remotejobs-pbs) for PBS Professional and OpenPBS')


#: Past this many ids, status lists every job in XML (qstat -f -x) and keeps the asked ones.
BULK_ABOVE = 100


class TorqueDialect(SchedulerDialect[TorqueSettings]):
    """qsub/qstat/qdel for Torque 2.4-6.x and Slurm's ``slurm-wlm-torque`` wrappers.

    :ivar status_format: ``xml`` asks ``qstat -f -x``, ``text`` asks ``qstat -f -1``;
        ``auto`` declares both probes, so that a resource whose server rejects ``-x``
        asks with text from then on.
    """

    name: ClassVar[str] = "torque"
    job_id_expr: ClassVar[str] = '"${PBS_JOBID:-${SLURM_JOB_ID:-unknown}}"'
    state_map = STATE_MAP
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.FILE_TRANSFER, Capability.WALLTIME, Capability.ARRAYS, Capability.DEPENDENCIES}
    )
    job_id_pattern: ClassVar[re.Pattern[str]] = _ID
    spec_fields: ClassVar[frozenset[str]] = SPEC_FIELDS

    def __init__(self, bin_dir: str = "", status_format: Literal["auto", "xml", "text"] = "auto") -> None:
        super().__init__(bin_dir=bin_dir)
        self.status_format = status_format

    @classmethod
    def from_settings(cls, settings: TorqueSettings) -> Self:
        return cls(bin_dir=settings.bin_dir, status_format=settings.status_format)

    # -- submit -------------------------------------------------------------------
    def _options(self, spec: JobSpec, ctx: ScriptContext) -> list[tuple[str, str]]:
        opts = [("-N", job_name(spec.name))]
        if spec.queue:
            opts.append(("-q", _safe(spec.queue, "queue")))
        resources = [node_spec(spec)]
        if spec.walltime is not None:
            total = math.ceil(spec.walltime.total_seconds())
            resources.append(f"walltime={total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}")
        if spec.memory_mb is not None:
            resources.append(f"mem={spec.memory_mb}mb")
        if spec.memory_mb_per_process is not None:
            resources.append(f"pmem={spec.memory_mb_per_process}mb")
        opts.append(("-l", ",".join(resources)))
        opts.append(("-o", _safe(ctx.stdout, "stdout path")))
        if ctx.stderr == ctx.stdout:
            opts.append(("-j", "oe"))
        else:
            # No "-j n": the wrapper drops -e when -j has any value (Torque's default is n).
            opts.append(("-e", _safe(ctx.stderr, "stderr path")))
        if spec.array:
            opts.append(("-t", spec.array + (f"%{spec.array_limit}" if spec.array_limit else "")))
        if spec.depends_on is not None:
            opts.append(("-W", "depend=" + depend_value(DependencyGroup.of(spec.depends_on))))
        return opts + site_options(spec)

    def directives(self, spec: JobSpec, ctx: ScriptContext) -> list[str]:
        """``#PBS`` lines for the options (the command line repeats them and wins)."""
        return [f"#PBS {flag} {value}".rstrip() for flag, value in self._options(spec, ctx)]

    def submit_command(self, spec: JobSpec, ctx: ScriptContext, script_path: str) -> Command:
        argv = [self.cmd("qsub")]
        for flag, value in self._options(spec, ctx):
            argv += [flag, value] if value else [flag]
        return Command((*argv, _safe(script_path, "script path")))

    def parse_submit(self, result: CommandResult) -> str:
        """The id line qsub printed (``123.server``, ``123[].server`` or a bare ``123``)."""
        lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
        if result.exit_status != 0:
            text = result.output or f"qsub exited with status {result.exit_status}"
            raise SubmissionError(f"qsub refused the job: {text[:500]}",
                                  transient="cannot connect to server" in text)
        if not lines or not _ID.fullmatch(lines[-1]):
            raise SchedulerError("qsub printed no job id", command=result.argv,
                                 exit_status=result.exit_status, output=result.output)
        return lines[-1]

    # -- status -------------------------------------------------------------------
    def status_command(self, ids: Sequence[str]) -> Command:
        """``qstat -f -x`` (``-f -1`` with ``status_format = "text"``)."""
        return self._qstat(self.status_format != "text", ids)

    def _qstat(self, xml: bool, ids: Sequence[str]) -> Command:
        """``qstat -f -x -- <ids>`` (or ``-f -1``); no ids: every job. Ids are checked
        against the id grammar and follow ``--`` (both qstats parse options with getopt:
        Torque's C getopt, the wrapper's Getopt::Long)."""
        flags = ("-f", "-x") if xml else ("-f", "-1")
        if not ids:
            return Command.of(self.cmd("qstat"), *flags)
        valid = [i for i in ids if self.valid_id(i)]
        if not valid:
            raise JobNotFoundError(",".join(ids)[:100], message="No valid Torque job id to ask for")
        return Command.of(self.cmd("qstat"), *flags, "--", *valid)

    def status_probes(self) -> tuple[StatusProbe, ...]:
        """``qstat-x`` (unavailable where the server rejects ``-x``) and/or ``qstat-f``,
        by ``status_format``; both parse either layout and list all jobs. The text listing
        holds every user's records with job names printed verbatim (forgeable, see
        _qstat_text): the resource confirms it by asking for the listed ids."""
        return format_probes(self.status_format, structured=("xml", "qstat-x"), text="qstat-f",
                             command=self._qstat, parse=self.parse_status, parse_list=self.parse_jobs,
                             unavailable=_BAD_OPTION, confirm_text_list=True,
                             # Past BULK_ABOVE ids, the XML probe lists every job (one server request,
                             # where qstat asks the server once per id) and keeps the asked ids; never
                             # the text one (other users' records in it are forgeable).
                             bulk_command=lambda _user, _ids: self._qstat(True, ()), bulk_above=BULK_ABOVE)

    def needs_marker(self, info: JobInfo) -> bool:
        """A C job without a conclusive exit status (see :func:`_states.needs_marker`)."""
        return needs_marker(info)

    def settle(self, job_id: str, info: JobInfo | None, marker: str | None) -> JobInfo | None:
        """See :func:`_states.resolve`."""
        return resolve(job_id, info, marker)

    def check_xml_answer(self, result: CommandResult) -> None:
        """After asking ``qstat -f -x``: a text answer comes from PBS Professional/OpenPBS
        (whose ``-x`` adds finished jobs), never from Torque (XML) or Slurm's wrapper
        (which rejects ``-x``). :raises SchedulerError: naming PBS Pro and ``pbs``."""
        text = result.stdout.lstrip()
        if text.startswith(_HEADER_TEXT) and "-x" in result.argv:
            raise _pbs_pro(result, "it answered qstat -f -x with text, not Torque's XML")

    def _records(self, result: CommandResult) -> list[dict[str, str]]:
        stderr = [line for line in result.stderr.splitlines() if line.strip()]
        known_errors = all(any(t in line for t in _UNKNOWN_ID) for line in stderr)
        if result.exit_status not in (0, UNKJOBID_EXIT) or not known_errors:
            raise SchedulerError("qstat failed", command=result.argv,
                                 exit_status=result.exit_status, output=result.output)
        self.check_xml_answer(result)
        text = result.stdout
        xml = text.lstrip().startswith(("<?xml", "<Data"))
        try:
            jobs = parse_xml(text, _ATTRIBUTES) if xml else parse_full(text)
        except ValueError as exc:
            raise SchedulerError(f"Could not understand the qstat output: {exc}",
                                 command=result.argv, exit_status=result.exit_status,
                                 output=result.output) from exc
        if any(job.get("job_state") == "F" for job in jobs):
            raise _pbs_pro(result, "it shows a job in state F (PBS Pro's finished state; Torque's is C)")
        return jobs

    def _readable(self, result: CommandResult, *, unique: bool = True) -> list[tuple[str, dict[str, str]]]:
        """The records that can be read (and, with ``unique``, appear once), each with its
        :func:`id_key`. Malformed records (maybe another user's hostile job name) are logged
        and left out instead of failing the query; an id that two records claim is left out
        too (one is forged)."""
        records: list[tuple[str, dict[str, str]]] = []
        seen: dict[str, int] = {}
        valid = self.job_id_pattern.fullmatch
        for attrs in self._records(result):
            if MALFORMED in attrs:
                log.warning("qstat printed an unreadable record (job %r): %s; ignored",
                            attrs.get("Job_Id", "")[:80], attrs[MALFORMED])
            elif valid(attrs["Job_Id"]) is None:
                log.warning("qstat printed a record with the malformed id %r; ignored", attrs["Job_Id"][:80])
            else:
                key = id_key(attrs["Job_Id"])
                records.append((key, attrs))
                seen[key] = seen.get(key, 0) + 1
        if not unique or len(seen) == len(records):
            return records
        twice = {k for k, n in seen.items() if n > 1}
        for key in sorted(twice):
            log.warning("qstat printed %d records for job %r: ambiguous (a forged record?), ignored",
                        seen[key], key[:80])
        return [(key, attrs) for key, attrs in records if key not in twice]

    @collector_paused
    def parse_status(self, result: CommandResult, ids: Sequence[str]) -> dict[str, JobInfo]:
        """Infos keyed by the asked ids; unknown ids (stderr ``Unknown Job Id``, exit 153,
        or silently absent with the wrapper) are left out. C jobs without an exit status
        are UNKNOWN with native_state ``C`` (see :func:`_states.needs_marker`). Records
        that cannot be read, or claim an id twice, are left out (see :meth:`_readable`)."""
        wanted = {id_key(i): i for i in ids}
        infos: dict[str, JobInfo] = {}
        for key, attrs in self._readable(result):
            asked = wanted.get(key)
            if asked is not None:
                infos[asked] = info_from_attrs(asked, attrs)
        return infos

    def jobs_command(self, user: str) -> Command:
        return self.status_command(())

    @collector_paused
    def parse_jobs(self, result: CommandResult, user: str) -> list[JobInfo]:
        """Every job of ``user`` (``Job_Owner`` before the ``@``), with ids as shown. In the
        text layouts this listing may hold records forged by another user's job name: the
        text probe is ``confirm_list`` (the resource asks again for the ids)."""
        return [info_from_attrs(a["Job_Id"], a) for _, a in self._readable(result, unique=False)
                if a.get("Job_Owner", "").split("@")[0] == user]

    # -- cancel -------------------------------------------------------------------
    def cancel_command(self, job_id: str) -> Command:
        """``qdel -- <id>`` for an id in the grammar (never ``all``, never an option)."""
        if not self.valid_id(job_id):
            raise JobNotFoundError(job_id, message=f"{job_id[:100]!r} is not a Torque job id")
        return Command.of(self.cmd("qdel"), "--", job_id)

    def cancel_not_found_may_be_finished(self, result: CommandResult) -> bool:
        """The wrapper's qdel exits 1 silently both for unknown and finished jobs."""
        return result.exit_status == 1 and not result.output.strip()

    def parse_cancel(self, result: CommandResult, job_id: str) -> None:
        """Silent exit 0: cancelled. ``invalid state ... COMPLETE``: already finished (no-op).
        ``Unknown Job Id`` / ``nonexistent job id`` / exit 153, or the wrapper's silent
        exit 1, or another user's job (``Unauthorized Request``): JobNotFoundError (the resource
        re-checks the silent case)."""
        text = result.output
        if result.exit_status == 0 and not text.strip():
            return
        if "invalid state for job" in text or "Request invalid for state of job" in text:
            return
        if (result.exit_status == UNKJOBID_EXIT or any(t in text for t in _UNKNOWN_ID)
                or self.cancel_not_found_may_be_finished(result)):
            raise JobNotFoundError(job_id, message=f"Job {job_id!r} is not known to the Torque server")
        if result.exit_status == PERM_EXIT or _NOT_MINE in text:
            raise JobNotFoundError(job_id, message=f"Job {job_id!r} is not one of this user's jobs")
        raise SchedulerError(f"qdel failed for job {job_id!r}", command=result.argv,
                             exit_status=result.exit_status, output=text)
