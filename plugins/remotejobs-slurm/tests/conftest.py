"""Fixtures of the Slurm plugin's tests: golden-output loader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from remotejobs.testing.golden import load_golden as golden_file
from remotejobs.transport.base import CommandResult

GOLDEN = Path(__file__).parent / "golden"


def load_golden(name: str) -> CommandResult:
    """``golden/<name>.txt`` (format: :mod:`remotejobs.testing.golden`)."""
    return golden_file(GOLDEN, name)


@pytest.fixture
def golden() -> Callable[[str], CommandResult]:
    return load_golden
