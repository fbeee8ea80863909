"""Job arrays: one status for an array's own id, from the statuses of its elements.

Schedulers report array elements (``12_3`` in Slurm, ``12[3]`` in LSF, ``12[3].server``
in Torque) but users hold the array's id. Dialects call :func:`select` with their parsed
rows; it returns what was asked for, aggregating elements where the array id was asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from remotejobs.models import JobInfo, JobState

__all__ = ["aggregate_array", "select"]

Row = TypeVar("Row")

_ACTIVE = (JobState.RUNNING, JobState.SUSPENDED, JobState.QUEUED, JobState.HELD)
_WORST = (JobState.FAILED, JobState.TIMEOUT, JobState.CANCELLED, JobState.COMPLETED)
_INDEX = re.compile(r"(?:_(\d+)|\[(\d+)\])(?:\.[^.\[\]]*)*$")


def select(
    rows: Iterable[Row],
    ids: Iterable[str],
    to_info: Callable[[Row], JobInfo],
    *,
    own_id: Callable[[Row], str],
    array_id: Callable[[Row], str | None],
) -> dict[str, JobInfo]:
    """Infos for ``ids``: the row whose ``own_id`` matches, or for an array's id the
    aggregate of the rows whose ``array_id`` matches. Rows not asked for are ignored."""
    rows = list(rows)
    by_id = {own_id(r): r for r in rows}
    found: dict[str, JobInfo] = {}
    wanted_arrays = set()
    for job_id in ids:
        if job_id in by_id:
            found[job_id] = to_info(by_id[job_id])
        else:
            wanted_arrays.add(job_id)
    if wanted_arrays:  # one pass over the rows for all arrays asked for: linear, not ids x rows
        members: dict[str, list[JobInfo]] = {}
        for row in rows:
            parent = array_id(row)
            if parent in wanted_arrays:
                members.setdefault(parent, []).append(to_info(row))
        for job_id, elements in members.items():
            found[job_id] = aggregate_array(job_id, elements)
    return found


def _index(info: JobInfo) -> int:
    match = _INDEX.search(info.id)
    return int(match.group(1) or match.group(2)) if match else -1


def aggregate_array(job_id: str, elements: list[JobInfo]) -> JobInfo:
    """One info for a whole array: active while any element is active (RUNNING before
    SUSPENDED, QUEUED, HELD); once all are final, the worst outcome (FAILED, TIMEOUT,
    CANCELLED, then COMPLETED) with the exit code of the lowest-index element in that
    state; UNKNOWN if some element is UNKNOWN and none is active. ``reason`` counts the
    elements per state."""
    elements = sorted(elements, key=_index)
    counts: dict[str, int] = {}
    for info in elements:
        counts[info.state.value] = counts.get(info.state.value, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    states = {i.state for i in elements}
    order = _ACTIVE if states & set(_ACTIVE) else (
        (JobState.UNKNOWN,) if JobState.UNKNOWN in states else _WORST)
    chosen = next(i for s in order for i in elements if i.state is s)
    final = chosen.state.is_final
    return chosen.model_copy(update={
        "id": job_id,
        "name": re.sub(r"\[\d+\]$", "", chosen.name or "") or None,
        "exit_code": chosen.exit_code if final else None,
        "start_time": min((i.start_time for i in elements if i.start_time), default=None),
        "end_time": max((i.end_time for i in elements if i.end_time), default=None) if final else None,
        "reason": f"job array of {len(elements)} elements: {summary}"
        + (f"; {chosen.reason}" if chosen.reason else ""),
    })
