"""PBS Professional / OpenPBS job ids, checked before any id reaches a command or a path.

Grammar (OpenPBS ``src/lib/Libcmds/parse_jobid.c``; qsub(1B) "Job Identifier"): a
sequence number, optionally ``[]`` (a job array) or ``[<index>]`` (one subjob), optionally
``.<server name>``. qsub prints ``123.server`` or ``123[].server`` and ``qstat`` shows
subjobs as ``123[4].server`` (``doc/man1/qstat.1B``). Reservation ids (``R12``) and subjob
ranges (``123[1-4]``) are ids of other things and are refused here, and so is ``0`` (a
wildcard elsewhere; a PBS server numbers its first job 0 at most once).
"""

from __future__ import annotations

import re

__all__ = ["ID_FORMS", "_ID", "array_of", "is_job_id", "key"]

# matched with fullmatch only (no anchors: "$" would accept a trailing newline)
_ID = re.compile(r"([1-9][0-9]{0,19})(\[([0-9]{0,9})\])?(\.[A-Za-z0-9][A-Za-z0-9_.-]{0,252})?", re.ASCII)
ID_FORMS = "N.server, N[].server or N[i].server (the server part is optional)"


def is_job_id(text: str) -> bool:
    """True when ``text`` is one PBS job, array or subjob id (nothing else, no spaces)."""
    return bool(_ID.fullmatch(text))


def key(job_id: str) -> str:
    """The comparable part: everything before the first ``.`` (``123``, ``123[]``,
    ``123[4]``). qsub may print a longer server name than qstat shows, or none."""
    return job_id.strip().split(".", 1)[0]


def array_of(job_id: str) -> str | None:
    """For a subjob id ``123[4].srv`` the key of its array, ``123[]``; else None."""
    match = _ID.fullmatch(job_id.strip())
    if not match or not match.group(3):
        return None
    return f"{match.group(1)}[]"
