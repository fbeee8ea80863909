"""Pause Python's cyclic garbage collector while a parser builds many objects.

A status answer for 100,000 jobs makes some 300,000 container objects in one go (rows,
infos and their dicts). None of them is garbage, but each 700 new containers start a
young-generation collection and, as the heap grows, full collections walk everything made
so far: about half of the parse time (profiled with ``benchmarks``, see
docs/benchmarks.md). Pausing the collector for the parse and restoring it afterwards is
the remedy the ``gc`` module documents for such allocation bursts
(https://docs.python.org/3/library/gc.html#gc.disable); reference counting still frees
everything that is not cyclic.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["collector_paused"]

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_depth = 0  # calls inside a pause that this module started


def collector_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate ``fn`` so that it runs with the collector disabled, if it was enabled.

    Contract: the collector's enabled state after the call is what it was before the
    outermost paused call (nested and concurrent paused calls share one pause); a program
    that disabled the collector itself keeps it disabled.
    """

    @functools.wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        global _depth
        with _lock:
            if _depth == 0 and not gc.isenabled():
                owner = False
            else:
                owner = True
                _depth += 1
                gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if owner:
                with _lock:
                    _depth -= 1
                    if _depth == 0:
                        gc.enable()

    return paused
