"""Faults on the live cluster (issue 10): the SSH connection cut in the middle of an upload
and of a download, the local disk full while downloading, and the client SIGKILLed between
a submission and the scheduler's answer.

(The connection cut during status and submit: plugins/remotejobs-slurm/tests/test_resilience.py;
slurmctld stopped during ``wait``: test_faults_slurmctld.py, serial; the web service's
faults: plugins/remotejobs-lsf-web/tests/test_faults.py.)

The cut kills the sshd processes serving this test's own connection only
(:func:`remotejobs.testing.faults.cut_ssh_connection`), from the transfer's progress
callback, so it happens mid-transfer at a chosen byte count.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from remotejobs_slurm import SlurmResource, SlurmSettings

from remotejobs.errors import TransferError
from remotejobs.models import JobSpec, JobState
from remotejobs.testing import scoreboard
from remotejobs.testing.faults import count_fault, cut_ssh_connection
from remotejobs.testing.sessions import ClusterSessions
from remotejobs.transport.base import transfer_progress

pytestmark = pytest.mark.cluster

SIZE = 4 * 1024 * 1024
CUT_AT = 1024 * 1024
CLIENT = Path(__file__).with_name("crash_client.py")


@pytest.fixture
def alice(cluster_session: ClusterSessions) -> SlurmResource:
    return cluster_session(SlurmResource, SlurmSettings, "slurm-faults", default_queue="debug")


class _CutOnce:
    """A progress callback cutting the connection once ``CUT_AT`` bytes have moved."""

    def __init__(self, resource: SlurmResource, port: int, kind: str) -> None:
        self.resource, self.port, self.kind = resource, port, kind
        self.killed: list[int] = []

    def __call__(self, done: int, total: int) -> None:
        if not self.killed and done >= CUT_AT:
            self.killed = cut_ssh_connection(self.resource, self.port, self.kind)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _temporaries(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".part-" in p.name]


def test_upload_cut_mid_transfer_leaves_the_whole_file_or_none(
    alice: SlurmResource, ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]], tmp_path: Path
) -> None:
    local = tmp_path / "payload.bin"
    local.write_bytes(os.urandom(SIZE))
    target = f"rj-faults-{secrets.token_hex(4)}"
    remote_dir = Path(cluster_users[0]["home"]) / target
    cut = _CutOnce(alice, ssh_settings["port"], "ssh cut during upload")
    reset = transfer_progress.set(cut)
    try:
        try:
            remote = alice.upload(local, target)
        except TransferError as exc:  # allowed: a clear, transient error ...
            assert exc.transient, exc
            assert not (remote_dir / local.name).exists(), "a partial file under the final name"
            remote = alice.upload(local, target)  # ... and the next upload removes the temporary
        assert cut.killed, "the connection was never cut"
        assert Path(remote) == remote_dir / local.name
        assert _sha(remote_dir / local.name) == _sha(local), "the uploaded file is not whole"
        assert _temporaries(remote_dir) == [], "a temporary file was left behind"
    finally:
        transfer_progress.reset(reset)
        subprocess.run(["rm", "-rf", "--", str(remote_dir)], check=False)


@pytest.fixture(scope="module")
def big_job(module_cluster_session: ClusterSessions) -> str:
    """A finished job (one for the module) that wrote ``big.bin`` (4 MiB) and its sha256."""
    resource: SlurmResource = module_cluster_session(SlurmResource, SlurmSettings, "slurm-faults",
                                                     default_queue="debug")
    job = resource.submit(JobSpec(executable="/bin/sh", arguments=(
        "-c", f"head -c {SIZE} /dev/urandom > big.bin && sha256sum big.bin > big.sha"), name="rj-faults-big"))
    assert job.wait(timeout=90).state is JobState.COMPLETED
    return job.id


def test_download_cut_mid_transfer_leaves_the_whole_file_or_none(
    alice: SlurmResource, big_job: str, ssh_settings: dict[str, Any], tmp_path: Path
) -> None:
    job_id = big_job
    expected = alice.download(job_id, tmp_path / "sha", name="big.sha")[0].read_text().split()[0]
    target = tmp_path / "out"
    cut = _CutOnce(alice, ssh_settings["port"], "ssh cut during download")
    reset = transfer_progress.set(cut)
    try:
        try:
            got = alice.download(job_id, target, name="big.bin")
        except TransferError as exc:
            assert exc.transient, exc
            assert not (target / "big.bin").exists(), "a partial file under the final name"
            got = alice.download(job_id, target, name="big.bin")
    finally:
        transfer_progress.reset(reset)
    assert cut.killed, "the connection was never cut"
    assert got == [target / "big.bin"] and _sha(got[0]) == expected, "the downloaded file is not whole"
    assert _temporaries(target) == [], "a temporary file was left behind"


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (mounted as root, unmounted after the test)."""
    mount = tmp_path / "full"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "rj-faults-full", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_disk_full_while_downloading_is_a_clear_transfer_error_and_leaves_nothing(
    alice: SlurmResource, big_job: str, full_disk: Path
) -> None:
    job_id = big_job
    count_fault("local disk full during download")
    with pytest.raises(TransferError) as err:
        alice.download(job_id, full_disk, name="big.bin")
    message = str(err.value)
    assert "space" in message.lower() and str(full_disk) in message, message
    assert not err.value.transient, "retrying cannot help a full disk"
    assert list(full_disk.iterdir()) == [], "a partial or temporary file was left on the full disk"
    # the session still works afterwards
    assert alice.status(job_id).state is JobState.COMPLETED


# -- the client SIGKILLed between submit and the scheduler's answer ----------------------
_SBATCH_WRAPPER = """#!/bin/bash
# First run: submit for real, tell the test (flag file), then hold the answer back until the
# test has killed the client (or 60 s). Later runs: the real sbatch.
flag="$HOME/.rj-crash-{token}"
if [ ! -e "$flag" ]; then
  out=$({real}/sbatch "$@"); rc=$?
  printf '%s\\n' "$out" > "$flag.tmp" && mv "$flag.tmp" "$flag"
  for _ in $(seq 600); do [ -e "$flag.released" ] && break; sleep 0.1; done
  printf '%s\\n' "$out"; exit $rc
fi
exec {real}/sbatch "$@"
"""


@pytest.fixture
def held_sbatch(cluster: dict[str, Any], cluster_users: list[dict[str, Any]]) -> Iterator[tuple[Path, Path]]:
    """A bin_dir whose sbatch holds its first answer back; yields (bin_dir, flag file)."""
    token = secrets.token_hex(4)
    folder = Path(f"/tmp/rj-crash-{token}")
    folder.mkdir(mode=0o755)
    real = cluster["commands"]["slurm"]
    for program in ("squeue", "sacct", "scancel"):
        (folder / program).symlink_to(f"{real}/{program}")
    (folder / "sbatch").write_text(_SBATCH_WRAPPER.format(token=token, real=real))
    (folder / "sbatch").chmod(0o755)
    flag = Path(cluster_users[0]["home"]) / f".rj-crash-{token}"
    try:
        yield folder, flag
    finally:
        for path in (flag, flag.with_name(flag.name + ".released"), folder):
            subprocess.run(["rm", "-rf", "--", str(path)], check=False)


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        threading.Event().wait(0.05)


def _squeue_ids(user: str, name: str) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-u", user, "-t", "all", "-o", "%i|%j"], capture_output=True,
                         text=True, check=True).stdout
    rows = [line.split("|", 1) for line in out.splitlines() if "|" in line]  # other names hold newlines
    return [row[0] for row in rows if row[1] == name]


def test_client_sigkilled_before_the_scheduler_answers_finds_its_job_on_the_next_run(
    held_sbatch: tuple[Path, Path], ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    """The workflow journal records a token (in the job name) before submitting; the client
    dies while sbatch has submitted but not answered; the next run finds the job by its
    token: one job, none lost, none duplicated."""
    bin_dir, flag = held_sbatch
    user = cluster_users[0]
    config = {**ssh_settings, "username": user["name"], "key_file": user["key_file"], "bin_dir": str(bin_dir),
              "default_queue": "debug"}
    argv = [sys.executable, str(CLIENT), json.dumps(config), f"crash-{secrets.token_hex(3)}", str(tmp_path)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(flag, proc, timeout=120)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        count_fault("client SIGKILL between submit and answer")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        flag.with_name(flag.name + ".released").touch()
    submitted = flag.read_text().strip()
    assert submitted.isdigit(), submitted
    again = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    result = json.loads(again.stdout.strip().splitlines()[-1])
    assert result["job"] == submitted and result["state"] == "COMPLETED", (result, submitted)
    name = subprocess.run(["squeue", "-h", "-j", submitted, "-t", "all", "-o", "%j"], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert name.startswith("crash-rj"), name  # the journal's token is in the name
    ids = _squeue_ids(user["name"], name)
    scoreboard.record("jobs lost", 0 if submitted in ids else 1)
    scoreboard.record("jobs duplicated", max(0, len(ids) - 1))
    assert ids == [submitted], "a job was lost or duplicated"
