"""Slurm accounting on the live test cluster (slurmdbd + MariaDB, AccountingStorageEnforce=
associations,qos; tests/cluster/_accounting.py): what slurmctld enforces for JobSpec's site
fields, and the status paths with accounting on (``sacct`` answers) and off (``sacct`` says
"accounting storage is disabled", as it does on a site without slurmdbd)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from remotejobs_slurm import SlurmResource, SlurmSettings

from remotejobs.errors import SubmissionError
from remotejobs.models import JobSpec, JobState
from remotejobs.testing.sessions import ClusterSessions

pytestmark = pytest.mark.cluster
TIMEOUT = 120


@pytest.fixture
def setup(cluster: dict[str, Any]) -> dict[str, Any]:
    """The associations tests/cluster/up created (accounts, QoS, node features)."""
    assert cluster["slurm"]["accounting"] is True
    facts: dict[str, Any] = cluster["slurm"]["accounting_setup"]
    return facts


@pytest.fixture
def alice(cluster_session: ClusterSessions) -> SlurmResource:
    return cluster_session(SlurmResource, SlurmSettings, "slurm-accounting", default_queue="debug")


@pytest.fixture
def bob(cluster_session: ClusterSessions) -> SlurmResource:
    return cluster_session(SlurmResource, SlurmSettings, "slurm-accounting", user=1, default_queue="debug")


def _refused(resource: SlurmResource, words: str, **fields: Any) -> None:
    with pytest.raises(SubmissionError, match=words) as err:
        resource.submit(JobSpec(executable="/bin/true", name="rj-acct-refused", **fields))
    assert err.value.resource == resource.name


_SACCT = ("JobID", "Account", "QOS", "Reservation", "State", "ExitCode")


def _sacct(resource: SlurmResource, job_id: str, **want: str) -> dict[str, str]:
    """``sacct``'s record of ``job_id`` once it has the ``want``ed fields (slurmctld sends
    its records to slurmdbd asynchronously, and a fresh record can show QOS ``Unknown``)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        out = resource.transport.run(["sacct", "-n", "-X", "-P", "-j", job_id, "--format=" + ",".join(_SACCT)])
        rows = [dict(zip(_SACCT, line.split("|"), strict=False)) for line in out.stdout.splitlines()
                if line.startswith(f"{job_id}|")]
        if rows and all(rows[0].get(k) == v for k, v in want.items()):
            return rows[0]
        assert time.monotonic() < deadline, f"sacct has no record of job {job_id} with {want}: {out}"
        time.sleep(0.5)


def test_a_wrong_account_is_refused_and_a_valid_one_runs_and_is_in_sacct(
    alice: SlurmResource, setup: dict[str, Any]
) -> None:
    other = next(a for a, users in setup["accounts"].items() if "rjalice" not in users)
    _refused(alice, "Invalid account or account/partition combination specified", account=other)
    job = alice.submit(JobSpec(executable="/bin/sh", arguments=("-c", "exit 3"), name="rj-acct-ok",
                               account=setup["default_account"]))
    info = job.wait(timeout=TIMEOUT)
    assert (info.state, info.exit_code) == (JobState.FAILED, 3), info
    _sacct(alice, job.id, Account=setup["default_account"], State="FAILED", ExitCode="3:0")
    # The history probe the backend uses for jobs slurmctld has forgotten gives the same answer.
    history = alice.dialect.history_command([job.id])
    assert history is not None
    found = alice.dialect.parse_history(alice.transport.run(list(history.argv)), [job.id])
    assert (found[job.id].state, found[job.id].exit_code) == (JobState.FAILED, 3)


def test_a_qos_is_enforced_per_association(alice: SlurmResource, bob: SlurmResource, setup: dict[str, Any]) -> None:
    qos = next(iter(setup["qos"]))
    _refused(bob, "Invalid qos specification", qos=qos)
    _refused(alice, "Invalid qos specification", qos="rj-no-such-qos")
    job = alice.submit(JobSpec(executable="/bin/true", name="rj-acct-qos", qos=qos))
    assert job.wait(timeout=TIMEOUT).state is JobState.COMPLETED
    _sacct(alice, job.id, QOS=qos, State="COMPLETED")


@pytest.fixture
def reservation(cluster: dict[str, Any]) -> Iterator[str]:
    """One core of the node reserved for rjalice (as root, like a site's admin), deleted
    after: a standing one would hold back every ``--exclusive`` job on the one node."""
    name = f"rj-resv-{secrets.token_hex(3)}"
    subprocess.run(["scontrol", "create", "reservation", f"ReservationName={name}", "StartTime=now",
                    "Duration=10", f"Nodes={cluster['slurm']['node']}", "CoreCnt=1", "Users=rjalice"],
                   check=True, capture_output=True, timeout=60)
    yield name
    subprocess.run(["scontrol", "delete", f"ReservationName={name}"], check=False, capture_output=True, timeout=60)


@pytest.mark.serial
def test_a_reservation_admits_only_its_users(alice: SlurmResource, bob: SlurmResource, reservation: str) -> None:
    _refused(bob, "Access denied to requested reservation", reservation=reservation)
    _refused(alice, "Requested reservation is invalid", reservation="rj-no-such-resv")
    job = alice.submit(JobSpec(executable="/bin/true", name="rj-acct-resv", reservation=reservation))
    assert job.wait(timeout=TIMEOUT).state is JobState.COMPLETED
    _sacct(alice, job.id, Reservation=reservation, State="COMPLETED")


def test_a_constraint_the_node_has_runs(alice: SlurmResource, setup: dict[str, Any]) -> None:
    job = alice.submit(JobSpec(executable="/bin/true", name="rj-acct-feature", constraint=setup["features"][0]))
    assert job.wait(timeout=TIMEOUT).state is JobState.COMPLETED


def test_accounting_is_detected_once(alice: SlurmResource) -> None:
    """With slurmdbd, sacct answers (nothing for unknown ids) and stays in use."""
    assert alice.dialect.accounting is None and alice.probes.unavailable == frozenset()
    assert alice.status_many(["987654321", "987654322"]) == {}
    assert alice.probes.unavailable == frozenset()


@pytest.fixture
def no_accounting_bin(cluster: dict[str, Any]) -> Iterator[Path]:
    """A bin_dir whose ``sacct`` is the real one reading a copy of slurm.conf without
    accounting (``AccountingStorageType=accounting_storage/none``): what a site without
    slurmdbd answers. The other commands are the real ones."""
    folder = Path(f"/tmp/rj-slurm-noacct-{secrets.token_hex(4)}")
    folder.mkdir(mode=0o755)
    real = cluster["commands"]["slurm"]
    conf = Path(cluster["slurm"]["conf"]).read_text().splitlines()
    kept = [line for line in conf if not line.startswith("AccountingStorage")]
    (folder / "slurm.conf").write_text("\n".join([*kept, "AccountingStorageType=accounting_storage/none", ""]))
    (folder / "sacct").write_text(f'#!/bin/sh\nSLURM_CONF={folder}/slurm.conf exec {real}/sacct "$@"\n')
    for path in folder.iterdir():
        path.chmod(0o755)
    for program in ("sbatch", "squeue", "scancel", "scontrol"):
        (folder / program).symlink_to(f"{real}/{program}")
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_status_paths_without_accounting(cluster_session: ClusterSessions, no_accounting_bin: Path) -> None:
    """A site without slurmdbd: the first sacct call finds accounting disabled, the resource
    stops calling it, and finished jobs are still answered (squeue, then the exit marker)."""
    resource: SlurmResource = cluster_session(SlurmResource, SlurmSettings, "slurm-accounting",
                                              default_queue="debug", bin_dir=str(no_accounting_bin))
    result = resource.transport.run([str(no_accounting_bin / "sacct"), "-n", "-j", "1"])
    assert resource.dialect.accounting_disabled(result), result
    assert resource.status_many(["987654321"]) == {}
    assert resource.probes.unavailable == {"sacct"}
    job = resource.submit(JobSpec(executable="/bin/sh", arguments=("-c", "exit 4"), name="rj-noacct"))
    info = job.wait(timeout=TIMEOUT)
    assert (info.state, info.exit_code) == (JobState.FAILED, 4), info
    assert resource.probes.unavailable == {"sacct"}
