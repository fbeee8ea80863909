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
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from remotejobs.errors import SchedulerError
from remotejobs.models import JobInfo, JobState
from remotejobs.scheduler.arrays import aggregate_array
from remotejobs.transport.base import CommandResult

__all__ = ["FIELDS", "Record", "aggregate_array", "cached_time", "clean", "parse_records", "parse_time", "select",
           "time_at", "to_infos"]

#: The ``bjobs -o`` fields read, in order; ``job_name`` must stay last (see module doc).
FIELDS = ("jobid", "jobindex", "stat", "user", "queue", "exit_code", "exit_reason", "pend_reason",
          "submit_time", "start_time", "finish_time", "job_name")
log = logging.getLogger(__name__)
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


#: One bjobs record after the first pass (:func:`parse_records`): (element id ``123`` or
#: ``123[4]``, job id, array index (0 outside arrays), the :data:`FIELDS` values as
#: printed; see :func:`clean` for the rest).
Record = tuple[str, str, int, list[str]]


def clean(value: str, dash: bool) -> str:
    """A field value as read: stripped; ``-`` (text output's empty value) is ""."""
    value = value.strip()
    return "" if dash and value == "-" else value


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
def time_at(text: str, minute: int) -> datetime | None:
    """:func:`parse_time` as at the end of ``minute`` (minutes since the epoch), cached.

    :raises ValueError: as :func:`parse_time`.
    """
    return parse_time(text, datetime.fromtimestamp((minute + 1) * 60))


def cached_time(text: str) -> datetime | None:
    """:func:`parse_time` against the current minute (rounded up), cached: a queue repeats
    the same times many times over. The year guess may thus accept a date up to one minute
    later than :func:`parse_time` would.

    :raises ValueError: as :func:`parse_time`.
    """
    return time_at(text, int(time.time() // 60))


def _bad(result: CommandResult, what: str) -> SchedulerError:
    return SchedulerError(f"bjobs printed output remotejobs cannot read ({what})", command=result.argv,
                          exit_status=result.exit_status, output=result.output,
                          transient=any(t in result.output for t in _TRANSIENT))


def _record(values: list[str], result: CommandResult, dash: bool, stats: dict[str, bool]) -> Record:
    """The record of one row's values; its id, index and state are checked here, for every
    row (the other fields are read only for the rows a caller converts). ``stats``
    remembers which state fields passed."""
    job_id, index, stat = values[0], values[1], values[2]
    ok = stats.get(stat)
    if ok is None:
        ok = stats[stat] = _STAT.fullmatch(clean(stat, dash)) is not None
    if ok and job_id.isdigit() and (index == "0" or index.isdecimal()):  # what bjobs prints
        number = int(index)
        return (f"{job_id}[{number}]" if number else job_id), job_id, number, values
    job_id, index = clean(job_id, dash), clean(index, dash)
    if not ok or not job_id.isdigit() or not (index or "0").isdigit():
        raise _bad(result, f"unexpected record {DELIMITER.join(values)!r}")
    try:
        number = int(index) if index else 0
    except ValueError as exc:  # a digit int() does not read (superscripts ...)
        raise _bad(result, f"unexpected record {DELIMITER.join(values)!r}") from exc
    return (f"{job_id}[{number}]" if number else job_id), job_id, number, values


def _check_stderr(result: CommandResult) -> None:
    unknown = [ln for ln in result.stderr.splitlines() if ln.strip() and not _BENIGN.match(ln.strip())]
    if unknown and (result.exit_status != 0 or not result.stdout.strip()):
        raise _bad(result, f"stderr: {unknown[0].strip()!r}")


def parse_records(result: CommandResult, json_format: bool) -> list[Record]:
    """Records of a ``bjobs -o`` result, in output order; not-found ids and empty lists
    give none. Every record's id, index and state are checked (see :func:`_record`).

    :raises SchedulerError: output that is neither records nor a known message (transient
        when LSF said it was unreachable).
    """
    _check_stderr(result)
    if json_format:
        return _json_records(result)
    records = []
    stats: dict[str, bool] = {}
    text = result.stdout
    crlf = "\r" in text
    width = len(FIELDS)
    for raw in text.split("\n"):  # not splitlines(): a name may hold \x1c, \x85, \u2028 ...
        line = raw.removesuffix("\r") if crlf else raw
        values = line.split(DELIMITER, width - 1)
        if len(values) == width and values[0].isdigit():  # a row: the benign messages never start so
            records.append(_record(values, result, True, stats))
            continue
        stripped = line.strip()
        if not stripped or (not stripped[0].isdigit() and _BENIGN.match(stripped)):
            continue  # a row starts with its job id; the benign messages never do
        if len(values) != width:
            raise _bad(result, f"{len(values)} fields instead of {width} in {line!r}")
        records.append(_record(values, result, True, stats))
    return records


def _json_records(result: CommandResult) -> list[Record]:
    text = result.stdout.strip()
    if not text:
        return []
    try:
        document = json.loads(text)
        items = document["RECORDS"]
        if not isinstance(items, list):
            raise TypeError("RECORDS is not a list")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: hostile nesting
        raise _bad(result, f"not bjobs -json output: {type(exc).__name__}: {str(exc)[:200]}") from exc
    records = []
    stats: dict[str, bool] = {}
    keys, empty = _JSON_KEYS, _EMPTY
    join = "".join
    for item in items:
        if type(item) is dict and tuple(item) == keys:  # every field, in -o order: as bjobs prints them
            values = list(item.values())
            try:
                join(values)  # every value a str (the C check of join)
            except TypeError:
                values = list(map(str, values))
            job_id, stat = values[0], values[2]
            if values[1] == "0" and stats.get(stat) and job_id.isdigit():  # a plain job, as _record reads it
                records.append((job_id, job_id, 0, values))
                continue
            records.append(_record(values, result, False, stats))
            continue
        if not isinstance(item, dict):
            raise _bad(result, f"record {item!r} is not an object")
        if "ERROR" in item:  # a requested id that is not found (IBM bjobs.1 -json)
            continue
        if "JOBID" not in item or "STAT" not in item:
            raise _bad(result, f"record without {'JOBID' if 'JOBID' not in item else 'STAT'}")
        # Other fields may be absent (a query with another -o list, as the real outputs
        # collected in tests/golden/real/ are), or in another order: read as empty.
        values = list(map(str, map(item.get, keys, empty)))  # str(a str) is that str
        records.append(_record(values, result, False, stats))
    return records


# exit_reason prefixes (IBM bjobs.1 "exit_reason"): the owner/an admin killed the job,
# or it reached its run limit or deadline.
_CANCELLED = ("TERM_OWNER", "TERM_ADMIN", "TERM_FORCE_OWNER", "TERM_FORCE_ADMIN", "TERM_REQUEUE")
_TIMEOUT = ("TERM_RUNLIMIT", "TERM_DEADLINE")
_MISSING = object()
_Decision = tuple[JobState, str | None, str, bool]


def select(records: list[Record], ids: Sequence[str],
           to_infos: Callable[[list[Record]], list[JobInfo]]) -> dict[str, JobInfo]:
    """Infos for the requested ids: the element or job itself (the last record of an id
    wins), or for an array's job id the aggregate of its elements (see
    :mod:`remotejobs.scheduler.arrays`). Only asked records become infos; linear."""
    by_id = {r[0]: r for r in records}
    found_ids, found, wanted = [], [], set()
    for job_id in ids:
        record = by_id.get(job_id)
        if record is None:
            wanted.add(job_id)
        else:
            found_ids.append(job_id)
            found.append(record)
    infos = dict(zip(found_ids, to_infos(found), strict=True))
    if wanted:
        members: dict[str, list[Record]] = {}
        for record in records:
            if record[2] and record[1] in wanted:
                members.setdefault(record[1], []).append(record)
        for array, group in members.items():
            infos[array] = aggregate_array(array, to_infos(group))
    return infos


def _decision(state_map: Mapping[str, JobState], stat: str, exit_reason: str, pend_reason: str,
              dash: bool) -> _Decision:
    """(state, reason, stat, final) of a record's stat, exit_reason and pend_reason fields
    as printed (see the module doc)."""
    stat, exit_reason, pend_reason = clean(stat, dash), clean(exit_reason, dash), clean(pend_reason, dash)
    state = state_map.get(stat, JobState.UNKNOWN)
    reason: str | None = None
    if state is JobState.FAILED:
        reason = exit_reason or None
        if exit_reason.startswith(_CANCELLED):
            state = JobState.CANCELLED
        elif exit_reason.startswith(_TIMEOUT):
            state = JobState.TIMEOUT
    elif state in (JobState.QUEUED, JobState.HELD):
        reason = pend_reason or None
    elif state is JobState.UNKNOWN:
        reason = (f"LSF reports {stat}: it lost contact with the execution host"
                  if stat in state_map else f"LSF reported the unknown state {stat!r}")
    return state, reason, stat, state.is_final


def _read_time(times: dict[str, object], text: str, field: str, element_id: str, minute: int,
               dash: bool) -> datetime | None:
    """A time field as printed, through ``times`` (text -> datetime, None, or ``times``
    itself for a text :func:`parse_time` refuses: logged for each record, read as None, so
    one odd time never hides the job's state)."""
    value = times.get(text, _MISSING)
    if value is _MISSING:
        try:
            value = time_at(text, minute)
        except ValueError:
            value = times
        times[text] = value
    if value is times:
        log.warning("bjobs printed %s %r for job %s, a time remotejobs cannot read; "
                    "reporting it as unknown", field, clean(text, dash), element_id)
        return None
    return value  # type: ignore[return-value]


def to_infos(records: list[Record], state_map: Mapping[str, JobState], dash: bool) -> list[JobInfo]:
    """JobInfos of records: ``state_map`` maps the stat word; an exit_reason of a killed
    or timed-out job refines EXIT; DONE has exit code 0; times are read against the
    current minute (see :func:`cached_time`). Decisions and times are worked out once per
    distinct text. ``dash``: text output, where ``-`` is an empty value."""
    minute = int(time.time() // 60)
    decisions: dict[tuple[str, str, str], _Decision] = {}
    times: dict[str, object] = {}
    get_time = times.get
    trusted = JobInfo.trusted
    completed = JobState.COMPLETED
    out = []
    for element_id, _, _, values in records:
        _, _, stat, user, queue, exit_text, exit_reason, pend_reason, submit, start, finish, name = values
        key = (stat, exit_reason, pend_reason)
        decided = decisions.get(key)
        if decided is None:
            decided = decisions[key] = _decision(state_map, stat, exit_reason, pend_reason, dash)
        state, reason, native, final = decided
        exit_code: int | None = None
        if state is completed:
            exit_code = 0  # DONE: exit_code is "-" (IBM bjobs.1)
        elif final:
            exit_text = clean(exit_text, dash)
            if exit_text.lstrip("-").isdigit():
                try:
                    exit_code = int(exit_text)
                except ValueError:  # "--1", or digits int() does not read
                    exit_code = None
        submit_time = get_time(submit, _MISSING)
        if submit_time is _MISSING or submit_time is times:
            submit_time = _read_time(times, submit, "submit_time", element_id, minute, dash)
        start_time = get_time(start, _MISSING)
        if start_time is _MISSING or start_time is times:
            start_time = _read_time(times, start, "start_time", element_id, minute, dash)
        end_time = get_time(finish, _MISSING)
        if end_time is _MISSING or end_time is times:
            end_time = _read_time(times, finish, "finish_time", element_id, minute, dash)
        user, queue, name = user.strip(), queue.strip(), name.strip()
        out.append(trusted(
            element_id, state, name=None if not name or (dash and name == "-") else name,
            native_state=native, exit_code=exit_code,
            submit_time=submit_time, start_time=start_time,  # type: ignore[arg-type]
            end_time=end_time if final else None,  # type: ignore[arg-type]
            reason=reason, queue=None if not queue or (dash and queue == "-") else queue,
            owner=None if not user or (dash and user == "-") else user,
        ))
    return out
