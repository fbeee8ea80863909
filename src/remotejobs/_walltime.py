"""Walltime text in the forms people type (used by the CLI and job type files)."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["parse_walltime"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Longer walltimes are refused (10**20 minutes overflowed timedelta with a traceback).
_MAX_WALLTIME = 3650 * 86400
_SUFFIXED = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_CLOCK = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def parse_walltime(text: str) -> timedelta:
    """A walltime from the forms people type, minutes when no unit is given.

    ``90`` (minutes), ``90m``, ``45s``, ``2h``, ``1.5h``, ``1d``, ``MM:SS``, ``H:MM:SS``,
    ``D-HH``, ``D-HH:MM``, ``D-HH:MM:SS`` (Slurm's ``--time`` forms,
    https://slurm.schedmd.com/sbatch.html#OPT_time).

    :raises ValueError: anything else, a zero walltime or one over 3650 days; the message
        lists the forms.
    """
    value = text.strip().lower()
    seconds: float | None = None
    suffixed = _SUFFIXED.match(value)
    clock = _CLOCK.match(value)
    if suffixed:
        seconds = float(suffixed.group(1)) * _UNITS[suffixed.group(2)]
    elif clock:
        days, a, b, c = clock.groups()
        if days is not None:  # D-HH[:MM[:SS]]
            seconds = int(days) * 86400 + int(a) * 3600 + int(b or 0) * 60 + int(c or 0)
        elif c is not None:  # H:MM:SS
            seconds = int(a) * 3600 + int(b) * 60 + int(c)
        elif b is not None:  # MM:SS
            seconds = int(a) * 60 + int(b)
        else:  # minutes
            seconds = int(a) * 60
    if seconds is not None and seconds > _MAX_WALLTIME:
        raise ValueError(f"{text[:40]!r} is longer than {_MAX_WALLTIME // 86400} days")
    if seconds is None or seconds < 1:
        raise ValueError(
            f"{text!r} is not a walltime; use minutes (90), a unit (90m, 2h, 45s, 1d), "
            "H:MM:SS (1:30:00) or D-HH:MM:SS (1-00:00:00)")
    return timedelta(seconds=seconds)
