"""What every benchmark case shares: the cluster, timing with min/median/max, result rows.

A *row* is one figure measured in this run (``remotejobs`` or a reference), with all its
samples; a *comparison* sets remotejobs beside the references of the same case and states
the target the project set itself. Nothing here asserts: the report shows, per case,
whether the target was met, and ``make bench`` never fails on a missed target.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Row:
    """One measured figure: ``samples`` in ``unit``; ``lower_is_better`` for times."""

    case: str
    how: str
    unit: str
    samples: list[float]
    reference: bool = False
    lower_is_better: bool = True
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(min=min(self.samples), median=self.median, max=max(self.samples))
        return out


@dataclass
class Comparison:
    """remotejobs (``ours``) beside the references of one case, and the target."""

    case: str
    ours: Row
    refs: list[Row] = field(default_factory=list)
    target: str = ""
    #: (reference how, factor): met when ours <= factor * that reference (times), or
    #: ours >= factor * reference (rates). ``None``: reported, not compared.
    goal: tuple[str, float] | None = None
    #: An absolute target instead: met when ours <= limit (times) or >= limit (rates).
    limit: float | None = None

    def ratio(self, ref: Row) -> float:
        """How many times the reference's figure remotejobs' figure is (ours / ref)."""
        return self.ours.median / ref.median if ref.median else float("inf")

    def met(self) -> bool | None:
        if self.limit is not None:
            lower = self.ours.lower_is_better
            return self.ours.median <= self.limit if lower else self.ours.median >= self.limit
        if self.goal is None:
            return None
        how, factor = self.goal
        ref = next(r for r in self.refs if r.how == how)
        if self.ours.lower_is_better:
            return self.ours.median <= factor * ref.median
        return self.ours.median >= factor * ref.median

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case, "target": self.target, "met": self.met(),
            "ours": self.ours.as_dict(), "refs": [r.as_dict() for r in self.refs],
            "ratios": {r.how: self.ratio(r) for r in self.refs},
        }


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall time of each of ``repeat`` calls of ``fn``, in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def sh(argv: list[str], *, env: dict[str, str] | None = None, stdin: bytes | None = None) -> str:
    """Run ``argv`` (no shell); its stdout. Raises CalledProcessError with stderr on failure."""
    done = subprocess.run(argv, input=stdin, capture_output=True, check=False,
                          env=None if env is None else {**os.environ, **env})
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, argv, done.stdout, done.stderr)
    return done.stdout.decode()


def cluster_info() -> dict[str, Any]:
    """The test cluster's description (brings it up; idempotent; needs root)."""
    info: dict[str, Any] = json.loads(sh([str(ROOT / "tests" / "cluster" / "up")]))
    return info


def as_user(user: str, argv: list[str]) -> list[str]:
    """``argv`` run as a cluster user on this (login) node."""
    return ["runuser", "-u", user, "--", *argv]
