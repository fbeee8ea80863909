"""LSF-specific behaviour on the real test cluster, over SSH on the LSF emulator: arrays,
dependencies that the emulator really enforces (through Slurm), jobs that vanished from
bjobs after CLEAN_PERIOD, and two users submitting at the same time."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from remotejobs_lsf import LsfResource

from remotejobs.errors import JobNotFoundError
from remotejobs.models import Dependency, JobInfo, JobSpec, JobState

TIMEOUT = 90.0
pytestmark = pytest.mark.cluster


def sh(script: str, **extra: Any) -> JobSpec:
    return JobSpec(executable="/bin/sh", arguments=("-c", script), **extra)


def poll(what: Callable[[], JobInfo], until: Callable[[JobInfo], bool], timeout: float = TIMEOUT) -> JobInfo:
    """Call ``what`` until ``until`` holds (or the timeout passes); return the last info."""
    deadline = time.monotonic() + timeout
    info = what()
    while not until(info) and time.monotonic() < deadline:
        time.sleep(0.3)
        info = what()
    return info


@pytest.fixture
def users(lsf_resource: Callable[..., LsfResource],
          cluster_users: list[dict[str, Any]]) -> Iterator[list[LsfResource]]:
    resources = [lsf_resource(i) for i in range(2)]
    for resource, user in zip(resources, cluster_users, strict=False):
        resource.login(user["name"])
    yield resources
    for resource in resources:
        resource.close()


@pytest.fixture
def alice(users: list[LsfResource]) -> LsfResource:
    return users[0]


def bjobs(resource: LsfResource, *args: str) -> tuple[int, str, str]:
    result = resource.transport.run([resource.dialect.cmd("bjobs"), *args])
    return result.exit_status, result.stdout, result.stderr


def test_array_elements_and_aggregate(alice: LsfResource, tmp_path: Path) -> None:
    job = alice.submit(sh('echo "element $LSB_JOBINDEX of $LSB_JOBNAME"; exit $((LSB_JOBINDEX - 1))',
                          name="arr", array="1-3"))
    info = job.wait(timeout=TIMEOUT)
    assert (info.state, info.exit_code, info.name) == (JobState.FAILED, 1, "arr"), info
    assert info.reason and "job array of 3 elements" in info.reason
    elements = alice.status_many([f"{job.id}[{n}]" for n in (1, 2, 3)])
    assert [(elements[f"{job.id}[{n}]"].state, elements[f"{job.id}[{n}]"].exit_code) for n in (1, 2, 3)] == [
        (JobState.COMPLETED, 0), (JobState.FAILED, 1), (JobState.FAILED, 2)]
    assert elements[f"{job.id}[2]"].name == "arr[2]"
    alice.download(f"{job.id}[3]", tmp_path, name="stdout-3")
    assert "element 3 of arr[3]" in (tmp_path / "stdout-3").read_text()
    listed = {i.id for i in alice.jobs()}
    assert {job.id, f"{job.id}[1]", f"{job.id}[3]"} <= listed


def test_done_dependency_on_a_failing_job_never_runs(alice: LsfResource) -> None:
    first = alice.submit(sh("sleep 3; exit 1"))
    second = alice.submit(sh("echo ran", depends_on=Dependency(condition="afterok", job_ids=(first.id,))))
    assert alice.status(second).state is JobState.QUEUED
    assert first.wait(timeout=TIMEOUT).state is JobState.FAILED
    info = poll(second.status, lambda i: "never satisfied" in (i.reason or ""))
    assert info.state is JobState.QUEUED and info.native_state == "PEND", info
    assert info.reason == "Dependency condition invalid or never satisfied", info
    code, out, _ = bjobs(alice, "-o", "dependency", "-noheader", second.id)
    assert (code, out.strip()) == (0, f"done({first.id})")
    second.cancel()
    info = second.wait(timeout=TIMEOUT)
    assert info.state is JobState.CANCELLED and info.start_time is None, info
    assert info.reason == "TERM_OWNER: job killed by owner"


def test_exit_dependency_runs_after_a_failure(alice: LsfResource) -> None:
    first = alice.submit(sh("sleep 3; exit 2"))
    second = alice.submit(sh("echo ran", depends_on=Dependency(condition="afternotok", job_ids=(first.id,))))
    third = alice.submit(sh("true", depends_on=Dependency(condition="afterany", job_ids=(first.id,))))
    assert alice.status(second).state is JobState.QUEUED  # Slurm holds it while the first runs
    done = second.wait(timeout=TIMEOUT)
    assert done.state is JobState.COMPLETED, done
    first_info = first.status()
    assert first_info.end_time and done.start_time and done.start_time >= first_info.end_time.replace(second=0)
    assert third.wait(timeout=TIMEOUT).state is JobState.COMPLETED


def test_dependency_on_an_unknown_job_is_refused(alice: LsfResource) -> None:
    from remotejobs.errors import SubmissionError

    with pytest.raises(SubmissionError) as err:
        alice.submit(sh("true", depends_on=Dependency(job_ids=("987654321",))))
    assert "done(987654321): No matching job found. Job not submitted." in str(err.value)
    assert err.value.transient is False and err.value.resource == "lsf-test"


def test_unknown_queue_is_refused_with_lsfs_message(alice: LsfResource) -> None:
    from remotejobs.errors import SubmissionError

    with pytest.raises(SubmissionError, match=r"nosuchq: No such queue\. Job not submitted\."):
        alice.submit(sh("true", queue="nosuchq"))
    info = alice.submit(sh("true", queue="short")).wait(timeout=TIMEOUT)
    assert (info.state, info.queue) == (JobState.COMPLETED, "short")


def test_jobs_past_clean_period_are_resolved_from_markers(alice: LsfResource, cluster: dict[str, Any],
                                                          cluster_users: list[dict[str, Any]]) -> None:
    """A job bjobs forgot as it ended (CLEAN_PERIOD 0: another user's test may set it on the
    shared cluster) is settled by its exit marker, and keeps the name and times the session
    saw while it ran (``remotejobs status`` showed it without them)."""
    params = Path(cluster["emulator_spool"]) / "lsf" / "lsb.params"
    old = params.read_text() if params.exists() else None
    release = f"{cluster_users[0]['home']}/rj-release-{time.monotonic_ns()}"
    job = alice.submit(sh(f'while [ ! -e "{release}" ]; do sleep 0.2; done; rm -f "{release}"; exit 4',
                          name="rj-cleaned"))
    running = poll(job.status, lambda i: i.native_state == "RUN")
    assert (running.state, running.name) == (JobState.RUNNING, "rj-cleaned"), running
    assert running.start_time is not None and running.submit_time is not None
    try:
        params.write_text("Begin Parameters\nCLEAN_PERIOD = 0\nEnd Parameters\n")
        alice.transport.run(["touch", release])
        info = poll(job.status, lambda i: i.state.is_final)
    finally:
        if old is None:
            params.unlink()
        else:
            params.write_text(old)
    assert (info.state, info.exit_code, info.native_state) == (JobState.FAILED, 4, None), info
    assert "marker" in (info.reason or "")
    assert (info.name, info.submit_time, info.start_time) == ("rj-cleaned", running.submit_time, running.start_time)
    code, _, err = bjobs(alice, job.id)
    assert (code, err.strip()) == (255, f"Job <{job.id}> is not found")  # cleaned for good
    assert job.id not in {i.id for i in alice.jobs()}
    assert alice.status(job.id).exit_code == 4


def test_two_users_submit_concurrently_and_see_only_their_own(users: list[LsfResource]) -> None:
    def submit_three(resource: LsfResource) -> list[str]:
        return [resource.submit(sh("sleep 1", name=f"conc-{resource.user}")).id for _ in range(3)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        mine, theirs = pool.map(submit_three, users)
    assert len(set(mine) | set(theirs)) == 6
    alice, bob = users
    alice_ids, bob_ids = {i.id for i in alice.jobs()}, {i.id for i in bob.jobs()}
    assert set(mine) <= alice_ids and not set(theirs) & alice_ids
    assert set(theirs) <= bob_ids and not set(mine) & bob_ids
    assert all(i.owner == alice.user for i in alice.jobs())
    with pytest.raises(JobNotFoundError):
        bob.cancel(mine[0])  # bkill: "User permission denied"
    code, out, _ = bjobs(alice, "-u", "all", "-o", "jobid user delimiter=','", "-noheader", "-a")
    assert code == 0 and f"{theirs[0]},{bob.user}" in out.splitlines()
    for job_id in mine:
        assert alice.wait(job_id, timeout=TIMEOUT).state is JobState.COMPLETED
