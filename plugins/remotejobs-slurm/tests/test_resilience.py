"""Resilience on the real cluster: the sshd process serving our connection is killed
(SIGKILL) in the middle of a Slurm command.

To hit "the middle" deterministically, the resource's ``bin_dir`` points at wrappers of
the Slurm commands. On its first run the wrapper of the command under test kills the
sshd process that serves its own session (the first ``sshd`` among its ancestors, which
belongs to this test's connection only) and exits without printing; later runs exec the
real command. Nothing else on the machine is touched.

- status: the transport sees the connection die, reconnects, repeats the idempotent
  squeue once, and the call answers.
- submit: the wrapper runs the real sbatch first, then kills sshd before printing the id;
  the submit must raise a transient SubmissionError (outcome unknown), must not be
  repeated, and exactly one job of that name exists.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from remotejobs_slurm import SlurmResource, SlurmSettings

from remotejobs.errors import SubmissionError
from remotejobs.models import JobSpec, JobState
from remotejobs.testing.faults import count_fault

_KILL_MY_SSHD = """\
kill_my_sshd() {
  pid=$$
  while [ "$pid" -gt 1 ]; do
    pid=$(ps -o ppid= -p "$pid" | tr -d ' ')
    if [ "$(ps -o comm= -p "$pid")" = sshd ]; then kill -KILL "$pid"; exit 0; fi
  done
  echo "no sshd ancestor" >&2; exit 99
}
"""
# First run: (optionally run the real command, keeping its output in the flag file), then
# kill our sshd. Later runs: the real command.
_WRAPPER = """#!/bin/bash
{kill}
flag="$HOME/.rj-resilience-{token}-{program}"
if [ ! -e "$flag" ]; then
  {before} > "$flag"
  kill_my_sshd
fi
exec {real} "$@"
"""


@pytest.fixture
def wrapped(cluster: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    """A bin_dir of Slurm wrappers; yields (dir, token). squeue kills sshd before it runs,
    sbatch after it has submitted."""
    token = secrets.token_hex(4)
    folder = Path(f"/tmp/rj-slurm-resilience-{token}")
    folder.mkdir()
    real = cluster["commands"]["slurm"]
    for program in ("sbatch", "squeue", "sacct", "scancel"):
        before = {"sbatch": f'{real}/sbatch "$@"', "squeue": "true"}.get(program)
        path = folder / program
        if before is None:
            path.symlink_to(f"{real}/{program}")
            continue
        path.write_text(_WRAPPER.format(kill=_KILL_MY_SSHD, token=token, program=program, before=before,
                                        real=f"{real}/{program}"))
        path.chmod(0o755)
    folder.chmod(folder.stat().st_mode | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    yield folder, token
    shutil.rmtree(folder)


@pytest.fixture
def alice(ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]],
          wrapped: tuple[Path, str]) -> Iterator[SlurmResource]:
    user = cluster_users[0]
    settings = SlurmSettings(**ssh_settings, username=user["name"], key_file=user["key_file"],
                             bin_dir=str(wrapped[0]), default_queue="debug", accounting=False)
    resource = SlurmResource(settings, name="slurm-resilience")
    resource.login(user["name"])
    yield resource
    resource.close()
    for flag in Path(user["home"]).glob(f".rj-resilience-{wrapped[1]}-*"):
        flag.unlink()


def _flag(cluster_users: list[dict[str, Any]], token: str, program: str) -> Path:
    return Path(cluster_users[0]["home"]) / f".rj-resilience-{token}-{program}"


def _squeue_names(user: str, name: str) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-u", user, "-n", name, "-t", "all", "-o", "%i"],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def test_status_poll_survives_sshd_killed_mid_call(
    alice: SlurmResource, wrapped: tuple[Path, str], cluster_users: list[dict[str, Any]]
) -> None:
    _flag(cluster_users, wrapped[1], "sbatch").touch()  # sbatch: no kill in this test
    job = alice.submit(JobSpec(executable="/bin/true", name="resilience-status"))
    flag = _flag(cluster_users, wrapped[1], "squeue")
    assert not flag.exists()
    info = job.status()  # squeue's first run kills the connection; the retry answers
    assert flag.exists(), "the wrapper did not run: the connection was never killed"
    count_fault("ssh cut during status")
    assert info.id == job.id and info.state is not JobState.UNKNOWN
    assert job.wait(timeout=90).state is JobState.COMPLETED  # and the session still works


def test_submit_interrupted_is_transient_and_not_duplicated(
    alice: SlurmResource, wrapped: tuple[Path, str], cluster_users: list[dict[str, Any]]
) -> None:
    name = f"resilience-submit-{wrapped[1]}"
    _flag(cluster_users, wrapped[1], "squeue").touch()  # squeue: no kill in this test
    with pytest.raises(SubmissionError) as err:
        alice.submit(JobSpec(executable="/bin/sleep", arguments=("60",), name=name))
    assert err.value.transient is True, err.value
    assert "jobs()" in str(err.value)
    submitted = _flag(cluster_users, wrapped[1], "sbatch").read_text().strip()
    assert submitted.isdigit(), "the wrapper should have submitted once"
    count_fault("ssh cut during submit")
    ids = _squeue_names(cluster_users[0]["name"], name)
    assert ids == [submitted]
    # the next call reconnects and answers, and the job is visible to its owner
    listed = {i.id: i for i in alice.jobs()}
    assert submitted in listed and listed[submitted].name == name
    alice.cancel(submitted)
    assert alice.wait(submitted, timeout=90).state is JobState.CANCELLED
    assert _squeue_names(cluster_users[0]["name"], name) == [submitted]


def test_wrappers_only_touch_their_own_session(wrapped: tuple[Path, str]) -> None:
    """Guard for the fixture itself: without an sshd ancestor the wrapper refuses to kill
    anything (so a local run can never kill an unrelated process)."""
    env = {**os.environ, "HOME": str(wrapped[0])}
    done = subprocess.run([str(wrapped[0] / "squeue"), "--version"], capture_output=True, text=True,
                          env=env, check=False, start_new_session=True)
    assert done.returncode == 99 and "no sshd ancestor" in done.stderr
