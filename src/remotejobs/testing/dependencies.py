"""Live checks that workflow conditions become the scheduler's own dependencies.

A plugin whose scheduler has :attr:`~remotejobs.models.Capability.DEPENDENCIES` reuses
:class:`DependencyContract` with a ``dep_session`` fixture (a logged-in resource) and an
:meth:`~DependencyContract.evidence` method returning what the scheduler itself shows
about a waiting job (e.g. ``squeue -o %r``), so the test sees the job wait in the
scheduler's queue, not in the client.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import tempfile
import time
import uuid
from pathlib import Path
from typing import ClassVar

import pytest

from remotejobs.job import Job
from remotejobs.models import Capability, JobInfo, JobSpec, JobState
from remotejobs.resource import ComputeResource
from remotejobs.workflow.steps import Step

__all__ = ["DependencyContract", "Gate"]


def _sh(script: str, name: str) -> JobSpec:
    return JobSpec(executable="/bin/sh", arguments=("-c", script), name=name)


class Gate:
    """A file on the cluster that parent jobs wait for, so that a test checks its dependent
    job while the parents are surely still running, however loaded the machine (a fixed
    ``sleep`` in the parent was a race). The test opens the gate by uploading the file."""

    def __init__(self, session: ComputeResource) -> None:
        self._session = session
        self._tmp = Path(tempfile.mkdtemp(prefix="rj-gate-"))
        token = uuid.uuid4().hex[:12]
        self._local = self._tmp / f"open-{token}"
        self._local.write_text("open\n")
        made = self._tmp / f"made-{token}"
        made.write_text("")
        remote = session.upload(made, "rj-dep-gates")  # learns the absolute remote directory
        self.path = posixpath.join(posixpath.dirname(remote), self._local.name)

    def then(self, script: str) -> str:
        """``script`` run after the gate opens (or after 180 s, so no job is left behind)."""
        return (f'i=0; while [ ! -e {shlex.quote(self.path)} ] && [ "$i" -lt 1800 ]; '
                f'do sleep 0.1; i=$((i+1)); done; {script}')

    def open(self) -> None:
        self._session.upload(self._local, "rj-dep-gates")


class DependencyContract:
    """Conditions on jobs of one resource wait in the scheduler's queue.

    :cvar waiting: a regular expression found in :meth:`evidence` while a job waits on
        its dependency.
    :cvar timeout: seconds the short jobs of the tests may take.
    """

    waiting: ClassVar[str]
    timeout: ClassVar[float] = 120.0

    @pytest.fixture
    def dep_session(self) -> ComputeResource:
        raise NotImplementedError("override the dep_session fixture")

    def evidence(self, session: ComputeResource, job: Job) -> str:
        """What the scheduler's own tools say about ``job`` (raw text)."""
        raise NotImplementedError

    def _waits_natively(self, session: ComputeResource, job: Job) -> None:
        text = self.evidence(session, job)
        assert re.search(self.waiting, text), f"{job} does not wait on a scheduler dependency: {text!r}"
        assert session.status(job).state in (JobState.QUEUED, JobState.HELD)

    def _final(self, job: Job) -> JobInfo:
        info = job.wait(timeout=self.timeout, poll_interval=1.0)
        assert info.state.is_final, info
        return info

    def test_and_condition_waits_in_the_scheduler(self, dep_session: ComputeResource) -> None:
        gate = Gate(dep_session)
        try:
            first = dep_session.submit(_sh(gate.then("sleep 1"), "rj-dep-a"))
            second = dep_session.submit(_sh(gate.then("true"), "rj-dep-b"))
            after = dep_session.submit(_sh("echo after", "rj-dep-and"), after=first.done & second.ended)
            self._waits_natively(dep_session, after)
        finally:
            gate.open()
        info = self._final(after)
        assert info.state is JobState.COMPLETED, info
        ends = [self._final(j).end_time for j in (first, second)]
        assert info.start_time is None or all(e is None or info.start_time >= e for e in ends), (info, ends)

    def test_or_condition(self, dep_session: ComputeResource) -> None:
        gate = Gate(dep_session)
        try:
            failing = dep_session.submit(_sh(gate.then("exit 1"), "rj-dep-or1"))
            passing = dep_session.submit(_sh(gate.then("sleep 2"), "rj-dep-or2"))
            either = dep_session.submit(_sh("echo or", "rj-dep-or"), after=failing.done | passing.done)
            if Capability.DEPENDENCY_ANY in dep_session.capabilities:
                self._waits_natively(dep_session, either)
            else:  # the scheduler cannot say "or": the client holds the step until it is decided
                assert isinstance(either, Step) and either.job_id is None, either
        finally:
            gate.open()
        assert self._final(failing).state is JobState.FAILED
        assert self._final(either).state is JobState.COMPLETED

    def test_negated_condition_is_the_failure_dependency(self, dep_session: ComputeResource) -> None:
        gate = Gate(dep_session)
        try:
            failing = dep_session.submit(_sh(gate.then("exit 3"), "rj-dep-not"))
            rescue = dep_session.submit(_sh("echo rescue", "rj-dep-rescue"), after=~failing.done)
            self._waits_natively(dep_session, rescue)
        finally:
            gate.open()
        assert self._final(failing).state is JobState.FAILED
        assert self._final(rescue).state is JobState.COMPLETED

    def test_decided_condition_submits_without_dependency(self, dep_session: ComputeResource) -> None:
        first = dep_session.submit(_sh("true", "rj-dep-early"))
        assert self._final(first).state is JobState.COMPLETED
        deadline = time.monotonic() + self.timeout
        later = dep_session.submit(_sh("true", "rj-dep-late"), after=first.done & ~first.failed)
        assert not re.search(self.waiting, self.evidence(dep_session, later))
        assert self._final(later).state is JobState.COMPLETED
        assert time.monotonic() < deadline

    def test_failure_cancels_exactly_the_waiting_dependents(self, dep_session: ComputeResource) -> None:
        from remotejobs.workflow import Workflow

        gate = Gate(dep_session)
        with Workflow(poll_interval=1.0) as wf:
            try:
                failing = dep_session.submit(_sh(gate.then("exit 1"), "rj-dep-fail"))
                child = dep_session.submit(_sh("echo child", "rj-dep-child"), after=failing.done)
                other = dep_session.submit(_sh("echo other", "rj-dep-other"), after=failing.ended)
                assert isinstance(child, Step) and child.job_id is not None  # waits in the scheduler
                self._waits_natively(dep_session, child)
            finally:
                gate.open()
            wf.wait(timeout=self.timeout, progress=False)
        assert child.state is JobState.CANCELLED and "rj-dep-fail ended FAILED" in (child.reason or ""), child
        assert dep_session.status(child).state is JobState.CANCELLED  # cancelled on the scheduler too
        assert other.status().state is JobState.COMPLETED

