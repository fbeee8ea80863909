"""Progress of a waiting workflow: a rich progress bar on a terminal, log lines otherwise."""

from __future__ import annotations

import logging
import sys
from collections import Counter
from types import TracebackType
from typing import TYPE_CHECKING

from remotejobs.models import JobState

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from remotejobs.workflow.engine import Workflow

__all__ = ["Progress", "summary"]

log = logging.getLogger("remotejobs.workflow")
_BUCKET = {JobState.QUEUED: "queued", JobState.HELD: "queued", JobState.UNKNOWN: "queued",
           JobState.RUNNING: "running", JobState.SUSPENDED: "running", JobState.COMPLETED: "done"}


def summary(workflow: Workflow) -> str:
    """``3 queued, 1 running, 2 done, 1 failed`` (failed counts cancelled and timed out)."""
    counts = Counter(_BUCKET.get(s.state, "failed") for s in workflow.steps)
    return ", ".join(f"{counts[k]} {k}" for k in ("queued", "running", "done", "failed"))


class Progress:
    """Shows ``workflow``'s progress while used as a context manager.

    :param enabled: True: always; False: never; None: a bar when stderr is a terminal,
        otherwise one INFO log line (logger ``remotejobs.workflow``) per step state change.
    """

    def __init__(self, workflow: Workflow, enabled: bool | None = None) -> None:
        self.workflow = workflow
        self.enabled = enabled is not False
        self.bar: RichProgress | None = None
        self.task: TaskID | None = None
        self._seen: dict[str, JobState] = {}
        if self.enabled and (enabled or sys.stderr.isatty()) and sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                    TextColumn("{task.fields[counts]}"), transient=False)

    def __enter__(self) -> Progress:
        if self.bar is not None:
            self.bar.start()
            self.task = self.bar.add_task(f"workflow {self.workflow.name}", total=len(self.workflow.steps),
                                          counts=summary(self.workflow))
        self.update()
        return self

    def update(self) -> None:
        if not self.enabled:
            return
        steps = self.workflow.steps
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, total=len(steps), completed=sum(s.state.is_final for s in steps),
                            counts=summary(self.workflow))
            return
        for step in steps:
            if self._seen.get(step.label) is not step.state:
                self._seen[step.label] = step.state
                where = f" job {step.job_id} on {step.resource.name}" if step.job_id else f" on {step.resource.name}"
                reason = f": {step.reason}" if step.reason and step.state.is_final else ""
                log.info("%s: %s %s%s%s [%s]", self.workflow.name, step.label, step.state.value, where, reason,
                         summary(self.workflow))

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.stop()
