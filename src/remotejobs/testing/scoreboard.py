"""Counters of a test run's attacks (issue 10's scoreboard), shown at the end of the run.

Tests call :func:`record` (``record("parser fuzz cases", 12)``); the pytest plugin
:mod:`remotejobs.testing.sentinel` prints :func:`counts` in the terminal summary and
writes them as JSON. Process-local and thread-safe; no effect outside a test run.
"""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["MUST_BE_ZERO", "counts", "nonzero_failures", "record", "reset"]

#: Counters that must stay zero (issue 10, "Done when"): any of them above zero fails the run.
MUST_BE_ZERO = ("jobs lost", "jobs duplicated", "jobs forged", "jobs leaked", "jobs injected", "leaks found")

_LOCK = threading.Lock()
_COUNTS: Counter[str] = Counter()


def record(kind: str, n: int = 1) -> None:
    """Add ``n`` to the counter ``kind`` (e.g. ``"secrets planted"``, ``"leaks found"``)."""
    with _LOCK:
        _COUNTS[kind] += n


def counts() -> dict[str, int]:
    """A copy of every counter, sorted by name."""
    with _LOCK:
        return dict(sorted(_COUNTS.items()))


def reset() -> None:
    """Forget every counter (for the plugin's own tests)."""
    with _LOCK:
        _COUNTS.clear()


def nonzero_failures() -> dict[str, int]:
    """The :data:`MUST_BE_ZERO` counters that are not zero."""
    with _LOCK:
        return {k: _COUNTS[k] for k in MUST_BE_ZERO if _COUNTS.get(k, 0)}
