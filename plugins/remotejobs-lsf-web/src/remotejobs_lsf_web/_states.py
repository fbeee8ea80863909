"""PAC status words -> JobState, and PacJob -> JobInfo.

PAC renders LSF states as ``Pending, Running, Suspended, Done, Exit``
(Mantid LSFJobManager.cpp genOutputStatusInfo); the LSF words themselves are accepted too.
Unknown words map to UNKNOWN, keeping the word in ``native_state``.
"""

from __future__ import annotations

from remotejobs.models import JobInfo, JobState
from remotejobs_lsf_web._wire import PacJob

__all__ = ["STATE_MAP", "to_info"]

STATE_MAP: dict[str, JobState] = {
    "pending": JobState.QUEUED,
    "running": JobState.RUNNING,
    "suspended": JobState.SUSPENDED,
    "done": JobState.COMPLETED,
    "exit": JobState.FAILED,
    "unknown": JobState.UNKNOWN,
    # LSF's own words (Mantid LSFJobManager.cpp genOutputStatusInfo "LSF native states")
    "pend": JobState.QUEUED,
    "wait": JobState.QUEUED,
    "psusp": JobState.HELD,
    "run": JobState.RUNNING,
    "ususp": JobState.SUSPENDED,
    "ssusp": JobState.SUSPENDED,
    "post_done": JobState.COMPLETED,
    "post_err": JobState.FAILED,
    "unkwn": JobState.UNKNOWN,
    "zombi": JobState.UNKNOWN,
}


def to_info(job: PacJob, *, cancelled: bool) -> JobInfo:
    """The JobInfo of one PAC job. An ``Exit`` job this session cancelled is CANCELLED
    (PAC reports a killed job as ``Exit`` like any other failure); ``Done`` has exit code 0."""
    word = job.status or "Unknown"
    state = STATE_MAP.get(word.strip().lower(), JobState.UNKNOWN)
    if state is JobState.FAILED and cancelled:
        state = JobState.CANCELLED
    exit_code = job.exit_code
    if state is JobState.COMPLETED and exit_code is None:
        exit_code = 0
    reason = job.pend_reason if state in (JobState.QUEUED, JobState.HELD) else None
    if job.ext_status and job.ext_status != "-":
        reason = job.ext_status
    return JobInfo(
        id=job.id,
        name=job.name,
        state=state,
        native_state=word,
        exit_code=exit_code,
        command=job.cmd,
        submit_time=job.submit_time,
        start_time=job.start_time,
        end_time=job.end_time,
        reason=reason,
        queue=job.queue,
        owner=job.user,
    )
