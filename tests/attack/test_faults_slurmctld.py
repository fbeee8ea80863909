"""slurmctld stopped and restarted while a client waits for a job (issue 10, "Faults on the
live cluster"). SERIAL: it stops a daemon every cluster test shares, so it is marked
``serial`` (``make test`` runs those alone, after the parallel phase) and restores the
daemon in a ``finally`` with ``tests/cluster/up`` (the cluster's own idempotent start,
which restarts a daemon whose process is gone).

The outage is 12 s, not the 30 s the issue names: it stops the whole test cluster's Slurm
and every second of it is wall time of the CI run. 12 s is longer than Slurm's
MessageTimeout (10 s, slurm.conf(5)), so client commands run into their full
"Unable to contact slurm controller" failure, and six times the client's longest poll
interval (2 s), so ``wait`` polls several times against a dead controller.

Must hold: no status read during the outage is final (the job still runs: ``sleep 22``),
every failure is transient, and ``wait`` either rides the outage out and returns
COMPLETED (exit 0) or raises a transient error after which a new ``wait`` does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from remotejobs_slurm import SlurmResource, SlurmSettings

from remotejobs.errors import RemoteJobsError
from remotejobs.models import JobInfo, JobSpec, JobState
from remotejobs.testing.faults import count_fault

pytestmark = [pytest.mark.cluster, pytest.mark.serial]

OUTAGE = 12.0
UP = Path(__file__).resolve().parents[1] / "cluster" / "up"
STATE = Path(os.environ.get("REMOTEJOBS_TEST_CLUSTER_STATE", "/var/lib/remotejobs-testcluster"))
RECORD = STATE / "run" / "slurmctld.json"  # the cluster's record of the daemon it started


def _open(ssh_settings: dict[str, Any], user: dict[str, Any]) -> SlurmResource:
    settings = SlurmSettings(**ssh_settings, username=user["name"], key_file=user["key_file"], default_queue="debug")
    resource = SlurmResource(settings, name="slurm-ctld-fault")
    resource.login(user["name"])
    return resource


@pytest.fixture
def two(ssh_settings: dict[str, Any],
        cluster_users: list[dict[str, Any]]) -> Iterator[tuple[SlurmResource, SlurmResource]]:
    """Two sessions of rjalice: one waits, the other probes during the outage."""
    waiter, prober = _open(ssh_settings, cluster_users[0]), _open(ssh_settings, cluster_users[0])
    yield waiter, prober
    waiter.close()
    prober.close()


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "slurmctld"
    except OSError:
        return False


def test_wait_rides_out_slurmctld_stopped_and_restarted(two: tuple[SlurmResource, SlurmResource]) -> None:
    waiter, prober = two
    job = waiter.submit(JobSpec(executable="/bin/sh", arguments=("-c", "sleep 22"), name="rj-faults-ctld"))
    deadline = time.monotonic() + 90
    while prober.status(job.id).state is not JobState.RUNNING:
        assert time.monotonic() < deadline, "the job never started"
        threading.Event().wait(0.2)
    outcome: dict[str, JobInfo | RemoteJobsError] = {}

    def wait() -> None:
        try:
            outcome["info"] = waiter.wait(job, timeout=240)
        except RemoteJobsError as exc:
            outcome["error"] = exc

    seen: list[JobState | RemoteJobsError] = []
    pid = int(json.loads(RECORD.read_text())["pid"])
    assert _alive(pid), "slurmctld is not the recorded process"
    thread = threading.Thread(target=wait, name="waiter")
    try:
        os.kill(pid, signal.SIGTERM)
        count_fault("slurmctld stopped during wait")
        gone = time.monotonic() + 30
        while _alive(pid):
            assert time.monotonic() < gone, "slurmctld did not stop"
            threading.Event().wait(0.05)
        thread.start()
        end = time.monotonic() + OUTAGE
        while time.monotonic() < end:
            try:
                seen.append(prober.status(job.id).state)
            except RemoteJobsError as exc:
                seen.append(exc)
            threading.Event().wait(1.0)
    finally:
        restored = subprocess.run([str(UP)], capture_output=True, text=True, timeout=600, check=False)
    assert restored.returncode == 0, restored.stderr[-2000:]
    thread.join(timeout=300)
    assert not thread.is_alive(), "wait never returned"
    assert seen, "no status was read during the outage"
    final = [s for s in seen if isinstance(s, JobState) and s.is_final]
    assert not final, f"a state jumped to final while slurmctld was down: {seen}"
    errors = [s for s in seen if isinstance(s, RemoteJobsError)]
    assert all(e.transient for e in errors), errors
    result = outcome.get("info") or outcome["error"]
    if isinstance(result, RemoteJobsError):
        assert result.transient, result
        result = waiter.wait(job, timeout=120)
    info = result
    assert (info.state, info.exit_code) == (JobState.COMPLETED, 0), (info, seen)
