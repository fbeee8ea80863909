"""Starting workflow steps, crash-safely, and re-attaching them from the journal
(base of :class:`~remotejobs.workflow.engine.Workflow`, which sets the attributes declared
here; see the engine's module docstring for the whole life of a step).

Crash safety: before submitting, the engine records a random token and puts it in the job
name (``<label>-rj<token>``); after the scheduler answers, it records the id. A process
killed in between is repaired on the next run by finding the token in ``jobs()``. So a
SIGKILL at any point neither loses nor duplicates a job (as long as the scheduler still
lists the job when the script runs again). ``REMOTEJOBS_WORKFLOW_CRASH=<point>:<label>``
(points ``before-submit``, ``after-submit``, ``after-record``, ``after-transfer``) kills the process with
SIGKILL there, for testing exactly that.

Re-attachment (:meth:`StepStarts._attach`): a step whose key the journal records as
COMPLETED is reused, one recorded as submitted is re-attached to its job (a ``SUBMITTING``
row whose token is found in ``jobs()`` first gets its job id), and any other runs again.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
from typing import TYPE_CHECKING

from remotejobs.errors import RemoteJobsError
from remotejobs.models import DependencyGroup, JobInfo, JobState
from remotejobs.resource import ComputeResource
from remotejobs.workflow.context import workflow_scope
from remotejobs.workflow.journal import Journal
from remotejobs.workflow.steps import Step
from remotejobs.workflow.transfers import resolve_files, run_transfer

__all__ = ["StepStarts"]

log = logging.getLogger("remotejobs.workflow.engine")
_REUSABLE = {JobState.QUEUED.value, JobState.HELD.value, JobState.RUNNING.value, JobState.SUSPENDED.value,
             JobState.COMPLETED.value, JobState.UNKNOWN.value}


def _crash_point(point: str, label: str) -> None:
    if os.environ.get("REMOTEJOBS_WORKFLOW_CRASH") == f"{point}:{label}":
        os.kill(os.getpid(), signal.SIGKILL)


class StepStarts:
    """``_attach`` (journal) and ``_start`` (submission or transfer) of workflow steps."""

    name: str
    steps: list[Step]
    journal: Journal | None

    if TYPE_CHECKING:  # defined by Workflow

        def _finish(self, step: Step, state: JobState, reason: str | None) -> None: ...

    def _attach(self, step: Step) -> None:
        """Take up what the journal knows of ``step`` (see the module doc)."""
        journal = self.journal
        if journal is None:
            return
        row = journal.get(step.key)
        if row is not None and not step.forced:
            if row.state == "SUBMITTING" and row.token:
                job_id = self._find_token(step.resource, row.token)
                if job_id is not None:
                    journal.put(step.key, job_id=job_id, state=JobState.QUEUED.value)
                    row = journal.get(step.key)
            reusable = row is not None and row.state in _REUSABLE and (
                row.job_id is not None if step.kind == "job" else row.state == JobState.COMPLETED.value)
            if row is not None and reusable:
                state = JobState(row.state)
                info = JobInfo(id=row.job_id or step.label, name=step.label, state=state, reason=row.reason)
                step._set(job_id=row.job_id, held=False, result=row.result, info=info,
                          ever_started=state in (JobState.RUNNING, JobState.COMPLETED))
                log.info("workflow %s: step %s re-attached (%s%s)", self.name, step.label, state.value,
                         f", job {row.job_id}" if row.job_id else "")
                return
        journal.put(step.key, label=step.label, kind=step.kind, resource=step.resource.name, state="HELD",
                    job_id=None, token=None, reason=None, result=None, position=len(self.steps),
                    payload=json.dumps({k: v for k, v in step.payload.items() if k != "source_ref"}))

    def _find_token(self, resource: ComputeResource, token: str) -> str | None:
        for info in resource.jobs():
            if info.name and info.name.endswith(f"rj{token}"):
                return info.id
        return None

    def _start(self, step: Step, dependency: DependencyGroup | None) -> None:
        if step.kind == "job":
            self._submit_job(step, dependency)
            return
        try:
            result = run_transfer(step)
        except RemoteJobsError as exc:
            self._finish(step, JobState.FAILED, f"{step.kind} failed: {exc}")
            return
        _crash_point("after-transfer", step.label)
        step._set(result=result, held=False, ever_started=True)
        self._finish(step, JobState.COMPLETED, None)

    def _submit_job(self, step: Step, dependency: DependencyGroup | None) -> None:
        assert step.spec is not None
        token = secrets.token_hex(4)
        spec = resolve_files(step.spec).model_copy(update={"name": f"{step.label}-rj{token}",
                                                             "depends_on": dependency})
        if self.journal is not None:
            self.journal.put(step.key, state="SUBMITTING", token=token)
        _crash_point("before-submit", step.label)
        with workflow_scope(None):
            job = step.resource.submit(spec)
        _crash_point("after-submit", step.label)
        info = JobInfo(id=job.id, name=spec.name, state=JobState.QUEUED,
                       reason=f"waiting for {dependency and step.condition}" if dependency else None)
        step._set(job_id=job.id, held=False, info=info)
        if self.journal is not None:
            self.journal.put(step.key, job_id=job.id, state=JobState.QUEUED.value, reason=info.reason)
        _crash_point("after-record", step.label)
        log.info("workflow %s: step %s submitted as job %s on %s%s", self.name, step.label, job.id,
                 step.resource.name, " with a scheduler dependency" if dependency else "")

