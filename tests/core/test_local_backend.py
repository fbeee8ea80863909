"""The local backend beyond the contract: persistence across processes, process groups,
walltime, user separation, the password rule, and lazy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest

import remotejobs
from remotejobs import Capability, ComputeResource, JobInfo, JobSpec, JobState
from remotejobs.errors import AuthenticationError, InvalidJobSpecError, NotLoggedInError


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def _open(state: Path, user: str = "alice") -> ComputeResource:
    resource = remotejobs.open_resource(backend="local", state_dir=str(state))
    resource.login(user)
    return resource


def _wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_new_process_sees_and_cancels_earlier_job(state: Path, tmp_path: Path) -> None:
    job = _open(state).submit(JobSpec(executable="/bin/sh", arguments=("-c", "sleep 300")))
    _wait_for(lambda: job.status().state is JobState.RUNNING)
    code = (
        "import json, remotejobs\n"
        f"r = remotejobs.open_resource(backend='local', state_dir={str(state)!r}); r.login('alice')\n"
        f"before = r.status({job.id!r}).state.value\n"
        f"r.cancel({job.id!r})\n"
        f"after = r.wait({job.id!r}, timeout=20)\n"
        "print(json.dumps([before, after.state.value, [i.id for i in r.jobs()]]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, listed = json.loads(done.stdout)
    assert (before, after) == ("RUNNING", "CANCELLED") and job.id in listed
    assert job.status().state is JobState.CANCELLED


def test_cancel_kills_the_whole_process_group(state: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    script = f"sleep 300 & echo $! > {pidfile}; wait"
    job = _open(state).submit(JobSpec(executable="/bin/sh", arguments=("-c", script)))
    _wait_for(lambda: pidfile.exists() and pidfile.read_text().strip())
    grandchild = int(pidfile.read_text())
    job.cancel()
    assert job.wait(timeout=20).state is JobState.CANCELLED

    def gone() -> bool:
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            return True
        return Path(f"/proc/{grandchild}/stat").read_text().split()[2] == "Z"

    _wait_for(gone)


def test_walltime_is_enforced_as_timeout(state: Path) -> None:
    spec = JobSpec(executable="/bin/sleep", arguments=("60",), walltime=timedelta(seconds=1))
    info = _open(state).submit(spec).wait(timeout=30)
    assert info.state is JobState.TIMEOUT and "Walltime" in (info.reason or "")


def test_two_users_in_one_process_are_separate(state: Path) -> None:
    alice, bob = _open(state, "alice"), _open(state, "bob")
    job = alice.submit(JobSpec(executable="true"))
    assert job.id in {i.id for i in alice.jobs()} and job.id not in {i.id for i in bob.jobs()}
    with pytest.raises(remotejobs.JobNotFoundError):
        bob.cancel(job.id)
    bob.logout()
    with pytest.raises(NotLoggedInError) as err:
        bob.submit(JobSpec(executable="true"))
    assert "'bob'" in str(err.value) and "logged out" in str(err.value)
    assert alice.submit(JobSpec(executable="true")).wait(timeout=20).state is JobState.COMPLETED


def test_missing_executable_fails_with_127(state: Path) -> None:
    info = _open(state).submit(JobSpec(executable="/no/such/program")).wait(timeout=20)
    assert info.state is JobState.FAILED and info.exit_code == 127


def test_unsupported_spec_and_capability(state: Path) -> None:
    resource = _open(state)
    with pytest.raises(InvalidJobSpecError, match="nodes=2"):
        resource.submit(JobSpec(executable="true", nodes=2))
    with pytest.raises(remotejobs.errors.UnsupportedOperationError, match="arrays"):
        resource.submit(JobSpec(executable="true", array="1-3"))


class _NeedsPassword(ComputeResource):
    backend_name = "needs-password"
    capabilities = frozenset({Capability.LOGIN_REQUIRED})
    calls: ClassVar[list[str]] = []

    def _login(self, username: str | None, password: str | None) -> str:
        self.calls.append("login")
        return username or "x"

    def _ping(self) -> bool:
        return True

    def _submit(self, spec: JobSpec) -> str:
        return "1"

    def _status_many(self, ids: Sequence[str]) -> dict[str, JobInfo]:
        return {}

    def _jobs(self) -> list[JobInfo]:
        return []

    def _cancel(self, job_id: str) -> None:
        return None


def test_missing_password_fails_before_any_traffic() -> None:
    resource = _NeedsPassword(remotejobs.BackendSettings(), name="portal")
    with pytest.raises(AuthenticationError) as err:
        resource.login("alice")
    assert _NeedsPassword.calls == [] and "password is required" in str(err.value)
    assert err.value.user == "alice" and err.value.resource == "portal"
    with pytest.raises(NotLoggedInError, match="not logged in"):
        resource.jobs()


def test_opening_local_imports_neither_paramiko_nor_requests(tmp_path: Path) -> None:
    code = (
        "import sys, remotejobs\n"
        f"r = remotejobs.open_resource(backend='local', state_dir={str(tmp_path)!r}); r.login()\n"
        "r.submit(remotejobs.JobSpec(executable='true')).wait(timeout=20)\n"
        "print(sorted(m for m in ('paramiko', 'requests') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_relative_paths_resolve_against_the_users_home(state: Path, tmp_path: Path) -> None:
    """docs/configuration.md "Relative paths": upload targets and a job's directory share one
    base, here the user's home ``<state_dir>/users/<user>/files``."""
    resource = _open(state)
    local = tmp_path / "input.txt"
    local.write_text("payload\n")
    home = state / "users" / "alice" / "files"
    remote = resource.upload(local, "inbox")
    assert remote == str(home / "inbox" / "input.txt") == resource.upload(local, "~/inbox")
    job = resource.submit(JobSpec(executable="/bin/sh", arguments=("-c", "pwd; cat input.txt"), directory="inbox"))
    assert job.wait(timeout=30).state is JobState.COMPLETED
    (out,) = job.download(tmp_path / "out", name="stdout")
    assert out.read_text() == f"{home / 'inbox'}\npayload\n"
