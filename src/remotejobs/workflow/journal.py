"""The workflow journal: one SQLite file per workflow name, in the user's state directory.

``$REMOTEJOBS_STATE_DIR/workflows/<name>.sqlite`` (default directory
``platformdirs.user_state_dir("remotejobs")``). The database runs in WAL mode with
``synchronous=FULL``; every write is one transaction, so a process killed at any moment
leaves either the old row or the new one, never half of it. The file is created 0600.

A row per step, keyed by the step's memo key (see :mod:`remotejobs.workflow.engine`):
its label, kind, resource name, scheduler job id, the submission token (written before
the job is submitted, so a crash between submit and record can be recovered by finding
the token in the job name), the last known state and reason, the result (e.g. the remote
path of a transfer) and the JSON payload needed to resume the step in another process.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from remotejobs.errors import ConfigurationError

__all__ = ["Journal", "JournalRow", "journal_path", "workflow_names"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_COLUMNS = ("key", "label", "kind", "resource", "job_id", "token", "state", "reason", "result", "payload",
            "position", "updated")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS steps (
    key TEXT PRIMARY KEY, label TEXT NOT NULL, kind TEXT NOT NULL, resource TEXT NOT NULL,
    job_id TEXT, token TEXT, state TEXT NOT NULL, reason TEXT, result TEXT, payload TEXT,
    position INTEGER NOT NULL DEFAULT 0, updated REAL NOT NULL
)
"""


def _state_dir() -> Path:
    env = os.environ.get("REMOTEJOBS_STATE_DIR")
    return Path(env) if env else Path(platformdirs.user_state_dir("remotejobs"))


def journal_path(name: str, directory: Path | None = None) -> Path:
    """Where the journal of workflow ``name`` lives.

    :raises ConfigurationError: ``name`` is not 1-100 of ``[A-Za-z0-9_.-]`` starting with
        a letter or digit (it becomes a file name).
    """
    if not _NAME.match(name):
        raise ConfigurationError(f"Invalid workflow name {name!r}",
                                 hint="Use 1-100 letters, digits, '_', '.', '-', starting with a letter or digit")
    return (directory or _state_dir() / "workflows") / f"{name}.sqlite"


def workflow_names(directory: Path | None = None) -> list[str]:
    """Names of the workflows that have a journal."""
    folder = directory or _state_dir() / "workflows"
    return sorted(p.stem for p in folder.glob("*.sqlite")) if folder.is_dir() else []


@dataclass(frozen=True)
class JournalRow:
    """One step as recorded (see the module doc for the fields)."""

    key: str
    label: str
    kind: str
    resource: str
    job_id: str | None
    token: str | None
    state: str
    reason: str | None
    result: str | None
    payload: str | None
    position: int
    updated: float


class Journal:
    """The journal of one workflow. Not shared between threads (one connection)."""

    def __init__(self, name: str, directory: Path | None = None, *, create: bool = True) -> None:
        self.name = name
        self.path = journal_path(name, directory)
        if not create and not self.path.exists():
            raise ConfigurationError(f"No workflow named {name!r} has a journal ({self.path})",
                                     hint="Run the workflow's script first; `remotejobs workflow status` lists them")
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def get(self, key: str) -> JournalRow | None:
        row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM steps WHERE key = ?", (key,)).fetchone()  # noqa: S608
        return JournalRow(*row) if row else None

    def rows(self) -> list[JournalRow]:
        """Every step, in the order the script declared them."""
        cur = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM steps ORDER BY position, updated")  # noqa: S608
        return [JournalRow(*r) for r in cur.fetchall()]

    def put(self, key: str, **fields: object) -> None:
        """Insert or update the row ``key`` with ``fields`` (one transaction). A new row
        needs ``label``, ``kind``, ``resource`` and ``state``."""
        unknown = set(fields) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown journal columns {sorted(unknown)}")
        fields["updated"] = time.time()
        if self.get(key) is not None:
            sets = ", ".join(f"{n} = ?" for n in fields)
            self._db.execute(f"UPDATE steps SET {sets} WHERE key = ?", (*fields.values(), key))  # noqa: S608
            return
        names = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        self._db.execute(f"INSERT INTO steps (key, {names}) VALUES (?, {marks})", (key, *fields.values()))  # noqa: S608

    def close(self) -> None:
        self._db.close()
