"""Hostile input, property-based, over real SSH on every scheduler backend of the test
cluster (issue 10): see :mod:`remotejobs.testing.hostile`. The PAC web service has its own
run in plugins/remotejobs-lsf-web/tests/test_hostile.py.

The cluster is this machine, so uploads and the canary file are also checked byte for
byte in the user's home. Every job also carries a planted secret in its environment,
and while the examples run a watcher reads every process's command line
(``/proc/*/cmdline``, as any user of the login node can): the secret must never appear.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from remotejobs_lsf.dialect import lsf_job_name
from remotejobs_pbs.dialect import job_name as pbs_job_name
from remotejobs_sge.dialect import job_name as sge_job_name
from remotejobs_slurm.dialect import slurm_job_name
from remotejobs_torque.dialect import job_name as torque_job_name

from remotejobs.resource import ComputeResource
from remotejobs.testing.cmdlines import CmdlineWatcher
from remotejobs.testing.hostile import check_hostile_inputs
from remotejobs.testing.sentinel import Sentinel

# serial (make test runs it after the parallel phase): jobs with hostile names and a PAC
# emulator that crashes or answers slowly must not meet the other tests' listings and timeouts.
pytestmark = [pytest.mark.cluster, pytest.mark.serial]

#: The job name each backend documents the scheduler gets (its dialect's own function).
NAMES: dict[str, Callable[[str], str]] = {
    "slurm": slurm_job_name, "lsf": lambda n: lsf_job_name(n) or "python3", "torque": torque_job_name,
    "pbs": pbs_job_name,
    "sge": sge_job_name,
}


@pytest.fixture(params=sorted(NAMES))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def alice(backend: str, open_backend: Callable[[str, int], ComputeResource]) -> ComputeResource:
    return open_backend(backend, 0)


def test_hostile_values_reach_jobs_verbatim_or_are_refused(
    backend: str, alice: ComputeResource, cluster_users: list[dict[str, Any]], tmp_path: Path,
    secret_sentinel: Sentinel,
) -> None:
    secret = secret_sentinel.plant(f"env-secret-{secrets.token_hex(8)}", "environment value")
    with CmdlineWatcher(secret_sentinel, [secret]) as watcher:
        check_hostile_inputs(alice, tmp_path, local_home=Path(cluster_users[0]["home"]), examples=8,
                             planted_env={"RJ_PLANTED_SECRET": secret}, on_example=watcher.sample,
                             expected_name=NAMES[backend])
    assert watcher.samples > 0
    assert watcher.leaks == [], watcher.leaks
