"""Parsers for ``qstat -xml`` (live jobs) and ``qstat -j`` (an error-state job's reasons).

Facts (golden files in tests/golden, and sge_status(5) of Son of Grid Engine 8.1.9):

- ``qstat -xml`` prints ``<job_info><queue_info>`` (running jobs) and ``<job_info>``
  (pending jobs), each a list of ``<job_list state="running|pending|zombie">`` with
  ``JB_job_number``, ``JB_name``, ``JB_owner``, ``state``, ``JAT_start_time`` (running) or
  ``JB_submission_time`` (pending), ``queue_name``, ``slots``, and ``tasks`` for array jobs:
  one task number per running task, a range list (``1,3``, ``5-9:2``) for pending tasks;
  ``-ext``/``-urg`` add fields that are ignored here;
- the state word combines letters: ``qw`` pending, ``h`` hold, ``r`` running, ``t``
  transferring, ``R`` restarted, ``s`` suspended (by the user), ``S`` (queue) and ``T``
  (alarm threshold) suspended, ``E`` error (pending: ``Eqw``, ``Ehqw``), ``d`` being
  deleted (``dr``, ``dt`` ...), ``z`` finished (``qstat -s z``);
- ``qstat -j`` prints ``job_number:`` blocks between ``====`` rules with
  ``error reason    N:`` lines for jobs in error state.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from remotejobs import safexml

__all__ = ["QstatRow", "error_reasons", "parse_qstat_xml", "task_numbers"]

MAX_EXPANDED_TASKS = 10_000


class QstatRow(NamedTuple):
    """One job, or one task of an array job, as ``qstat -xml`` shows it."""

    job: str
    task: str | None
    name: str | None
    owner: str | None
    state: str
    queue: str | None
    submit_time: datetime | None
    start_time: datetime | None
    slots: int | None

    @property
    def id(self) -> str:
        return f"{self.job}.{self.task}" if self.task else self.job


@lru_cache(maxsize=4096)
def _time(text: str | None) -> datetime | None:
    """``2026-12-07T00:53:25`` (local time of the qmaster), None when absent or odd.
    Univa/Altair print milliseconds (``...T12:03:07.123``): they are dropped."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip().split(".")[0])
    except ValueError:
        return None


def task_numbers(spec: str) -> list[str]:
    """``1,3`` / ``5-9:2`` / ``4`` as task numbers; a range too large to expand stays whole.

    :raises ValueError: not a task list.
    """
    tasks: list[str] = []
    for part in spec.split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+)(?::(\d+))?)?", part.strip())
        if match is None:
            raise ValueError(f"not a task list: {spec!r}")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        step = int(match.group(3) or 1) or 1
        if (last - first) // step >= MAX_EXPANDED_TASKS:
            tasks.append(part.strip())
            continue
        tasks += [str(n) for n in range(first, last + 1, step)]
    return tasks


def parse_qstat_xml(text: str) -> list[QstatRow]:
    """Rows of a ``qstat -xml`` document, array tasks one row each.

    :raises ValueError: not well-formed XML or XML with a DTD/entities
        (:class:`remotejobs.safexml.UnsafeXMLError`), a root other than ``job_info``, or a
        ``job_list`` without job number or state.
    """
    body = text.strip()
    if not body:
        return []
    root = safexml.fromstring(body)  # UnsafeXMLError (a ValueError): DTDs, entities, bad XML
    if root.tag != "job_info":
        raise ValueError(f"XML root is <{root.tag}>, expected <job_info>")
    rows: list[QstatRow] = []
    for element in root.iter("job_list"):
        fields = {child.tag: (child.text or "").strip() for child in element}
        job, state = fields.get("JB_job_number", ""), fields.get("state", "")
        if not job.isdigit() or not state:
            raise ValueError("a <job_list> lacks JB_job_number or state")
        slots = fields.get("slots", "")
        tasks = task_numbers(fields["tasks"]) if fields.get("tasks") else [None]
        for task in tasks:
            rows.append(QstatRow(
                job=job, task=task, name=fields.get("JB_name") or None,
                owner=fields.get("JB_owner") or None, state=state,
                queue=fields.get("queue_name") or None,
                submit_time=_time(fields.get("JB_submission_time")),
                start_time=_time(fields.get("JAT_start_time")),
                slots=int(slots) if slots.isdigit() else None,
            ))
    return rows


_JOB_NUMBER = re.compile(r"^job_number:\s+(\d+)\s*$")
_REASON = re.compile(r"^error reason\s+(\d+):\s+(.*?)\s*$")


def error_reasons(text: str) -> dict[str, str]:
    """``{job number: reason}`` from ``qstat -j`` output (jobs with an error reason only;
    the reasons of several tasks are joined with ``; ``)."""
    reasons: dict[str, list[str]] = {}
    job: str | None = None
    for line in text.splitlines():
        if line.startswith("====="):
            job = None
            continue
        match = _JOB_NUMBER.match(line)
        if match:
            job = match.group(1)
            continue
        match = _REASON.match(line)
        if match and job is not None:
            reasons.setdefault(job, []).append(match.group(2))
    return {job: "; ".join(texts) for job, texts in reasons.items()}
