"""Fixtures of the LSF plugin's tests: golden-output loader and resources on the emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from remotejobs_lsf import LsfResource, LsfSettings

from remotejobs.testing.golden import load_golden as golden_file
from remotejobs.transport.base import CommandResult

GOLDEN = Path(__file__).parent / "golden"
Factory = Callable[..., LsfResource]


def load_golden(name: str) -> CommandResult:
    """``golden/<name>.txt`` (format: :mod:`remotejobs.testing.golden`)."""
    return golden_file(GOLDEN, name)


@pytest.fixture
def golden() -> Callable[[str], CommandResult]:
    return load_golden


@pytest.fixture
def lsf_resource(cluster: dict[str, Any], ssh_settings: dict[str, Any],
                 cluster_users: list[dict[str, Any]]) -> Factory:
    """``lsf_resource(i, **settings)``: a not-logged-in resource reaching the LSF emulator
    over SSH as cluster user ``i``."""

    def make(i: int, **extra: Any) -> LsfResource:
        user = cluster_users[i]
        settings = LsfSettings(**ssh_settings, username=user["name"], key_file=user["key_file"],
                               bin_dir=cluster["commands"]["lsf_emulator"], **extra)
        return LsfResource(settings, name="lsf-test")

    return make
