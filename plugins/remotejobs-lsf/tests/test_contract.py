"""The conformance suite against the ``lsf`` backend over SSH, on the LSF emulator of the
real test cluster (tests/cluster/emulators/lsf: bsub/bjobs/bkill running jobs on Slurm)."""

from __future__ import annotations

from typing import Any

import pytest

import remotejobs
from remotejobs.testing import ContractEnv, ResourceContract
from remotejobs_lsf import LsfResource, LsfSettings


def lsf_resource(cluster: dict[str, Any], ssh_settings: dict[str, Any], user: dict[str, Any],
                 **extra: Any) -> LsfResource:
    """A not-logged-in LSF resource reaching the emulator over SSH as ``user``."""
    settings = LsfSettings(**ssh_settings, username=user["name"], key_file=user["key_file"],
                           bin_dir=cluster["commands"]["lsf_emulator"], **extra)
    return LsfResource(settings, name="lsf-test")


class TestLsfOverSSH(ResourceContract):
    @pytest.fixture
    def contract_env(self, cluster: dict[str, Any], ssh_settings: dict[str, Any],
                     cluster_users: list[dict[str, Any]]) -> ContractEnv:
        return ContractEnv(
            open=lambda i: lsf_resource(cluster, ssh_settings, cluster_users[i]),
            users=[(u["name"], None) for u in cluster_users[:2]],
            remote_dir="remotejobs-contract-inbox",
        )


class TestLsfJsonOverSSH(TestLsfOverSSH):
    """The same suite reading status with ``bjobs -o ... -json``."""

    @pytest.fixture
    def contract_env(self, cluster: dict[str, Any], ssh_settings: dict[str, Any],
                     cluster_users: list[dict[str, Any]]) -> ContractEnv:
        return ContractEnv(
            open=lambda i: lsf_resource(cluster, ssh_settings, cluster_users[i], status_format="json"),
            users=[(u["name"], None) for u in cluster_users[:2]],
            remote_dir="remotejobs-contract-inbox",
        )


def test_open_resource_finds_the_lsf_backend(ssh_settings: dict[str, Any]) -> None:
    resource = remotejobs.open_resource(backend="lsf", limit_unit="GB", **ssh_settings)
    assert isinstance(resource, LsfResource) and resource.dialect.limit_unit == "GB"  # type: ignore[attr-defined]
    with pytest.raises(remotejobs.errors.InvalidSettingsError, match="status_format"):
        remotejobs.open_resource(backend="lsf", status_format="xml")
