"""Workflows of dependent jobs: conditions on job handles (``a.done & b.ended``),
translated to the scheduler's own dependencies where it can say them."""

from remotejobs.workflow.conditions import ALWAYS, Condition

__all__ = ["ALWAYS", "Condition"]
