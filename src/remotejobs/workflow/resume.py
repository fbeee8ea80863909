"""Taking up a workflow in another process, from its journal alone.

:func:`resume` rebuilds every recorded step (specs, transfers, conditions by step key) and
returns a :class:`~remotejobs.workflow.Workflow` that re-attaches to the recorded jobs and
submits the held steps when their conditions hold. Resources are opened by the
configuration names recorded for the steps (:func:`remotejobs.open_resource`), so a
workflow built on resources opened inline (``open_resource(backend=...)``) cannot be
resumed from the command line.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

from remotejobs.api import open_resource
from remotejobs.errors import JobNotFoundError
from remotejobs.job import Job
from remotejobs.models import JobSpec, JobState
from remotejobs.resource import ComputeResource
from remotejobs.workflow.conditions import load
from remotejobs.workflow.engine import Workflow
from remotejobs.workflow.journal import Journal
from remotejobs.workflow.steps import FileRef, Step

__all__ = ["cancel_recorded", "resume"]

_MARKER = re.compile(r"<rjfile:([^<>]+)/([^<>/]+)>")
_FINAL = {s.value for s in JobState if s.is_final}


def resume(name: str, journal_dir: Path | None = None) -> Workflow:
    """The workflow ``name`` rebuilt from its journal (see the module doc).

    :raises ConfigurationError: no journal of that name, or a recorded resource name is
        not configured.
    """
    rows = _rows(name, journal_dir)
    wf = Workflow(name, journal_dir=journal_dir)
    resources: dict[str, ComputeResource] = {}
    steps: dict[str, Step] = {}

    def resource(res_name: str) -> ComputeResource:
        if res_name not in resources:
            resources[res_name] = open_resource(res_name)
        return resources[res_name]

    def job_of(ref: object) -> Job:
        text = str(ref)
        if text in steps:
            return steps[text]
        res_name, _, job_id = text.rpartition(":")
        return Job(job_id, resource(res_name))

    for row in rows:
        payload = json.loads(row.payload or "{}")
        facts = payload["facts"]
        cond = load(payload["after"], job_of)
        spec = None
        if row.kind == "job":
            text = _MARKER.sub(lambda m: str(FileRef(job_of(m.group(1)), m.group(2))), json.dumps(facts["spec"]))
            spec = JobSpec.model_validate_json(text)
        step = wf.add(row.kind, resource(row.resource), row.label, cond, facts, spec=spec)
        if row.kind == "copy":
            step.payload["source_ref"] = FileRef(job_of(facts["producer"]), facts["source"])
        steps[row.key] = step
    return wf


def cancel_recorded(name: str, journal_dir: Path | None = None) -> list[str]:
    """Cancel the unfinished steps of ``name`` (jobs on their resources, held steps in the
    journal); return their labels."""
    journal = Journal(name, journal_dir, create=False)
    done: list[str] = []
    try:
        for row in journal.rows():
            if row.state in _FINAL:
                continue
            if row.job_id:
                with contextlib.suppress(JobNotFoundError):  # the scheduler forgot it: nothing to cancel
                    open_resource(row.resource).cancel(row.job_id)
            journal.put(row.key, state=JobState.CANCELLED.value, reason="cancelled with `remotejobs workflow cancel`")
            done.append(row.label)
    finally:
        journal.close()
    return done


def _rows(name: str, journal_dir: Path | None) -> list:  # type: ignore[type-arg]
    journal = Journal(name, journal_dir, create=False)
    try:
        return journal.rows()
    finally:
        journal.close()
