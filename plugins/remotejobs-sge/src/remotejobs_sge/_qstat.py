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
from remotejobs.safexml import NAME, SPACE, TEXT, unescape

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

    Two readers, one result: a strict scanner for the layout qstat prints (see
    :func:`_scan`) and, for any other document, ElementTree through
    :func:`remotejobs.safexml.fromstring` (which refuses DTDs); both give the same rows,
    or the same error (tests/test_qstat_scanner.py compares them).

    :raises ValueError: not well-formed XML or XML with a DTD/entities
        (:class:`remotejobs.safexml.UnsafeXMLError`), a root other than ``job_info``, or a
        ``job_list`` without job number or state.
    """
    body = text.strip()
    if not body:
        return []
    fields = _scan(body)
    if fields is None:
        fields = _tree(body)
    rows: list[QstatRow] = []
    for job, name, owner, state, start, submit, queue, slots, tasks in fields:
        if not job.isdigit() or not state:
            raise ValueError("a <job_list> lacks JB_job_number or state")
        for task in task_numbers(tasks) if tasks else (None,):
            rows.append(QstatRow(job, task, name or None, owner or None, state, queue or None,
                                 _time(submit), _time(start), int(slots) if slots.isdigit() else None))
    return rows


#: The ``job_list`` children read, in the order of :func:`_scan`'s groups.
_FIELDS = ("JB_job_number", "JB_name", "JB_owner", "state", "JAT_start_time", "JB_submission_time",
           "queue_name", "slots", "tasks")
# A <job_list> inside a <job_list> is handed over (the tree reader reads both). Under the
# possessive repeat an alternative never fails after capturing (a field that is not a leaf
# fails ``other`` too), so no stale capture survives (see remotejobs_torque._qstat_xml).
_QUOTED = r"""(?:"[^<&"]*+"|'[^<&']*+')"""
_JOB = re.compile(
    rf"<job_list[ \t\n]++state={_QUOTED}{SPACE}>{SPACE}(?:(?:"
    + "|".join(f"<{name}>({TEXT})</{name}>" for name in _FIELDS)
    + rf"|<(?!job_list>)(?P<other>{NAME})>{TEXT}</(?P=other)>){SPACE})*+</job_list>{SPACE}")
_OPEN = re.compile(rf"""(?:<\?xml version=(["'])1\.0\1{SPACE}\?>)?{SPACE}"""
                   rf"<job_info(?:[ \t\n]++xmlns:xsd={_QUOTED})?{SPACE}>{SPACE}")
_LIST = re.compile(rf"<(queue_info|job_info)>{SPACE}|</(queue_info|job_info)>{SPACE}")


def _scan(body: str) -> list[tuple[str, ...]] | None:
    """The read fields of each ``job_list`` (stripped, ``""`` when absent), by a scanner
    whose grammar is qstat's layout: ``<job_info>`` holding ``<queue_info>`` and
    ``<job_info>`` lists of ``<job_list state="...">`` with leaf children (text of
    :data:`remotejobs.safexml.TEXT`); None for any other document (a DTD included)."""
    opened = _OPEN.match(body)
    if opened is None:
        return None
    found: list[tuple[str, ...]] = []
    job, tag = _JOB.match, _LIST.match
    depth, pos = 0, opened.end()  # depth: inside a queue_info/job_info list
    opening_name = ""
    while True:
        if (element := job(body, pos)) is not None and depth:
            cleaned = tuple(map(str.strip, element.groups("")[:9]))  # as ElementTree's text.strip()
            found.append(tuple(map(unescape, cleaned)) if "&" in "".join(cleaned) else cleaned)
            pos = element.end()
        elif (element := tag(body, pos)) is not None:
            opening, closing = element.group(1, 2)
            if opening is not None and not depth:
                depth = 1
            elif closing is not None and depth and closing == opening_name:
                depth = 0
            elif closing == "job_info" and not depth and element.end() == len(body):
                return found
            else:
                return None
            opening_name = opening or ""
            pos = element.end()
        else:
            return None


def _tree(body: str) -> list[tuple[str, ...]]:
    """The read fields of each ``job_list`` by ElementTree (any well-formed document
    without a DTD)."""
    root = safexml.fromstring(body)  # UnsafeXMLError (a ValueError): DTDs, entities, bad XML
    if root.tag != "job_info":
        raise ValueError(f"XML root is <{root.tag}>, expected <job_info>")
    found = []
    for element in root.iter("job_list"):
        fields = {child.tag: (child.text or "").strip() for child in element}
        found.append(tuple(fields.get(name, "") for name in _FIELDS))
    return found


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
