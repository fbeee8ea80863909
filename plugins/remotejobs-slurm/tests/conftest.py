"""Fixtures of the Slurm plugin's tests: golden-output loader."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from remotejobs.transport.base import CommandResult

GOLDEN = Path(__file__).parent / "golden"


def load_golden(name: str) -> CommandResult:
    """Read ``golden/<name>.txt``: ``# key: value`` header lines (origin, note, command,
    exit_status), then ``--- stdout``, the stdout text, ``--- stderr``, the stderr text."""
    text = (GOLDEN / f"{name}.txt").read_text(encoding="utf-8")
    head, _, rest = text.partition("--- stdout\n")
    stdout, _, stderr = rest.partition("--- stderr\n")
    meta = dict(line[2:].split(": ", 1) for line in head.splitlines() if line.startswith("# "))
    assert "origin" in meta, f"{name}: every golden file says where it comes from"
    return CommandResult(argv=tuple(shlex.split(meta["command"])), exit_status=int(meta["exit_status"]),
                         stdout=stdout, stderr=stderr)


@pytest.fixture
def golden() -> Callable[[str], CommandResult]:
    return load_golden
