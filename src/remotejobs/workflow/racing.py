"""``first_of``: several steps racing; the first good enough wins, the others are cancelled."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from remotejobs.models import JobState
from remotejobs.workflow.steps import Step

__all__ = ["FirstOf", "judge"]


class FirstOf:
    """Several steps racing (:meth:`Workflow.first_of`): the first that completes and that
    ``good_enough`` accepts wins, and the others are cancelled in the same poll cycle."""

    def __init__(self, steps: Sequence[Step], good_enough: Callable[[Step], bool]) -> None:
        self.steps = list(steps)
        self.good_enough = good_enough
        self.winner: Step | None = None
        self.judged: set[int] = set()

    @property
    def decided(self) -> bool:
        return self.winner is not None or all(s.state.is_final for s in self.steps)

    def wait(self, timeout: float | None = None) -> Step | None:
        """Run the workflow until a winner is known or every step ended; the winner or None."""
        self.steps[0].workflow.run_until(lambda: self.decided, timeout=timeout)
        return self.winner


def judge(groups: list[FirstOf], cancel: Callable[[Step, str], None]) -> None:
    """Give each completed, not yet judged step of each undecided group to its
    ``good_enough``; on the first yes, ``cancel`` the group's other steps."""
    for group in groups:
        if group.winner is not None:
            continue
        for step in group.steps:
            if step.state is JobState.COMPLETED and id(step) not in group.judged:
                group.judged.add(id(step))
                if group.good_enough(step):
                    group.winner = step
                    for other in group.steps:
                        if other is not step:
                            cancel(other, f"first_of: {step.label} was good enough")
                    break
