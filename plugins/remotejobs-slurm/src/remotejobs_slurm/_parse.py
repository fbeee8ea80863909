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
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from typing import NamedTuple

from remotejobs.errors import SchedulerError
from remotejobs.models import JobInfo
from remotejobs.scheduler import arrays
from remotejobs.scheduler.arrays import aggregate_array
from remotejobs.transport.base import CommandResult

__all__ = [
    "SQUEUE_FIELDS",
    "Row",
    "aggregate_array",
    "decode_exit_code",
    "decode_wait_status",
    "parse_sacct_rows",
    "parse_squeue_rows",
    "parse_time",
    "select",
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


class Row(NamedTuple):
    """One job line from squeue or sacct, fields still as Slurm printed them (a named
    tuple: cheap to make by the hundred thousand)."""

    job_id: str
    array_job_id: str
    state: str
    exit_code: int | None
    reason: str
    user: str
    partition: str
    submit: str
    start: str
    end: str
    name: str


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


def _lines(what: str, result: CommandResult, fields: int, state: int,
           step_ok: bool = False) -> list[list[str]]:
    """The rows of ``|``-separated output whose LAST field is the job name (the first
    field stripped).

    A job name may hold newlines (another user's, given to sbatch directly): the output is
    split at ``\n`` only, and a line that is not a row continues the name of the row
    before it. An id that two rows claim is dropped (one of them was forged inside a
    name), with a warning. Garbage before the first row is a SchedulerError.
    """
    rows: list[list[str]] = []
    maxsplit = fields - 1
    match_array, match_step = _ARRAY_ID.match, _STEP.match
    for raw in result.stdout.split("\n"):
        line = raw[:-1] if raw.endswith("\r") else raw
        parts = line.split("|", maxsplit)
        if len(parts) == fields:
            first = parts[0].strip()
            if ((first.isdigit() or match_array(first) is not None or (step_ok and match_step(first) is not None))
                    and parts[state].strip()):
                parts[0] = first
                rows.append(parts)
                continue
        if rows:
            rows[-1][-1] += "\n" + line
        elif line.strip():
            raise _bad(what, result, line)
    for row in rows:
        if row[-1].endswith("\n"):
            row[-1] = row[-1].rstrip("\n")
    if len({row[0] for row in rows}) == len(rows):
        return rows
    seen = Counter(row[0] for row in rows)
    twice = {job_id for job_id, n in seen.items() if n > 1}
    log.warning("%s printed several rows for job(s) %s: ambiguous (forged in a job name?), ignored",
                what, ", ".join(sorted(twice))[:200])
    return [row for row in rows if row[0] not in twice]


def parse_squeue_rows(result: CommandResult) -> list[Row]:
    """Rows of ``squeue -h -O <SQUEUE_FIELDS with | suffixes>`` output (see :func:`_lines`).

    :raises SchedulerError: garbage before the first row.
    """
    wait_status = decode_wait_status
    return [Row(job_id, array_id.strip() or job_id, state.strip(), wait_status(raw_exit), reason.strip(),
                user.strip(), part.strip(), sub, start, end, name)
            for job_id, array_id, state, raw_exit, reason, user, part, sub, start, end, name
            in _lines("squeue", result, len(SQUEUE_FIELDS), state=2)]


def parse_sacct_rows(result: CommandResult) -> list[Row]:
    """Rows of ``sacct -n -X -P --format=<SACCT_FIELDS>`` output (job steps skipped; see
    :func:`_lines`).

    :raises SchedulerError: garbage before the first row.
    """
    rows = []
    for parts in _lines("sacct", result, len(SACCT_FIELDS), state=1, step_ok=True):
        job_id, state, raw_exit, reason, user, part, sub, start, end, name = parts
        if "." in job_id:  # a step (12.batch): -X should prevent it; be tolerant
            continue
        match = _ARRAY_ID.match(job_id)
        rows.append(Row(job_id, match.group(1) if match else job_id, state.strip(),
                        decode_exit_code(raw_exit), reason.strip(), user.strip(), part.strip(),
                        sub, start, end, name))
    return rows


def select(rows: Iterable[Row], ids: Iterable[str],
           to_info: Callable[[Row], JobInfo]) -> dict[str, JobInfo]:
    """Infos for the requested ids: a row whose id matches, or for an array's job id the
    aggregate of its elements (see :mod:`remotejobs.scheduler.arrays`)."""
    return arrays.select(rows, ids, to_info, own_id=_own_id,
                         array_id=lambda r: r.array_job_id if r.array_job_id != r.job_id else None)


_own_id: Callable[[Row], str] = attrgetter("job_id")
