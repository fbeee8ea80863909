"""From PBS Professional / OpenPBS job attributes (and the job's exit marker) to JobInfo.

Facts used:

- state letters (``doc/man1/qstat.1B`` of openpbs/openpbs; PBS Reference Guide "Job
  States"): B array begun, E exiting, F finished, H held, M moved, Q queued, R running,
  S suspended, T in transit, U suspended (workstation busy), W waiting, X subjob finished;
- ``Exit_status`` (``src/include/job.h`` JOB_EXEC_* and ``src/resmom/linux/mom_start.c``,
  ``exiteval = WTERMSIG(statloc) + 0x100``): 0 success, 1-255 the job script's exit
  status, 256+N killed by signal N, negative: PBS could not run the job or killed it,
  -29 being JOB_EXEC_KILL_WALLTIME (``src/resmom/mom_main.c``: "walltime %lu exceeded
  limit %lu"); psij-python's PBS executor reads 265 (256+SIGKILL) as cancelled;
- times are ``ctime()`` text: ``qtime`` (queued), ``stime`` (started), ``obittime``
  (ended; ``src/cmds/qstat.c``'s list of time attributes).

A finished job whose exit status is absent (deleted before it ran) or 128-255 (the shell
reports a signal, which our script also turns into 143 when it is cancelled) is resolved
with the exit marker the script writes; it is never assumed COMPLETED.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from remotejobs.models import JobInfo, JobState
from remotejobs.scheduler.script import SIGNAL_MARKER
from remotejobs.scheduler.times import clock_seconds, parse_ctime

__all__ = ["STATE_MAP", "info_from_attrs", "needs_marker", "resolve"]

STATE_MAP: Mapping[str, JobState] = {
    "Q": JobState.QUEUED, "T": JobState.QUEUED, "W": JobState.QUEUED,
    "H": JobState.HELD,
    "R": JobState.RUNNING, "E": JobState.RUNNING, "B": JobState.RUNNING,
    "S": JobState.SUSPENDED, "U": JobState.SUSPENDED,
    "M": JobState.UNKNOWN,  # moved to another server: this one no longer runs it
    "F": JobState.UNKNOWN,  # decided from Exit_status / the marker, never assumed
    "X": JobState.UNKNOWN,
}
FINISHED = ("F", "X")
JOB_EXEC_KILL_WALLTIME = -29
_EXEC_CODES = {
    -1: "job exec failed, before files, no retry", -2: "job exec failed, after files, no retry",
    -3: "job execution failed, do retry", -4: "job aborted on MOM initialization",
    -7: "job restart failed", -10: "invalid uid/gid for job", -11: "job rerun",
    -13: "bad password", -17: "a hook rejected the job", -19: "a hook deleted the job",
    -20: "mother superior connection failed", -22: "a hook failed", -23: "no Kerberos credentials",
    -24: "exceeded ncpus (burst)", -25: "exceeded ncpus (sum)", -26: "exceeded vmem",
    -27: "exceeded mem", -28: "exceeded cput", -30: "join job error",
}
_REASONS = {"H": "held (by a user, the system, or a dependency not yet satisfied)",
            "W": "waiting for its execution time, or its stage-in failed",
            "M": "moved to another PBS server",
            "T": "being moved to another server or queue",
            "U": "suspended because its workstation became busy"}


def _time(attrs: Mapping[str, str], name: str) -> datetime | None:
    return parse_ctime(attrs.get(name))


def _over_walltime(attrs: Mapping[str, str]) -> bool:
    limit = clock_seconds(attrs.get("Resource_List.walltime"))
    used = clock_seconds(attrs.get("resources_used.walltime"))
    if used is None:
        start, end = _time(attrs, "stime"), _time(attrs, "obittime")
        used = int((end - start).total_seconds()) if start and end else None
    return bool(limit) and used is not None and used >= (limit or 0)


def info_from_attrs(job_id: str, attrs: Mapping[str, str]) -> JobInfo:
    """One job's info. F/X jobs: Exit_status 0 -> COMPLETED, 1-127 -> FAILED with that
    code, -29 -> TIMEOUT, other negatives -> FAILED (reason names the JOB_EXEC code),
    256+N -> CANCELLED (TIMEOUT when it used its whole walltime); absent or 128-255 ->
    UNKNOWN with native_state F until :func:`resolve` reads the marker."""
    letter = attrs.get("job_state", "").strip()
    finished = letter in FINISHED
    state, exit_code, reason = _outcome(attrs, letter, finished)
    return JobInfo.trusted(job_id, state, name=attrs.get("Job_Name") or None, native_state=letter,
                           exit_code=exit_code, submit_time=_time(attrs, "qtime") or _time(attrs, "ctime"),
                           start_time=_time(attrs, "stime"),
                           end_time=_time(attrs, "obittime") if finished else None,
                           reason=reason, queue=attrs.get("queue") or None, owner=attrs.get("Job_Owner") or None)


def _outcome(attrs: Mapping[str, str], letter: str, finished: bool) -> tuple[JobState, int | None, str | None]:
    """(state, exit code, reason) by the rules of :func:`info_from_attrs`."""
    if not finished:
        return STATE_MAP.get(letter, JobState.UNKNOWN), None, _REASONS.get(letter)
    comment = attrs.get("comment", "").strip()
    raw = attrs.get("Exit_status", "").strip()
    if not raw:
        return JobState.UNKNOWN, None, ("Finished without an exit status (deleted before it ran?); resolved "
                                        "from the job's exit-code marker")
    try:
        code = int(raw)
    except ValueError:
        return JobState.UNKNOWN, None, f"unreadable Exit_status {raw!r}"
    if code == 0:
        return JobState.COMPLETED, 0, None
    if code == JOB_EXEC_KILL_WALLTIME:
        return JobState.TIMEOUT, None, ("killed by PBS: exceeded its walltime limit (Exit_status -29, "
                                        "JOB_EXEC_KILL_WALLTIME)")
    if code < 0:
        what = _EXEC_CODES.get(code, "PBS could not run the job")
        detail = f"; {comment}" if comment else ""
        return JobState.FAILED, None, f"{what} (Exit_status {code}){detail}"
    if code >= 256:
        if _over_walltime(attrs):
            return JobState.TIMEOUT, code, f"killed after reaching its walltime limit (Exit_status {code})"
        return JobState.CANCELLED, code, (f"killed by signal {code - 256} (Exit_status {code}): deleted with "
                                          "qdel or by PBS")
    if code >= 128 and _over_walltime(attrs):
        return JobState.TIMEOUT, code, f"ended by a signal after reaching its walltime limit (Exit_status {code})"
    if code >= 128:
        return JobState.UNKNOWN, code, (f"Exit_status {code}: a signal or the program's own status; resolved "
                                        "from the exit marker")
    return JobState.FAILED, code, f"exited with status {code}"


def needs_marker(info: JobInfo) -> bool:
    """A finished job whose outcome only the exit marker can tell."""
    return info.state is JobState.UNKNOWN and info.native_state in FINISHED


def resolve(job_id: str, info: JobInfo | None, marker: str | None) -> JobInfo | None:
    """Settle a finished-but-unclear job (``info``) or one qstat no longer shows
    (``info`` None) from its marker. None when there is no evidence at all."""
    if marker is None:
        if info is None:
            return None
        return info.model_copy(update={"state": JobState.CANCELLED, "reason": "Finished without "
                               "recording an exit status: deleted before it started"})
    base = info or JobInfo(id=job_id, state=JobState.UNKNOWN)
    if marker == SIGNAL_MARKER:
        return base.model_copy(update={"state": JobState.CANCELLED, "reason": "Terminated by a "
                               "signal (deleted with qdel, or killed by PBS)"})
    try:
        code = int(marker)
    except ValueError:
        return base.model_copy(update={"state": JobState.UNKNOWN, "reason": f"unreadable exit "
                               f"marker {marker!r}"})
    state = JobState.COMPLETED if code == 0 else JobState.FAILED
    return base.model_copy(update={"state": state, "exit_code": code,
                                   "reason": None if code == 0 else f"exited with status {code}"})

