"""Sample every process's command line for planted secrets (issue 10, "Secrets planted").

Any user of a login node can read ``/proc/<pid>/cmdline`` of every process; a secret on a
command line (a job script passed as an argument, a password given to a tool) is a leak.
:class:`CmdlineWatcher` reads them all in a background thread while a test submits jobs,
and records what it finds with the run's :class:`~remotejobs.testing.sentinel.Sentinel`
(so a leak also fails the run). Linux only (``/proc``); the test cluster is this machine.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

from remotejobs.testing import scoreboard
from remotejobs.testing.sentinel import Leak, Sentinel

__all__ = ["CmdlineWatcher"]


class CmdlineWatcher:
    """``with CmdlineWatcher(sentinel, secrets) as w: ...``: samples until the block ends.

    :ivar samples: full passes over ``/proc``. :ivar leaks: what was found."""

    def __init__(self, sentinel: Sentinel, secrets: list[str] | None, interval: float = 0.02) -> None:
        """``secrets``: those to look for; None: every secret planted in ``sentinel`` so far."""
        self.sentinel, self.interval = sentinel, interval
        self._fixed = None if secrets is None else [s for s in secrets if s]
        self.samples = 0
        self.processes = 0
        self.leaks: list[Leak] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="cmdline-watcher", daemon=True)

    def sample(self) -> None:
        """One pass over every process's command line."""
        found: list[Leak] = []
        seen = 0
        secrets = self._fixed if self._fixed is not None else list(self.sentinel.secrets)
        if not secrets:
            return
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                raw = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue  # gone meanwhile
            seen += 1
            text = raw.replace(b"\0", b" ").decode("utf-8", "replace")
            if any(secret in text for secret in secrets):
                found += self.sentinel.check(text, f"the command line of process {entry.name}")
        with self._lock:
            self.samples += 1
            self.processes += seen
            self.leaks += found

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> CmdlineWatcher:
        self._thread.start()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        scoreboard.record("command lines sampled", self.processes)
