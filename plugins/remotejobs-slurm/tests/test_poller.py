"""The shared poller on the real test cluster: many waiters (threads, asyncio, a workflow)
on one resource share one squeue call per poll cycle, counted on the real transport."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from remotejobs_slurm import SlurmResource, SlurmSettings

from remotejobs.errors import RemoteJobsError
from remotejobs.models import JobInfo, JobSpec, JobState
from remotejobs.testing.sessions import ClusterSessions
from remotejobs.workflow import Workflow

pytestmark = pytest.mark.cluster


class _SqueueCounter:
    """Counts squeue commands the real transport runs, and the ids each asked for."""

    def __init__(self, resource: SlurmResource) -> None:
        self.asked: list[set[str]] = []
        self._lock = threading.Lock()
        self._run = resource.transport.run
        resource.transport.run = self  # type: ignore[method-assign]

    def __call__(self, argv: Any, **kwargs: Any) -> Any:
        if argv[0].endswith("squeue"):
            with self._lock:
                self.asked.append(set(argv[argv.index("-j") + 1].split(",")) if "-j" in argv else set())
        return self._run(argv, **kwargs)


@pytest.fixture
def alice(cluster_session: ClusterSessions) -> SlurmResource:
    return cluster_session(SlurmResource, SlurmSettings, "slurm-poller", default_queue="debug", accounting=False)


def _sh(script: str, name: str) -> JobSpec:
    return JobSpec(executable="/bin/sh", arguments=("-c", script), name=name)


def test_threads_asyncio_and_a_workflow_share_one_status_call_per_cycle(alice: SlurmResource) -> None:
    jobs = alice.submit_many([_sh(f"sleep 1; exit {n}", f"poll-{n}") for n in range(4)])
    counter = _SqueueCounter(alice)
    results: dict[str, JobInfo] = {}
    errors: list[RemoteJobsError] = []

    def wait(index: int) -> None:
        try:
            results[f"thread-{index}"] = jobs[index % len(jobs)].wait(timeout=180, latency=1.0)
        except RemoteJobsError as exc:  # reported below
            errors.append(exc)

    async def waiters() -> list[JobInfo]:
        return await asyncio.gather(*(j.wait_async(timeout=180) for j in jobs))

    threads = [threading.Thread(target=wait, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    with Workflow() as flow:
        step = flow.submit(alice, _sh("sleep 1; exit 7", "poll-step"))
        async_infos = asyncio.run(waiters())
        step_info = step.wait(timeout=180)
    for thread in threads:
        thread.join(timeout=200)
    assert not errors, errors
    assert [i.exit_code for i in async_infos] == [0, 1, 2, 3]
    assert [results[f"thread-{i}"].exit_code for i in range(8)] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert step_info.state is JobState.FAILED and step_info.exit_code == 7
    # one squeue per cycle, however many waiters: never more calls than cycles
    assert 0 < len(counter.asked) <= alice.poller.cycles, (len(counter.asked), alice.poller.cycles)
    # while every waiter was waiting, one call asked for all of their jobs
    assert any({j.id for j in jobs} <= asked for asked in counter.asked), counter.asked


def test_a_finished_job_is_answered_without_a_call(alice: SlurmResource) -> None:
    job = alice.submit(_sh("exit 0", "poll-done"))
    assert job.wait(timeout=180).state is JobState.COMPLETED
    counter = _SqueueCounter(alice)
    assert job.wait().state is JobState.COMPLETED
    assert asyncio.run(job.wait_async()).state is JobState.COMPLETED
    assert counter.asked == []
