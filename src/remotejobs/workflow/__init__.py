"""Workflows of dependent jobs across resources (see docs/workflows.md).

Conditions on job handles (``a.done & (b.ended | ~c.started)``), translated to the
scheduler's own dependencies where it can say them and otherwise held by a client-side
engine; failure propagation; transfers as steps; memoised reruns from a SQLite journal.
"""

from remotejobs.workflow.conditions import ALWAYS, Condition
from remotejobs.workflow.context import current_workflow, default_resource, submit
from remotejobs.workflow.engine import FirstOf, Workflow, default_workflow
from remotejobs.workflow.steps import FileRef, Step, WorkflowError

__all__ = [
    "ALWAYS", "Condition", "FileRef", "FirstOf", "Step", "Workflow", "WorkflowError", "current_workflow",
    "default_resource", "default_workflow", "submit",
]
