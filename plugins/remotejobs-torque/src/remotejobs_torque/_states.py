"""From qstat attributes (and the job's exit marker) to a portable :class:`JobInfo`.

Facts used (github.com/adaptivecomputing/torque ``src/include/pbs_job.h``, ``src/cmds/qstat.c``;
SchedMD/slurm ``contribs/torque/qstat.pl``; real outputs in tests/golden/real/):

- letters C, E, H, Q, R, S, T, W; B for a begun array in Torque 6 (assumed: no source shows it); the Slurm
  wrapper may print U (not a Torque letter);
- ``exit_status`` appears once a job completed; negative values are Torque's own
  JOB_EXEC_* codes, -11 being JOB_EXEC_OVERLIMIT_WT ("Job exceeded a walltime limit",
  Torque 6.1.2 Job Exit Status page, Adaptive Computing KB "exit codes"); older servers
  report a walltime kill as 256 + signal (e.g. 271, "PBS: job killed: walltime 152
  exceeded limit 120"); values above 256 are 256 + the signal that killed the shell;
- the Slurm wrapper never prints ``exit_status``, shows success and failure alike as C,
  and in its ``-f`` output ``mtime`` is the start time and ``ctime`` the **end** time.

A C job whose exit status is absent, or looks like a signal (>= 128), is resolved with the
exit-code marker the job script writes (see :mod:`remotejobs.scheduler.script`); it is
never assumed COMPLETED.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache

from remotejobs.models import JobInfo, JobState
from remotejobs.scheduler.script import SIGNAL_MARKER
from remotejobs.scheduler.times import clock_seconds, parse_ctime

__all__ = ["STATE_MAP", "info_from_attrs", "needs_marker", "resolve"]

STATE_MAP: Mapping[str, JobState] = {
    "Q": JobState.QUEUED,
    "T": JobState.QUEUED,
    "W": JobState.QUEUED,
    "H": JobState.HELD,
    "R": JobState.RUNNING,
    "E": JobState.RUNNING,
    "B": JobState.RUNNING,
    "S": JobState.SUSPENDED,
    "C": JobState.UNKNOWN,  # decided from exit_status / the marker, never assumed
}

JOB_EXEC_OVERLIMIT_WT = -11
_EXEC_CODES = {
    -1: "job exec failed, before files, no retry", -2: "job exec failed, after files, no retry",
    -3: "job execution failed, do retry", -4: "job aborted on MOM initialization",
    -5: "job aborted on MOM init, chkpt, no migrate", -6: "job aborted on MOM init, chkpt, ok migrate",
    -7: "job restart failed", -8: "exec() of user command failed",
    -9: "could not create/open stdout stderr files", -10: "job exceeded a memory limit",
    -11: "job exceeded a walltime limit", -12: "job exceeded a CPU time limit",
    -13: "could not create the job's cgroups", -14: "prologue failed",
}
_WAITING = {"H": "held (by a user, or waiting for a dependency)",
            "W": "waiting for its requested execution time"}
_NO_EXIT = ("the server reports no exit status (Slurm's torque wrapper never does); "
            "it is resolved from the job's exit-code marker")


def _time(attrs: Mapping[str, str], name: str) -> datetime | None:
    """Epoch seconds (XML) or ctime() text (``-f``); None when absent or unreadable."""
    value = attrs.get(name)
    return _read_time(value) if value else None


@lru_cache(maxsize=4096)
def _read_time(text: str) -> datetime | None:
    """Cached: a queue repeats the same times many times over."""
    value = text.strip()
    if not value:
        return None
    if value.isdecimal():
        try:
            return datetime.fromtimestamp(int(value), tz=UTC) if int(value) > 0 else None
        except (OverflowError, OSError, ValueError):  # beyond the platform's time range
            return None
    return parse_ctime(value)


def _times(attrs: Mapping[str, str]) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(submit, start, end). The wrapper layout (``_layout == tab`` without start_time)
    uses mtime for the start and ctime for the end of a completed job."""
    get = attrs.get
    if get("_layout") == "tab" and "start_time" not in attrs:
        done = get("job_state") == "C"
        return (_time(attrs, "qtime"), _time(attrs, "mtime"),
                _time(attrs, "ctime") if done else None)
    # Inlined _time (one call per value instead of two: this runs for every record).
    submit = _read_time(value) if (value := get("qtime")) else None
    if submit is None:
        submit = _read_time(value) if (value := get("ctime")) else None
    start = _read_time(value) if (value := get("start_time")) else None
    end = _read_time(value) if (value := get("comp_time")) else None
    return submit, start, end


def _over_walltime(attrs: Mapping[str, str], start: datetime | None, end: datetime | None) -> bool:
    limit = clock_seconds(attrs.get("Resource_List.walltime"))
    if not limit:
        return False
    used = clock_seconds(attrs.get("resources_used.walltime"))
    if used is None and start is not None and end is not None:
        used = int((end.timestamp() if end.tzinfo else time.mktime(end.timetuple()))
                   - (start.timestamp() if start.tzinfo else time.mktime(start.timetuple())))
    return used is not None and used >= limit


def info_from_attrs(job_id: str, attrs: Mapping[str, str]) -> JobInfo:
    """One job's info. C jobs: exit_status 0 -> COMPLETED, 1..127 -> FAILED with that
    code, -11 or a signal exit past the walltime -> TIMEOUT, other negatives -> FAILED
    (exit_code None, reason names the JOB_EXEC code), > 256 -> CANCELLED (killed by a
    signal); no exit_status -> UNKNOWN with native_state "C" until :func:`resolve`."""
    get = attrs.get
    letter = get("job_state", "").strip()
    submit, start, end = _times(attrs)
    if letter == "C":
        state, exit_code, reason = _outcome(attrs, letter, start, end)
    else:  # _outcome's first rule, inlined: most records are not completed
        state, exit_code, reason = STATE_MAP.get(letter, JobState.UNKNOWN), None, _WAITING.get(letter)
    return JobInfo.trusted(job_id, state, name=get("Job_Name") or None, native_state=letter,
                           exit_code=exit_code, submit_time=submit, start_time=start, end_time=end,
                           reason=reason, queue=get("queue") or None, owner=get("Job_Owner") or None)


def _outcome(attrs: Mapping[str, str], letter: str, start: datetime | None,
             end: datetime | None) -> tuple[JobState, int | None, str | None]:
    """(state, exit code, reason) by the rules of :func:`info_from_attrs`."""
    if letter != "C":
        return STATE_MAP.get(letter, JobState.UNKNOWN), None, _WAITING.get(letter)
    raw = attrs.get("exit_status", "").strip()
    if not raw:
        if _over_walltime(attrs, start, end):
            return JobState.TIMEOUT, None, ("ran for its whole walltime limit and was ended by the server "
                                            "(it reports no exit status)")
        return JobState.UNKNOWN, None, f"Completed, but {_NO_EXIT}"
    try:
        code = int(raw)
    except ValueError:
        return JobState.UNKNOWN, None, f"unreadable exit_status {raw!r}"
    if code == JOB_EXEC_OVERLIMIT_WT:
        return JobState.TIMEOUT, None, ("killed by Torque: exceeded its walltime limit (exit_status -11, "
                                        "JOB_EXEC_OVERLIMIT_WT)")
    if code < 0:
        what = _EXEC_CODES.get(code, "Torque could not run the job")
        return JobState.FAILED, None, f"{what} (exit_status {code})"
    if code == 0:
        return JobState.COMPLETED, 0, None
    if code >= 128 and _over_walltime(attrs, start, end):
        return JobState.TIMEOUT, code, f"killed after reaching its walltime limit (exit_status {code})"
    if code > 256:
        return (JobState.CANCELLED, code,
                f"killed by signal {code - 256} (exit_status {code}): deleted with qdel or by the server")
    return JobState.FAILED, code, f"the job exited with status {code}"


def needs_marker(info: JobInfo) -> bool:
    """True for a completed job the qstat output alone cannot settle: no exit status, or
    one that may come from a signal (the marker tells a qdel from a plain exit)."""
    if info.native_state != "C" or info.state is JobState.TIMEOUT:
        return False
    return info.state is JobState.UNKNOWN or (info.exit_code is not None and info.exit_code >= 128)


def resolve(job_id: str, info: JobInfo | None, marker: str | None) -> JobInfo | None:
    """Settle a job with its exit marker (``None``: no marker).

    ``info`` is the qstat view (None when the server no longer shows the job). Returns None
    only when there is neither a qstat view nor a marker. A marker ``signal`` means the
    script was terminated (CANCELLED); a number is the program's exit code.
    """
    note = "resolved from the job's exit-code marker"
    base = info or JobInfo(id=job_id, state=JobState.UNKNOWN, native_state=None)
    if marker is None:
        if info is None:
            return None
        if info.state is JobState.UNKNOWN:
            return info.model_copy(update={"state": JobState.CANCELLED, "reason": (
                "The server reports the job finished, but the job never recorded an exit "
                "code: it was deleted before it started, or killed without a chance to clean "
                "up")})
        return info
    if marker == SIGNAL_MARKER:
        return base.model_copy(update={"state": JobState.CANCELLED, "reason": (
            "terminated by a signal (qdel, or the server ended it); " + note)})
    try:
        code = int(marker)
    except ValueError:
        return base.model_copy(update={"state": JobState.UNKNOWN,
                                       "reason": f"unreadable exit marker {marker[:32]!r}"})
    if info is not None and info.exit_code is not None and info.exit_code != code:
        return info  # the server's own exit status wins over a stale marker
    state = JobState.COMPLETED if code == 0 else JobState.FAILED
    return base.model_copy(update={"state": state, "exit_code": code,
                                   "reason": None if code == 0 else f"exit code {code}; {note}"})
