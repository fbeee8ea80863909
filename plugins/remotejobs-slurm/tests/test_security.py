"""Attacks by another user of the cluster on the batch layer, on the real test cluster.

rjalice is the victim, rjbob the attacker (both ordinary cluster users over SSH). What is
proven here holds for every BatchResource backend (the index, the job directories and
the submission path are the batch base's); Slurm is the real scheduler it runs on.
"""

from __future__ import annotations

import posixpath
import secrets
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from remotejobs_slurm import SlurmResource, SlurmSettings

from remotejobs.errors import JobNotFoundError
from remotejobs.models import JobSpec, JobState
from remotejobs.testing.sessions import ClusterSessions

pytestmark = pytest.mark.cluster


@pytest.fixture
def alice(cluster_session: ClusterSessions) -> SlurmResource:
    return cluster_session(SlurmResource, SlurmSettings, "slurm-security", default_queue="debug")


@pytest.fixture
def bob(cluster_session: ClusterSessions) -> SlurmResource:
    return cluster_session(SlurmResource, SlurmSettings, "slurm-security", user=1, default_queue="debug")


def _sh(script: str, **fields: Any) -> JobSpec:
    return JobSpec(executable="/bin/sh", arguments=("-c", script), **fields)


# -- hole 2: downloads read only this user's job directories, found through the index ----
def test_download_never_follows_an_index_entry_out_of_the_users_job_dirs(
    alice: SlurmResource, tmp_path: Path
) -> None:
    """An index entry (``<root>/ids/<id>``) that points anywhere but at one of this user's
    ``<root>/jobs/<stamp>`` directories is refused: nothing is listed or copied."""
    root = alice._root
    planted = {
        "999999901": posixpath.join(alice._home, ".ssh"),
        "999999902": "/etc",
        "999999903": posixpath.join(root, "jobs", "..", "..", ".ssh"),
        "999999904": posixpath.join(root, "ids"),
        "999999905": "../../.ssh",
    }
    index = posixpath.join(root, "ids")
    try:
        for job_id, target in planted.items():
            done = alice.transport.run(["sh", "-c", 'mkdir -p "$1" && ln -sfn "$2" "$1/$3"', "sh",
                                        index, target, job_id])
            assert done.exit_status == 0, done.output
        for job_id in planted:
            with pytest.raises(JobNotFoundError):
                alice.download(job_id, tmp_path / job_id)
            assert not any((tmp_path / job_id).iterdir()), f"download({job_id}) copied files"
    finally:
        alice.transport.run(["rm", "-f", "--", *(posixpath.join(index, i) for i in planted)])


def test_a_real_job_still_downloads_through_its_index_entry(alice: SlurmResource, tmp_path: Path) -> None:
    job = alice.submit(_sh("echo through-the-index", name="index-ok"))
    assert job.wait(timeout=90).state is JobState.COMPLETED
    paths = job.download(tmp_path)
    assert "through-the-index" in "".join(p.read_text() for p in paths)


def test_bob_cannot_download_status_or_cancel_alices_job(
    alice: SlurmResource, bob: SlurmResource, tmp_path: Path
) -> None:
    job = alice.submit(_sh("echo alice-secret-output; sleep 600", name="alice-private"))
    try:
        assert job.id not in {i.id for i in bob.jobs()}
        with pytest.raises(JobNotFoundError):
            bob.status(job.id)
        with pytest.raises(JobNotFoundError):
            bob.cancel(job.id)
        with pytest.raises(JobNotFoundError):
            bob.download(job.id, tmp_path / "bob")
        assert not any((tmp_path / "bob").iterdir())
        assert not alice.status(job).state.is_final, "bob's cancel reached alice's job"
    finally:
        alice.cancel(job)


# -- hole 4: nothing secret visible to other users ----------------------------------------
_SCAN = r"""
import os, sys, time
needle, ready, stop = bytes.fromhex(sys.argv[1]), sys.argv[2], sys.argv[3]
open(ready, "w").close()
seen, sweeps, deadline = set(), 0, time.monotonic() + 120
while not os.path.exists(stop) and time.monotonic() < deadline:
    sweeps += 1
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    text = f.read()
            except OSError:
                continue
            if needle in text:
                seen.add(text.replace(b"\0", b" ")[:200])
print(sweeps)
for s in seen:
    print(s)
"""


def test_environment_values_never_appear_in_any_command_line_bob_can_see(
    alice: SlurmResource, bob: SlurmResource, cluster_users: list[dict[str, Any]]
) -> None:
    """rjbob scans every process's /proc/<pid>/cmdline in a tight loop while rjalice
    submits jobs whose environment holds a secret; the secret never shows. Every argv
    alice's session sends is recorded too: none holds the secret."""
    secret = "sentinel-" + secrets.token_hex(12)
    token = secrets.token_hex(6)
    ready, stop = f"/tmp/rj-scan-{token}.ready", f"/tmp/rj-scan-{token}.stop"
    result: dict[str, Any] = {}
    scanner = threading.Thread(target=lambda: result.update(
        r=bob.transport.run(["/usr/bin/python3", "-c", _SCAN, secret.encode().hex(), ready, stop], timeout=180)))
    scanner.start()
    sent: list[tuple[str, ...]] = []
    original = alice.transport.run

    def recording_run(argv: Any, **kwargs: Any) -> Any:
        sent.append(tuple(argv))
        return original(argv, **kwargs)

    alice.transport.run = recording_run  # type: ignore[method-assign]
    jobs = []
    try:
        deadline = threading.Event()
        while not Path(ready).exists() and not deadline.wait(0.05):
            pass
        for n in range(15):
            jobs.append(alice.submit(_sh("test -n \"$RJ_SECRET\"", name=f"env-{n}",
                                         environment={"RJ_SECRET": secret})))
        infos = [j.wait(timeout=120) for j in jobs]
    finally:
        Path(stop).touch()
        scanner.join(timeout=200)
        alice.transport.run = original  # type: ignore[method-assign]
        Path(ready).unlink(missing_ok=True)
        Path(stop).unlink(missing_ok=True)
    assert all(i.state is JobState.COMPLETED for i in infos), infos  # the value reached the jobs
    lines = result["r"].stdout.splitlines()
    assert int(lines[0]) > 10, f"the scanner ran only {lines[0]} sweeps"
    assert lines[1:] == [], f"rjbob saw the secret in command lines: {lines[1:3]}"
    assert not [a for a in sent if any(secret in part for part in a)], "an argv held the secret"


def test_job_directories_and_files_are_private(
    alice: SlurmResource, bob: SlurmResource
) -> None:
    job = alice.submit(_sh("echo private > made-by-job.txt; echo out", name="perm",
                           environment={"RJ_SECRET": "x"}))
    assert job.wait(timeout=90).state is JobState.COMPLETED
    root = Path(alice._root)
    job_dir = Path(alice._job_dir(job.id))
    for directory in (root, root / "jobs", root / "ids", job_dir):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    for name in ("job.sh", "stdout", "stderr", "made-by-job.txt"):
        assert stat.S_IMODE((job_dir / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((root / "ids" / f"{job.id}.exit").stat().st_mode) == 0o600
    for path in (job_dir / "job.sh", job_dir / "stdout", root / "ids"):
        tried = bob.transport.run(["cat", "--", str(path)])
        assert tried.exit_status != 0 and "Permission denied" in tried.stderr, path


def test_group_permissions_setting_relaxes_for_shared_project_dirs(cluster_session: ClusterSessions) -> None:
    shared: SlurmResource = cluster_session(SlurmResource, SlurmSettings, "slurm-security", default_queue="debug",
                                            job_permissions="group", job_root=".remotejobs-group-test")
    job = shared.submit(_sh("echo shared", name="group-perm"))
    assert job.wait(timeout=90).state is JobState.COMPLETED
    job_dir = Path(shared._job_dir(job.id))
    assert stat.S_IMODE(job_dir.stat().st_mode) == 0o750
    assert stat.S_IMODE((job_dir / "job.sh").stat().st_mode) == 0o640
    assert stat.S_IMODE((job_dir / "stdout").stat().st_mode) == 0o640
