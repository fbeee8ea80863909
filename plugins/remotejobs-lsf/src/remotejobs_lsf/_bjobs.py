"""Parsing ``bjobs -o`` output (delimited text or ``-json``) into :class:`JobInfo`.

Facts (sources: IBM bsub.1/bjobs.1/bkill.1 = https://www.ibm.com/docs/en/SSWRJV_10.1.0/lsf_command_ref/<name>.html;
IBM 'About job states' = https://www.ibm.com/docs/en/SSWRJV_10.1.0/lsf_admin/job_states_lsf.html;
see also tests/cluster/emulators/lsf/README.md):

- Rows come from ``bjobs -a -o "<FIELDS> delimiter='|'" -noheader`` or ``-o "<FIELDS>" -json``
  (IBM bjobs.1). ``job_name`` is last, so a delimiter inside a name cannot shift columns.
- Empty values are ``-`` in text and ``""`` in JSON; DONE has no exit code: exit 0 (IBM bjobs.1).
- Times are ``%b %e %H:%M`` with no year, maybe followed by `` L``, `` E`` or `` X`` (IBM bjobs.1;
  the letters of IBM's ``bjobs -WF`` page,
  https://www.ibm.com/docs/en/SSWRJV_10.1.0/lsf_command_ref/bjobs.__w__f.1.html). Sites can
  make LSF print seconds and the year (``Jan  1 10:21 2010 L``, ``12:34:56``: the time
  grammar of BatchEuphoria, a client of real LSF, src/main/groovy/de/dkfz/roddy/execution/
  jobs/cluster/lsf/LSFJobManager.groovy in github.com/TheRoddyWMS/BatchEuphoria; IBM's
  LSB_DISPLAY_YEAR page names ``bjobs -l``, ``bacct -l`` and ``bhist``). Without a year it
  is guessed (the current one, or the previous one for a date in the future); the datetime
  is naive, in the cluster's local time. A time in any other shape is read as None for
  that field (see :func:`parse_time`); it never fails the whole query.
- Array elements share JOBID; ``jobindex`` tells them apart (0 for non-arrays); the
  element id is ``123[4]`` (IBM bjobs.1, IBM bkill.1).
- ``Job <N> is not found`` on stderr (exit 255) for some ids leaves the others intact;
  ``No ... job found`` means an empty result (IBM bjobs.1).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from remotejobs.errors import SchedulerError
from remotejobs.models import JobInfo
from remotejobs.scheduler import arrays
from remotejobs.scheduler.arrays import aggregate_array
from remotejobs.transport.base import CommandResult

__all__ = ["FIELDS", "Row", "aggregate_array", "cached_time", "parse_rows", "parse_time", "select"]

#: The ``bjobs -o`` fields read, in order; ``job_name`` must stay last (see module doc).
FIELDS = ("jobid", "jobindex", "stat", "user", "queue", "exit_code", "exit_reason", "pend_reason",
          "submit_time", "start_time", "finish_time", "job_name")
_JSON_KEYS = tuple(name.upper() for name in FIELDS)
_STAT = re.compile(r"[A-Z_]+")
_EMPTY = ("",) * len(FIELDS)
DELIMITER = "|"

# stderr lines that are not errors (IBM bsub.1; IBM bjobs.1): gone ids, empty lists, retries.
_BENIGN = re.compile(
    r"^(Job <[^>]+> is not found|Job array <[^>]+> is not found|No (unfinished |DONE/EXIT |pending |running |"
    r"suspended )?job found( in queue <[^>]*>| on host/group <[^>]*>)?|Cannot connect to LSF\. Please wait \.\.\.)\s*$"
)
_TRANSIENT = ("Cannot connect to LSF", "LSF is down", "Batch system not responding",
              "LSF daemon (LIM) not responding")
_TIME = re.compile(
    r"^([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s+(\d{4}))?(?:\s+[LEX])?$"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Row(NamedTuple):
    """One bjobs record; empty values are "" (a named tuple: cheap by the hundred thousand)."""

    job_id: str
    array_index: int
    stat: str
    user: str
    queue: str
    exit_code: str
    exit_reason: str
    pend_reason: str
    submit: str
    start: str
    finish: str
    name: str

    @property
    def element_id(self) -> str:
        """``123`` for a plain job, ``123[4]`` for an array element."""
        return f"{self.job_id}[{self.array_index}]" if self.array_index else self.job_id


def parse_time(text: str, now: datetime | None = None) -> datetime | None:
    """``Nov 22 02:56``, ``Nov 22 02:56:07``, ``Nov 22 02:56 2021`` or
    ``Nov 22 02:56:07 2021`` (each with an optional `` L``/`` E``/`` X``) -> naive datetime;
    "" and "-" -> None.

    :raises ValueError: any other text.
    """
    text = text.strip()
    if not text or text == "-":
        return None
    match = _TIME.match(text)
    if not match or match.group(1) not in _MONTHS:
        raise ValueError(f"not an LSF time: {text!r}")
    now = now or datetime.now()
    month, day = _MONTHS.index(match.group(1)) + 1, int(match.group(2))
    hour, minute, second = int(match.group(3)), int(match.group(4)), int(match.group(5) or 0)
    if match.group(6):
        try:
            return datetime(int(match.group(6)), month, day, hour, minute, second)
        except ValueError as exc:
            raise ValueError(f"not an LSF time: {text!r}") from exc
    for year in range(now.year, now.year - 8, -1):  # Feb 29: the last leap year
        try:
            value = datetime(year, month, day, hour, minute, second)
        except ValueError:  # Feb 29 outside a leap year
            continue
        if value <= now + timedelta(days=1):
            return value
    raise ValueError(f"not an LSF time: {text!r}")


@lru_cache(maxsize=4096)
def _time_at(text: str, minute: int) -> datetime | None:
    return parse_time(text, datetime.fromtimestamp((minute + 1) * 60))


def cached_time(text: str) -> datetime | None:
    """:func:`parse_time` against the current minute (rounded up), cached: a queue repeats
    the same times many times over. The year guess may thus accept a date up to one minute
    later than :func:`parse_time` would.

    :raises ValueError: as :func:`parse_time`.
    """
    return _time_at(text, int(time.time() // 60))


def _bad(result: CommandResult, what: str) -> SchedulerError:
    return SchedulerError(f"bjobs printed output remotejobs cannot read ({what})", command=result.argv,
                          exit_status=result.exit_status, output=result.output,
                          transient=any(t in result.output for t in _TRANSIENT))


def _row(values: Sequence[str], result: CommandResult, empty: str) -> Row:
    clean = [v.strip() for v in values]
    if empty:
        clean = [("" if v == empty else v) for v in clean]
    if not clean[0].isdigit() or not (clean[1] or "0").isdigit() or _STAT.fullmatch(clean[2]) is None:
        raise _bad(result, f"unexpected record {DELIMITER.join(values)!r}")
    return Row(clean[0], int(clean[1] or 0), *clean[2:])


def _check_stderr(result: CommandResult) -> None:
    unknown = [ln for ln in result.stderr.splitlines() if ln.strip() and not _BENIGN.match(ln.strip())]
    if unknown and (result.exit_status != 0 or not result.stdout.strip()):
        raise _bad(result, f"stderr: {unknown[0].strip()!r}")


def parse_rows(result: CommandResult, json_format: bool) -> list[Row]:
    """Rows of a ``bjobs -o`` result; not-found ids and empty lists give no rows.

    :raises SchedulerError: output that is neither rows nor a known message (transient
        when LSF said it was unreachable).
    """
    _check_stderr(result)
    if json_format:
        return _json_rows(result)
    rows = []
    for raw in result.stdout.split("\n"):  # not splitlines(): a name may hold \x1c, \x85, \u2028 ...
        line = raw.removesuffix("\r")
        stripped = line.strip()
        if not stripped or (not stripped[0].isdigit() and _BENIGN.match(stripped)):
            continue  # a row starts with its job id; the benign messages never do
        values = line.split(DELIMITER, len(FIELDS) - 1)
        if len(values) != len(FIELDS):
            raise _bad(result, f"{len(values)} fields instead of {len(FIELDS)} in {line!r}")
        rows.append(_row(values, result, "-"))
    return rows


def _json_rows(result: CommandResult) -> list[Row]:
    text = result.stdout.strip()
    if not text:
        return []
    try:
        document = json.loads(text)
        records = document["RECORDS"]
        if not isinstance(records, list):
            raise TypeError("RECORDS is not a list")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: hostile nesting
        raise _bad(result, f"not bjobs -json output: {type(exc).__name__}: {str(exc)[:200]}") from exc
    rows = []
    for record in records:
        if not isinstance(record, dict):
            raise _bad(result, f"record {record!r} is not an object")
        if "ERROR" in record:  # a requested id that is not found (IBM bjobs.1 -json)
            continue
        missing = [key for key in ("JOBID", "STAT") if key not in record]
        if missing:
            raise _bad(result, f"record without {missing[0]}")
        # Other fields may be absent (a query with another -o list, as the real outputs
        # collected in tests/golden/real/ are): read as empty.
        values = [v if type(v) is str else str(v) for v in map(record.get, _JSON_KEYS, _EMPTY)]
        rows.append(_row(values, result, ""))
    return rows


def select(rows: Iterable[Row], ids: Iterable[str], to_info: Callable[[Row], JobInfo]) -> dict[str, JobInfo]:
    """Infos for the requested ids: the element or job itself, or for an array's job id
    the aggregate of its elements (see :mod:`remotejobs.scheduler.arrays`)."""
    return arrays.select(rows, ids, to_info, own_id=lambda r: r.element_id,
                         array_id=lambda r: r.job_id if r.array_index else None)
