"""Job arrays: one status for an array's own id, from the statuses of its elements.

Schedulers report array elements (``12_3`` in Slurm, ``12[3]`` in LSF, ``12[3].server``
in Torque) but users hold the array's id. Dialects call :func:`select` with their parsed
rows; it returns what was asked for, aggregating elements where the array id was asked.
Parsers that read many elements call :func:`aggregate` with one light tuple per element
(:data:`Element`) and build a full info only for the element the aggregate is made from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import TypeVar

from remotejobs.models import JobInfo, JobState

__all__ = ["Element", "aggregate", "aggregate_array", "element_index", "select"]

Row = TypeVar("Row")
Key = TypeVar("Key")

#: One array element as :func:`aggregate` reads it: (state, index in the array, start
#: time, end time, key); the key is what the caller turns into the element's full info.
Element = tuple[JobState, int, datetime | None, datetime | None, Key]

_ACTIVE = (JobState.RUNNING, JobState.SUSPENDED, JobState.QUEUED, JobState.HELD)
_WORST = (JobState.FAILED, JobState.TIMEOUT, JobState.CANCELLED, JobState.COMPLETED)
_INDEX = re.compile(r"(?:_(\d+)|\[(\d+)\])(?:\.[^.\[\]]*)*$")
_ELEMENT_SUFFIX = re.compile(r"\[\d+\]$")
_by_index = itemgetter(1)


def select(
    rows: Iterable[Row],
    ids: Iterable[str],
    to_info: Callable[[Row], JobInfo],
    *,
    own_id: Callable[[Row], str],
    array_id: Callable[[Row], str | None],
) -> dict[str, JobInfo]:
    """Infos for ``ids``: the row whose ``own_id`` matches, or for an array's id the
    aggregate of the rows whose ``array_id`` matches. Rows not asked for are ignored.

    Linear in rows + ids: one pass to index the rows by id, one more over the rows only
    when array ids were asked for (never ids x rows)."""
    rows = rows if isinstance(rows, list) else list(rows)
    by_id = dict(zip(map(own_id, rows), rows, strict=True))
    found: dict[str, JobInfo] = {}
    wanted_arrays = set()
    for job_id in ids:
        row = by_id.get(job_id)
        if row is not None:
            found[job_id] = to_info(row)
        else:
            wanted_arrays.add(job_id)
    if wanted_arrays:
        members: dict[str, list[JobInfo]] = {}
        for row in rows:
            parent = array_id(row)
            if parent in wanted_arrays:
                group = members.get(parent)
                if group is None:
                    group = members[parent] = []
                group.append(to_info(row))
        for job_id, elements in members.items():
            found[job_id] = aggregate_array(job_id, elements)
    return found


def element_index(job_id: str) -> int:
    """The element's index in its array (``12_3``, ``12[3]``, ``12[3].server``), -1 if none."""
    if "[" not in job_id and "." not in job_id:  # fast path: Slurm's 12_3
        _, sep, tail = job_id.rpartition("_")
        return int(tail) if sep and tail.isdigit() else -1
    match = _INDEX.search(job_id)
    return int(match.group(1) or match.group(2)) if match else -1


def aggregate_array(job_id: str, elements: list[JobInfo]) -> JobInfo:
    """One info for a whole array from its elements' infos (see :func:`aggregate`).

    :raises ValueError: no elements.
    """
    return aggregate(job_id, [(i.state, element_index(i.id), i.start_time, i.end_time, i) for i in elements],
                     _same)


def _same(info: JobInfo) -> JobInfo:
    return info


def aggregate(job_id: str, elements: Sequence[Element[Key]], info_of: Callable[[Key], JobInfo]) -> JobInfo:
    """One info for a whole array: active while any element is active (RUNNING before
    SUSPENDED, QUEUED, HELD); once all are final, the worst outcome (FAILED, TIMEOUT,
    CANCELLED, then COMPLETED) with the exit code of the lowest-index element in that
    state (the first such element in input order on a tie); UNKNOWN if some element is
    UNKNOWN and none is active. ``reason`` counts the elements per state; the start time
    is the earliest element start, the end time (once final) the latest element end.

    Linear in the elements (no sort); ``info_of`` is called once, for the chosen
    element's key, whose info gives the name (``[N]`` suffix dropped), exit code and reason.

    :raises ValueError: no elements.
    """
    if not elements:
        raise ValueError(f"job array {job_id} has no elements to aggregate")
    by_state: dict[JobState, list[Element[Key]]] = {}
    for element in elements:
        group = by_state.get(element[0])
        if group is None:
            group = by_state[element[0]] = []
        group.append(element)
    summary = ", ".join(f"{len(group)} {state.value}"
                        for state, group in sorted(by_state.items(), key=lambda item: item[0].value))
    order = _ACTIVE if any(s in by_state for s in _ACTIVE) else (
        (JobState.UNKNOWN,) if JobState.UNKNOWN in by_state else _WORST)
    candidates = next(by_state[s] for s in order if s in by_state)
    chosen = info_of(min(candidates, key=_by_index)[4])  # min: the first of the lowest index
    final = chosen.state.is_final
    starts = [e[2] for e in elements if e[2]]
    ends = [e[3] for e in elements if e[3]] if final else []
    return chosen.model_copy(update={
        "id": job_id,
        "name": _ELEMENT_SUFFIX.sub("", chosen.name or "") or None,
        "exit_code": chosen.exit_code if final else None,
        "start_time": min(starts, default=None),
        "end_time": max(ends, default=None),
        "reason": f"job array of {len(elements)} elements: {summary}"
        + (f"; {chosen.reason}" if chosen.reason else ""),
    })
