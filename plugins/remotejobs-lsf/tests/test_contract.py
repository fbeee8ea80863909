"""The conformance suite against the ``lsf`` backend over SSH, on the LSF emulator of the
real test cluster (tests/cluster/emulators/lsf: bsub/bjobs/bkill running jobs on Slurm)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from remotejobs_lsf import LsfResource

import remotejobs
from remotejobs.testing import ContractEnv, ResourceContract

pytestmark = pytest.mark.cluster


class TestLsfOverSSH(ResourceContract):
    @pytest.fixture
    def contract_env(self, lsf_resource: Callable[..., LsfResource],
                     cluster_users: list[dict[str, Any]]) -> ContractEnv:
        return ContractEnv(
            open=lsf_resource,
            users=[(u["name"], None) for u in cluster_users[:2]],
            remote_dir="remotejobs-contract-inbox",
        )


class TestLsfJsonOverSSH(ResourceContract):
    """The same suite reading status with ``bjobs -o ... -json``."""

    @pytest.fixture
    def contract_env(self, lsf_resource: Callable[..., LsfResource],
                     cluster_users: list[dict[str, Any]]) -> ContractEnv:
        return ContractEnv(
            open=lambda i: lsf_resource(i, status_format="json"),
            users=[(u["name"], None) for u in cluster_users[:2]],
            remote_dir="remotejobs-contract-inbox",
        )


def test_open_resource_finds_the_lsf_backend(ssh_settings: dict[str, Any]) -> None:
    resource = remotejobs.open_resource(backend="lsf", limit_unit="GB", **ssh_settings)
    assert isinstance(resource, LsfResource) and resource.dialect.limit_unit == "GB"
    with pytest.raises(remotejobs.errors.InvalidSettingsError, match="status_format"):
        remotejobs.open_resource(backend="lsf", status_format="xml")
