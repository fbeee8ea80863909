"""Pure parsers for Slurm command output (no I/O).

Sources (every format below was also probed on the test cluster, Slurm 22.05.8 on
Debian 12, and the captures are in ``tests/golden/``):

- squeue(1), slurm-client 22.05.8: https://manpages.ubuntu.com/manpages/lunar/man1/squeue.1.html
  ``-O/--Format "type[:[.][size][suffix]]"``: an empty size with a suffix prints the whole
  field followed by the suffix, so ``JobArrayID:|,...,Name:`` gives ``|``-separated,
  unpadded fields (probed). ``exit_code`` is the job's raw wait status as returned by
  waitpid(2): ``768`` for ``exit 3``, ``9`` for a SIGKILL (probed). Times are
  ``YYYY-MM-DDTHH:MM:SS`` in the cluster's local time, ``N/A``/``NONE``/``Unknown`` when unset.
- sacct(1): https://manpages.ubuntu.com/manpages/lunar/man1/sacct.1.html ``-P`` (parsable2)
  separates fields with ``|`` and has no trailing ``|``; ``ExitCode`` is ``code:signal``;
  with ``-j`` the default start time is the Unix epoch; ``-X`` shows allocations only.
  The State column reads ``CANCELLED by <uid>`` for cancelled jobs.

The job name is always the LAST field and split off with a bounded split, so a ``|`` in
a name cannot shift the other columns. Names never contain newlines: the dialect
replaces control characters before submitting (see ``dialect.slurm_job_name``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache

from remotejobs.errors import SchedulerError
from remotejobs.models import JobInfo, JobState
from remotejobs.scheduler.arrays import Element, aggregate, aggregate_array, element_index
from remotejobs.transport.base import CommandResult

__all__ = [
    "SACCT_FIELDS",
    "SQUEUE_FIELDS",
    "Decision",
    "aggregate_array",
    "decode_exit_code",
    "decode_wait_status",
    "parse_time",
    "sacct_rows",
    "select_infos",
    "split_rows",
    "squeue_rows",
    "to_infos",
]

#: squeue --Format fields, in output order. The name must stay last (see module doc).
SQUEUE_FIELDS = (
    "JobArrayID", "ArrayJobID", "State", "exit_code", "Reason", "UserName",
    "Partition", "SubmitTime", "StartTime", "EndTime", "Name",
)
#: sacct --format fields (with -P), in output order; JobName last.
SACCT_FIELDS = ("JobID", "State", "ExitCode", "Reason", "User", "Partition",
                "Submit", "Start", "End", "JobName")

log = logging.getLogger(__name__)
_UNSET = frozenset({"", "N/A", "NONE", "None", "Unknown", "(null)"})
_ARRAY_ID = re.compile(r"^(\d+)_(\d+|\[[^\]]*\])$")
_STEP = re.compile(r"^\d+(_\d+)?\.[A-Za-z0-9_+-]+$")


@lru_cache(maxsize=8192)
def parse_time(text: str) -> datetime | None:
    """``2026-11-22T03:25:55`` -> naive datetime (cluster local time); unset or any other
    form -> None. Cached: a queue repeats the same times many times over, and
    ``fromisoformat`` on the checked shape is ~20x faster than ``strptime``."""
    text = text.strip()
    if len(text) != 19 or text[10] != "T" or not text[:4].isdigit():
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@lru_cache(maxsize=1024)
def decode_wait_status(raw: str) -> int | None:
    """squeue's ``exit_code`` (a wait status) -> exit code; a signal N gives 128+N as the
    shell reports it; unreadable -> None."""
    try:
        status = int(raw.strip())
    except ValueError:
        return None
    if status < 0:
        return None
    signal = status & 0x7F
    return 128 + signal if signal else (status >> 8) & 0xFF


@lru_cache(maxsize=1024)
def decode_exit_code(raw: str) -> int | None:
    """sacct's ``code:signal`` -> exit code (a signal N gives 128+N); unreadable -> None."""
    code, _, signal = raw.strip().partition(":")
    try:
        sig = int(signal) if signal else 0
        return 128 + sig if sig else int(code)
    except ValueError:
        return None


def _bad(what: str, result: CommandResult, line: str) -> SchedulerError:
    return SchedulerError(
        f"Could not understand {what} output line {line[:200]!r}",
        command=result.argv, exit_status=result.exit_status, output=result.output,
    )


def split_rows(what: str, result: CommandResult, fields: int, state: int,
               step_ok: bool = False) -> dict[str, list[str]]:
    """The rows of ``|``-separated output whose LAST field is the job name, by job id
    (the first field, stripped), in output order; the other fields as printed.

    A job name may hold newlines (another user's, given to sbatch directly): the output is
    split at ``\n`` only, and a line that is not a row continues the name of the row
    before it. An id that two rows claim is dropped (one of them was forged inside a
    name), with a warning. Garbage before the first row is a SchedulerError. Every line
    is split once (with a bounded split); nothing else is done per row here, so a caller
    that wants a few ids out of a long listing converts only those.
    """
    rows: dict[str, list[str]] = {}
    twice: set[str] = set()
    continued: list[list[str]] = []
    last: list[str] | None = None
    maxsplit = fields - 1
    match_array, match_step = _ARRAY_ID.match, _STEP.match
    text = result.stdout
    crlf = "\r" in text
    for raw in text.split("\n"):
        line = raw[:-1] if crlf and raw.endswith("\r") else raw
        parts = line.split("|", maxsplit)
        if len(parts) == fields:
            first = parts[0]
            if first.isdigit():
                ok = True
            else:
                head, _, tail = first.partition("_")
                if head.isdecimal() and tail.isdecimal():  # an element 12_3: what _ARRAY_ID matches
                    ok = True
                else:
                    first = first.strip()
                    ok = (first.isdigit() or match_array(first) is not None
                          or (step_ok and match_step(first) is not None))
            field = parts[state]
            if ok and field and not field.isspace():
                parts[0] = first
                if first in rows:
                    twice.add(first)
                rows[first] = last = parts
                continue
        if last is not None:
            if not continued or continued[-1] is not last:
                continued.append(last)
            last[-1] += "\n" + line
        elif line.strip():
            raise _bad(what, result, line)
    for row in continued:
        if row[-1].endswith("\n"):
            row[-1] = row[-1].rstrip("\n")
    if twice:
        log.warning("%s printed several rows for job(s) %s: ambiguous (forged in a job name?), ignored",
                    what, ", ".join(sorted(twice))[:200])
        for job_id in twice:
            del rows[job_id]
    return rows


def squeue_rows(result: CommandResult) -> dict[str, list[str]]:
    """Rows of ``squeue -h -O <SQUEUE_FIELDS with | suffixes>`` output by job id, fields
    in :data:`SQUEUE_FIELDS` order as printed (see :func:`split_rows`).

    :raises SchedulerError: garbage before the first row.
    """
    return split_rows("squeue", result, len(SQUEUE_FIELDS), state=2)


def sacct_rows(result: CommandResult) -> dict[str, list[str]]:
    """Rows of ``sacct -n -X -P --format=<SACCT_FIELDS>`` output by job id, laid out as
    squeue rows (:data:`SQUEUE_FIELDS`: the array job id second, ExitCode in place of
    exit_code); job steps skipped (see :func:`split_rows`).

    :raises SchedulerError: garbage before the first row.
    """
    rows = {}
    for job_id, parts in split_rows("sacct", result, len(SACCT_FIELDS), state=1, step_ok=True).items():
        if "." in job_id:  # a step (12.batch): -X should prevent it; be tolerant
            continue
        match = _ARRAY_ID.match(job_id)
        parts.insert(1, match.group(1) if match else job_id)
        rows[job_id] = parts
    return rows


#: What a (state, Slurm reason) pair of a row means: (state, the state word as
#: native_state, reason, started, final); see ``SlurmDialect.decision``.
Decision = tuple[JobState, str, str | None, bool, bool]
_MISSING = object()


def to_infos(rows: Iterable[list[str]], decisions: dict[tuple[str, str], Decision],
             decide: Callable[[str, str], Decision], exit_of: Callable[[str], int | None]) -> list[JobInfo]:
    """JobInfos of rows laid out as :data:`SQUEUE_FIELDS` (exit code 0 for COMPLETED,
    else ``exit_of(field)`` once final; start time once started, end time once final).

    ``decisions`` caches ``decide(state field, reason field)``; times are parsed once
    per distinct text (a queue repeats a few of each many times over)."""
    times: dict[str, object] = {}
    get_time = times.get
    trusted = JobInfo.trusted
    completed = JobState.COMPLETED
    out: list[JobInfo] = []
    append = out.append
    for job_id, _, state_text, raw_exit, reason_text, user, partition, submit, start, end, name in rows:
        decided = decisions.get((state_text, reason_text))
        if decided is None:
            decided = decide(state_text, reason_text)
        state, native, reason, started, final = decided
        submit_time = get_time(submit, _MISSING)
        if submit_time is _MISSING:
            submit_time = times[submit] = parse_time(submit)
        start_time = end_time = None
        if started:
            start_time = get_time(start, _MISSING)
            if start_time is _MISSING:
                start_time = times[start] = parse_time(start)
            if final:
                end_time = get_time(end, _MISSING)
                if end_time is _MISSING:
                    end_time = times[end] = parse_time(end)
        append(trusted(
            job_id, state, name=name or None, native_state=native,
            exit_code=(0 if state is completed else exit_of(raw_exit)) if final else None,
            submit_time=submit_time, start_time=start_time, end_time=end_time,  # type: ignore[arg-type]
            reason=reason, queue=partition.strip() or None, owner=user.strip() or None,
        ))
    return out


def select_infos(rows: dict[str, list[str]], ids: Iterable[str], decisions: dict[tuple[str, str], Decision],
                 decide: Callable[[str, str], Decision], exit_of: Callable[[str], int | None]) -> dict[str, JobInfo]:
    """Infos for the requested ids out of ``rows`` (by id, see :func:`split_rows`): the
    row of that id, or for an array's job id the aggregate of its elements (see
    :func:`remotejobs.scheduler.arrays.aggregate`). Only the asked rows become infos;
    an array's elements become light tuples, and only the element the aggregate is made
    from becomes an info. Linear in rows + ids."""
    found_ids, found_rows, wanted = [], [], set()
    for job_id in ids:
        row = rows.get(job_id)
        if row is None:
            wanted.add(job_id)
        else:
            found_ids.append(job_id)
            found_rows.append(row)
    found = dict(zip(found_ids, to_infos(found_rows, decisions, decide, exit_of), strict=True))
    if not wanted:
        return found
    times: dict[str, datetime | None] = {}

    def when(text: str) -> datetime | None:
        value = times.get(text, _MISSING)
        if value is _MISSING:
            value = times[text] = parse_time(text)
        return value  # type: ignore[return-value]

    members: dict[str, list[Element[list[str]]]] = {}
    decided_get = decisions.get
    for job_id, row in rows.items():
        parent = row[1].strip() or job_id
        if parent not in wanted or parent == job_id:
            continue
        decided = decided_get((row[2], row[4]))
        if decided is None:
            decided = decide(row[2], row[4])
        _, sep, tail = job_id.rpartition("_")
        index = int(tail) if sep and tail.isdecimal() else element_index(job_id)  # ids: see split_rows
        element = (decided[0], index, when(row[8]) if decided[3] else None,
                   when(row[9]) if decided[3] and decided[4] else None, row)
        group = members.get(parent)
        if group is None:
            members[parent] = [element]
        else:
            group.append(element)

    def info_of(row: list[str]) -> JobInfo:
        return to_infos((row,), decisions, decide, exit_of)[0]

    for array, elements in members.items():
        found[array] = aggregate(array, elements, info_of)
    return found
