"""The conformance kit against the built-in local backend."""

from __future__ import annotations

from pathlib import Path

import pytest

import remotejobs
from remotejobs.testing import ContractEnv, ResourceContract


class TestLocalContract(ResourceContract):
    @pytest.fixture
    def contract_env(self, tmp_path: Path) -> ContractEnv:
        state = tmp_path / "state"
        return ContractEnv(
            open=lambda i: remotejobs.open_resource(backend="local", state_dir=str(state)),
            users=[("alice", None), ("bob", None)],
            remote_dir="inbox",
            timeout=30,
        )
