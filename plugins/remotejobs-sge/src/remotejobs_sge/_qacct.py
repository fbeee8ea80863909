"""``qacct -j`` records of finished jobs, and the portable outcome they show.

Facts (golden files in tests/golden; sge_accounting(5) and sge_status(5) of Son of Grid
Engine 8.1.9):

- a record is a ``====`` rule then ``name value`` lines (``qname``, ``owner``, ``jobname``,
  ``jobnumber``, ``taskid`` (``undefined`` outside arrays), ``qsub_time``, ``start_time``,
  ``end_time``, ``failed``, ``exit_status``, ``ru_wallclock``, ``category`` ...); a job run
  several times (rescheduled) has several records, the last one counts;
- ``failed`` is ``0`` or ``<code> : <text>``: 37 "qmaster enforced h_rt, h_cpu, or h_vmem
  limit" (the walltime kill in 8.1.9), 100 "assumedly after job" (ran, then was killed:
  qdel, or an execd-enforced limit), 17 "through signal"; other codes mean Grid Engine
  could not run the job (26 opening output file, 27 searching requested shell, 28 changing
  to working directory ...);
- ``exit_status`` is the script's status, 128 + signal when a signal ended it (137:
  SIGKILL from qdel or a hard limit); 8.1.9 appends the signal name (``137 (Killed)``);
- ``category`` holds the job's requests (``-l h_rt=3 -pe smp 2``), so the walltime limit;
  ``ru_wallclock`` is ``4s`` in 8.1.9 and ``4`` or ``4.000`` in older versions;
- times are ctime() text (``Mon Dec  7 00:54:51 2026``); Univa/Altair print
  ``12/07/2026 00:54:51.123``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from remotejobs.models import JobInfo, JobState

__all__ = ["info_from_record", "parse_qacct", "record_id", "seconds"]

FAILED_LIMIT = 37
FAILED_SIGNAL = 17
FAILED_AFTER_JOB = 100
FAILED_RESCHEDULED = 25


def parse_qacct(text: str) -> list[dict[str, str]]:
    """Records as ``{field: value}`` dicts in output order.

    :raises ValueError: text outside a record, or a record without ``jobnumber``.
    """
    records: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("====="):
            current = {}
            records.append(current)
            continue
        if not line.strip():
            continue
        if current is None:
            raise ValueError(f"line {number}: text before the first record: {line[:80]!r}")
        name, _, value = line.strip().partition(" ")
        current[name] = value.strip()
    for record in records:
        if not record.get("jobnumber", "").isdigit():
            raise ValueError("a qacct record lacks jobnumber")
    return records


def record_id(record: Mapping[str, str]) -> str:
    """``<job>`` or, for an array task, ``<job>.<task>``."""
    task = record.get("taskid", "undefined")
    return f"{record['jobnumber']}.{task}" if task.isdigit() else record["jobnumber"]


def seconds(text: str | None) -> float | None:
    """``4s``, ``4``, ``4.000``, ``00:01:30`` or ``90`` (h_rt) as seconds; None if odd."""
    if not text:
        return None
    value = text.strip().rstrip("s")
    try:
        total = 0.0
        for part in value.split(":"):
            total = total * 60 + float(part)
    except ValueError:
        return None
    return total


def _time(text: str | None) -> datetime | None:
    value = " ".join((text or "").split())
    for fmt in ("%a %b %d %H:%M:%S %Y", "%m/%d/%Y %H:%M:%S"):
        try:
            return datetime.strptime(value.split(".")[0], fmt)
        except ValueError:
            continue
    return None


def _walltime_limit(record: Mapping[str, str]) -> float | None:
    match = re.search(r"\bh_rt=([0-9:.]+)", record.get("category", ""))
    return seconds(match.group(1)) if match else None


def info_from_record(job_id: str, record: Mapping[str, str]) -> JobInfo:
    """One finished job (or task). failed 0 or 100: exit 0 COMPLETED, 1-127 FAILED with
    that code, 128+ (a signal) TIMEOUT when the run reached its ``h_rt`` else CANCELLED;
    failed 37 TIMEOUT when ``h_rt`` was requested (else FAILED: h_cpu/h_vmem); failed 17
    like a signal; other failed codes FAILED without an exit code, with Grid Engine's text."""
    failed_text = record.get("failed", "").strip()
    code_text, _, failed_reason = failed_text.partition(":")
    exit_text = record.get("exit_status", "").split()
    base = {
        "id": job_id, "name": record.get("jobname") or None, "owner": record.get("owner") or None,
        "queue": record.get("qname") or None, "submit_time": _time(record.get("qsub_time")),
        "start_time": _time(record.get("start_time")), "end_time": _time(record.get("end_time")),
        "native_state": f"failed {failed_text}" if failed_text else None,
    }
    try:
        failed = int(code_text.strip())
        status = int(exit_text[0]) if exit_text else None
    except ValueError:
        return JobInfo(state=JobState.UNKNOWN, reason=f"unreadable qacct record: failed {failed_text!r}, "
                       f"exit_status {record.get('exit_status')!r}", **base)
    limit, used = _walltime_limit(record), seconds(record.get("ru_wallclock"))
    over = limit is not None and used is not None and used >= limit
    why = failed_reason.strip()
    if failed == FAILED_LIMIT:
        if limit is not None:
            return JobInfo(state=JobState.TIMEOUT, reason=f"killed by Grid Engine at its h_rt limit "
                           f"({why}; ran {used}s of {limit}s)", **base)
        return JobInfo(state=JobState.FAILED, reason=f"killed by Grid Engine: {why}", **base)
    if failed == FAILED_RESCHEDULED:
        return JobInfo(state=JobState.UNKNOWN, reason=f"Grid Engine rescheduled the job ({why})", **base)
    if failed not in (0, FAILED_AFTER_JOB, FAILED_SIGNAL):
        return JobInfo(state=JobState.FAILED, reason=f"Grid Engine could not run the job "
                       f"(failed {failed}: {why})", **base)
    if status is None:
        return JobInfo(state=JobState.UNKNOWN, reason="qacct shows no exit_status", **base)
    if status >= 128 or failed == FAILED_SIGNAL:
        signal = status - 128 if status >= 128 else None
        what = f"signal {signal}" if signal is not None else "a signal"
        if over:
            return JobInfo(state=JobState.TIMEOUT, reason=f"killed by {what} after reaching its h_rt "
                           f"limit ({used}s of {limit}s)", **base)
        return JobInfo(state=JobState.CANCELLED, reason=f"killed by {what} (qdel, or a limit)"
                       + (f"; failed {failed}: {why}" if failed else ""), **base)
    if status == 0:
        return JobInfo(state=JobState.COMPLETED, exit_code=0, **base)
    return JobInfo(state=JobState.FAILED, exit_code=status, reason=f"exited with status {status}", **base)
