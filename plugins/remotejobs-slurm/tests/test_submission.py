"""Submission round trips on the real test cluster: one remote command per submission (or
per submit_many), the script never on a command line, per-job errors of submit_many, and
on the login node (local transport) no process but sbatch."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path
from typing import Any

import pytest
from remotejobs_slurm import SlurmResource, SlurmSettings

from remotejobs.errors import PartialSubmissionError
from remotejobs.models import JobSpec, JobState
from remotejobs.testing.sessions import ClusterSessions
from remotejobs.transport.base import CommandTransport

pytestmark = pytest.mark.cluster


def _sh(script: str, **fields: Any) -> JobSpec:
    return JobSpec(executable="/bin/sh", arguments=("-c", script), **fields)


class _Recorder:
    """Records the argv of every command a real transport runs (the transport is not
    what is tested; the resource's use of it is)."""

    def __init__(self, transport: CommandTransport) -> None:
        self.sent: list[tuple[str, ...]] = []
        self._run = transport.run
        transport.run = self  # type: ignore[method-assign]

    def __call__(self, argv: Any, **kwargs: Any) -> Any:
        self.sent.append(tuple(argv))
        return self._run(argv, **kwargs)


@pytest.fixture
def alice(cluster_session: ClusterSessions) -> SlurmResource:
    return cluster_session(SlurmResource, SlurmSettings, "slurm-submission", default_queue="debug", accounting=False)


def test_one_command_per_submission_and_per_submit_many(alice: SlurmResource) -> None:
    secret = "sentinel-" + secrets.token_hex(8)
    alice.submit(_sh("true", name="warm"))  # the session's first submission also makes the shared dirs
    recorder = _Recorder(alice.transport)
    one = alice.submit(_sh('test -n "$RJ_SECRET"', name="single", environment={"RJ_SECRET": secret}))
    assert len(recorder.sent) == 1, recorder.sent
    many = alice.submit_many([_sh(f'test -n "$RJ_SECRET" && exit {n}', name=f"m{n}",
                                  environment={"RJ_SECRET": secret}) for n in range(6)])
    assert len(recorder.sent) == 2, recorder.sent
    assert not [a for a in recorder.sent if any(secret in part for part in a)], "an argv held the script"
    infos = alice.status_many([j.id for j in [one, *many]])
    assert len(infos) == 7
    assert [j.wait(timeout=120).exit_code or 0 for j in many] == list(range(6))
    assert one.wait(timeout=120).state is JobState.COMPLETED


def test_submit_many_reports_each_refused_spec_and_keeps_the_others(alice: SlurmResource) -> None:
    specs = [_sh("exit 0", name="ok-1"), _sh("exit 0", name="refused", queue="no-such-partition"),
             _sh("exit 4", name="ok-2")]
    with pytest.raises(PartialSubmissionError) as err:
        alice.submit_many(specs)
    error = err.value
    assert list(error.errors) == [1] and error.jobs[1] is None
    assert "partition" in error.errors[1].message.lower() and not error.transient
    assert "1 of 3 jobs were not submitted" in str(error) and error.resource == alice.name
    first, third = error.jobs[0], error.jobs[2]
    assert first is not None and third is not None
    assert first.wait(timeout=120).state is JobState.COMPLETED
    assert third.wait(timeout=120).exit_code == 4


def test_login_node_writes_the_script_itself_and_runs_only_sbatch(cluster: dict[str, Any]) -> None:
    resource = SlurmResource(SlurmSettings(default_queue="debug", accounting=False), name="slurm-login-node")
    resource.login()
    try:
        resource.submit(_sh("true", name="warm"))
        recorder = _Recorder(resource.transport)
        jobs = resource.submit_many([_sh(f"exit {n}", name=f"local-{n}") for n in range(3)])
        assert [a[0].rsplit("/", 1)[-1] for a in recorder.sent] == ["sbatch"] * 3, recorder.sent
        job_dir = Path(resource._job_dir(jobs[0].id)) if jobs[0].wait(timeout=120) else None
        assert job_dir is not None
        assert stat.S_IMODE(job_dir.stat().st_mode) == 0o700
        for name in ("job.sh", "stdout"):
            assert stat.S_IMODE((job_dir / name).stat().st_mode) == 0o600, name
        assert [j.wait(timeout=120).exit_code or 0 for j in jobs] == [0, 1, 2]
    finally:
        resource.close()


def test_status_of_many_ids_lists_the_users_jobs_and_keeps_the_asked_ones(alice: SlurmResource) -> None:
    jobs = alice.submit_many([_sh("exit 0", name="bulk-a"), _sh("exit 2", name="bulk-b")])
    for job in jobs:
        job.wait(timeout=120)
    absent = [str(900_000_000 + n) for n in range(60)]  # never submitted: no answer for them
    recorder = _Recorder(alice.transport)
    one = alice.status_many([jobs[0].id])
    assert "-j" in recorder.sent[0] and "-u" not in recorder.sent[0], recorder.sent
    recorder.sent.clear()
    few = alice.status_many([j.id for j in jobs])
    assert "-j" in recorder.sent[0] and recorder.sent[0][recorder.sent[0].index("-u") + 1] == alice.user
    assert one[jobs[0].id] == few[jobs[0].id]
    recorder.sent.clear()
    many = alice.status_many([*absent[:30], *(j.id for j in jobs), *absent[30:]])
    assert recorder.sent[0][recorder.sent[0].index("-u") + 1] == alice.user, recorder.sent
    assert "-j" not in recorder.sent[0]
    assert set(many) == {j.id for j in jobs} and many == few
    assert [many[j.id].exit_code for j in jobs] == [0, 2]
