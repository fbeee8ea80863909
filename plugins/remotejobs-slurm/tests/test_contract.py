"""The conformance suite on the real test cluster (tests/cluster/up): over SSH as the two
unprivileged users, and with the local transport (this test process, root, runs the
Slurm commands directly, as a tool on a login node would)."""

from __future__ import annotations

import getpass
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from remotejobs_slurm import SlurmResource, SlurmSettings

import remotejobs
import remotejobs.errors
from remotejobs.errors import AuthenticationError
from remotejobs.models import Dependency, JobSpec, JobState
from remotejobs.testing import ContractEnv, ResourceContract


def ssh_resource(ssh_settings: dict[str, Any], user: dict[str, Any], **extra: Any) -> SlurmResource:
    """A not-logged-in Slurm resource reaching the test cluster over SSH as ``user``."""
    settings = SlurmSettings(**ssh_settings, username=user["name"], key_file=user["key_file"],
                             default_queue="debug", **extra)
    return SlurmResource(settings, name="slurm-test")


class TestSlurmOverSSH(ResourceContract):
    @pytest.fixture
    def contract_env(self, ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]]) -> ContractEnv:
        return ContractEnv(
            open=lambda i: ssh_resource(ssh_settings, cluster_users[i]),
            users=[(u["name"], None) for u in cluster_users[:2]],
            remote_dir="remotejobs-contract-inbox",
        )


class TestSlurmLocal(ResourceContract):
    """Local transport: the Slurm commands run as the current OS user (root here)."""

    @pytest.fixture
    def contract_env(self, cluster: dict[str, Any]) -> ContractEnv:
        return ContractEnv(
            open=lambda i: SlurmResource(SlurmSettings(default_queue="debug"), name="slurm-local"),
            users=[(None, None), (None, None)],
            remote_dir="remotejobs-contract-inbox",
        )

    def test_two_users_do_not_see_each_other(self, contract_env: ContractEnv) -> None:
        """Replaces the contract's two-user test: a local transport can only ever be the
        current OS user, so the second user is refused (before anything runs) with
        AuthenticationError; user separation itself is tested over SSH above."""
        other = "rjbob" if getpass.getuser() != "rjbob" else "rjalice"
        resource = contract_env.open(1)
        with pytest.raises(AuthenticationError) as err:
            resource.login(other, None)
        assert other in str(err.value) and err.value.resource == resource.name
        assert not resource.logged_in


def test_open_resource_finds_the_slurm_backend(ssh_settings: dict[str, Any]) -> None:
    resource = remotejobs.open_resource(backend="slurm", accounting=False, **ssh_settings)
    assert isinstance(resource, SlurmResource) and resource.dialect.accounting is False
    with pytest.raises(remotejobs.errors.InvalidSettingsError, match="accounting"):
        remotejobs.open_resource(backend="slurm", accounting="sometimes")


@pytest.fixture
def alice(ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]]) -> Iterator[SlurmResource]:
    resource = ssh_resource(ssh_settings, cluster_users[0])
    resource.login(cluster_users[0]["name"])
    yield resource
    resource.close()


def test_array_job_status_per_element_and_aggregate(alice: SlurmResource, tmp_path: Path) -> None:
    spec = JobSpec(executable="/bin/sh", arguments=("-c", 'echo "element $SLURM_ARRAY_TASK_ID"; '
                                                    "exit $((SLURM_ARRAY_TASK_ID - 1))"), array="1-3")
    job = alice.submit(spec)
    info = job.wait(timeout=90)
    assert (info.state, info.exit_code) == (JobState.FAILED, 1), info
    elements = alice.status_many([f"{job.id}_{n}" for n in (1, 2, 3)])
    assert [(elements[f"{job.id}_{n}"].state, elements[f"{job.id}_{n}"].exit_code) for n in (1, 2, 3)] == [
        (JobState.COMPLETED, 0), (JobState.FAILED, 1), (JobState.FAILED, 2)]
    files = alice.download(f"{job.id}_3", tmp_path)
    assert "element 3" in (tmp_path / "stdout-3").read_text() and len(files) >= 3


def test_dependency_waits_for_its_job(alice: SlurmResource) -> None:
    first = alice.submit(JobSpec(executable="/bin/sh", arguments=("-c", "exit 1")))
    second = alice.submit(JobSpec(executable="/bin/true", depends_on=Dependency(job_ids=(first.id,))))
    assert first.wait(timeout=90).state is JobState.FAILED
    info = second.status()
    assert info.state is JobState.QUEUED and "Dependency" in (info.reason or ""), info
    second.cancel()
    assert second.wait(timeout=90).state is JobState.CANCELLED


@pytest.mark.cluster
def test_ping_without_session_leaves_no_connection_behind(
    ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]]
) -> None:
    from remotejobs.transport import _ssh_pool

    alice = cluster_users[0]
    resource = ssh_resource(ssh_settings, alice)
    before = {k for k, c in _ssh_pool._POOL.items() if c.refs > 0}
    assert resource.ping() is True
    assert {k for k, c in _ssh_pool._POOL.items() if c.refs > 0} == before
    wrong_key = remotejobs.open_resource(backend="slurm", **{**ssh_settings, "username": alice["name"],
                                                             "key_file": "/nonexistent/key"})
    assert wrong_key.ping() is True  # the server answered; the credentials are another matter
    unreachable = remotejobs.open_resource(backend="slurm", host="127.0.0.1", port=1, connect_timeout=2,
                                           username=alice["name"], known_hosts=ssh_settings["known_hosts"])
    assert unreachable.ping() is False


def test_relative_paths_resolve_against_the_remote_home(
    ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]], tmp_path: Path
) -> None:
    """docs/configuration.md "Relative paths": with ``job_root`` elsewhere (absolute), a
    relative upload target and a relative job directory still mean the same place in $HOME."""
    alice = cluster_users[0]
    tag = secrets.token_hex(4)
    resource = ssh_resource(ssh_settings, alice, job_root=f"/tmp/rj-paths-{tag}")
    resource.login(alice["name"])
    inbox = f"rj-paths-inbox-{tag}"
    try:
        local = tmp_path / "input.txt"
        local.write_text("payload\n")
        assert resource.upload(local, inbox) == f"{alice['home']}/{inbox}/input.txt"
        job = resource.submit(JobSpec(executable="/bin/sh", arguments=("-c", "pwd; cat input.txt"),
                                      directory=inbox))
        info = job.wait(timeout=90)
        assert info.state is JobState.COMPLETED, info
        (out,) = job.download(tmp_path / "out", name="stdout")
        assert out.read_text() == f"{alice['home']}/{inbox}\npayload\n"
    finally:
        resource.transport.run(["rm", "-rf", "--", f"/tmp/rj-paths-{tag}", f"{alice['home']}/{inbox}"])
        resource.close()
