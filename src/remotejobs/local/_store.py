"""On-disk job records of the local backend, shared by every process of the same user.

Layout under the state directory::

    next-id                      last id handed out (guarded by an flock on next-id.lock)
    users/<user>/jobs/<id>/      the job directory (also its default working directory)
        .spec.json               the JobSpec and submit time, written before the job starts
        .supervisor.json         the supervisor's pid, written once it was started
        .started.json            supervisor pid/pgid and start time
        .result.json             final state, exit code, end time, reason
        .cancel                  present when a cancel was requested
        stdout, stderr           the job's output files (unless the spec names others)
    users/<user>/files/          where relative upload destinations go
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path
from typing import Any

__all__ = ["Store", "read_json", "write_json"]

_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$")

SPEC, STARTED, RESULT, CANCEL = ".spec.json", ".started.json", ".result.json", ".cancel"
SUPERVISOR = ".supervisor.json"


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (temporary file, then rename), readable by the owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object at ``path``, or None if it does not exist (yet)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return data if isinstance(data, dict) else None


class Store:
    """Paths and id allocation for one state directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def valid_user(user: str) -> bool:
        return bool(_USER.match(user)) and user not in (".", "..")

    def user_dir(self, user: str) -> Path:
        return self.root / "users" / user

    def jobs_dir(self, user: str) -> Path:
        return self.user_dir(user) / "jobs"

    def job_dir(self, user: str, job_id: str) -> Path | None:
        """The job's directory if ``job_id`` is one of ``user``'s jobs, else None."""
        if not job_id.isdigit():
            return None
        path = self.jobs_dir(user) / job_id
        return path if (path / SPEC).exists() else None

    def new_id(self) -> str:
        """A fresh id, unique across processes and users of this state directory."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.root / "next-id.lock", "a", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            counter = self.root / "next-id"
            try:
                last = int(counter.read_text(encoding="utf-8").strip() or 0)
            except FileNotFoundError:
                last = 0
            counter.write_text(str(last + 1), encoding="utf-8")
            return str(last + 1)

    def job_ids(self, user: str) -> list[str]:
        folder = self.jobs_dir(user)
        if not folder.is_dir():
            return []
        return sorted((p.name for p in folder.iterdir() if (p / SPEC).exists()), key=int)
