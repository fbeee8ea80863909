"""Time values as the PBS family's ``qstat`` prints them (shared by the torque and pbs dialects).

- Durations such as ``Resource_List.walltime`` and ``resources_used.walltime`` are
  ``[[HH:]MM:]SS`` (OpenPBS ``src/lib/Libattr/attr_fn_time.c`` ``decode_time``; Torque's
  ``qstat -f`` prints the same form).
- Times such as ``qtime``, ``stime``, ``obittime`` (PBS) and Torque's ``-f`` text are
  ``ctime(3)`` text, ``Thu Mar  7 10:00:01 2024`` (OpenPBS ``src/cmds/qstat.c`` prints
  time attributes with ``ctime``).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

__all__ = ["clock_seconds", "parse_ctime"]


def clock_seconds(text: str | None) -> int | None:
    """Seconds of ``[[HH:]MM:]SS`` (each part may carry a fraction, which is dropped);
    None when ``text`` is empty or not of that form."""
    if not text:
        return None
    try:
        total = 0
        for part in text.split(":"):
            total = total * 60 + int(float(part))
    except ValueError:
        return None
    return total


def parse_ctime(text: str | None) -> datetime | None:
    """A naive local time from ``ctime(3)`` text (runs of spaces folded); None when
    ``text`` is empty or not of that form."""
    return _read_ctime(text) if text else None


@lru_cache(maxsize=4096)
def _read_ctime(text: str) -> datetime | None:
    """Cached: a queue repeats the same times many times over (and strptime is slow)."""
    value = " ".join((text or "").split())
    if not value:
        return None
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
