"""The parsers' fast path: ``JobInfo.trusted``, the collector pause, linear array aggregation."""

from __future__ import annotations

import gc
import pickle
import threading
from datetime import datetime

import pytest

from remotejobs._gcpause import collector_paused
from remotejobs.models import JobInfo, JobState
from remotejobs.scheduler import arrays

WHEN = datetime(2026, 11, 22, 3, 38, 10)


def test_trusted_equals_the_validated_model() -> None:
    values = {"name": "n", "native_state": "PENDING", "exit_code": 3, "submit_time": WHEN, "reason": "why",
              "queue": "debug", "owner": "rjalice"}
    fast = JobInfo.trusted("12", JobState.FAILED, **values)  # type: ignore[arg-type]
    slow = JobInfo(id="12", state=JobState.FAILED, **values)
    assert fast == slow and repr(fast) == repr(slow) and fast.model_dump() == slow.model_dump()
    assert JobInfo.model_validate(fast.model_dump()) == fast
    assert pickle.loads(pickle.dumps(fast)) == fast
    with pytest.raises(Exception, match="frozen"):
        fast.id = "13"  # type: ignore[misc]


def test_a_copy_of_a_trusted_info_does_not_share_its_field_set() -> None:
    first = JobInfo.trusted("1", JobState.QUEUED)
    copy = first.model_copy(update={"id": "2"})
    assert copy.id == "2" and first.id == "1"
    assert copy.model_fields_set is not first.model_fields_set
    assert JobInfo.trusted("3", JobState.QUEUED).model_fields_set == first.model_fields_set


def test_states_hash_by_identity_and_still_round_trip() -> None:
    assert {JobState.RUNNING: 1}[JobState("RUNNING")] == 1
    assert pickle.loads(pickle.dumps(JobState.HELD)) is JobState.HELD
    assert len({*JobState, *JobState}) == len(JobState)


def test_the_collector_is_paused_inside_and_restored_after() -> None:
    seen: list[bool] = []

    @collector_paused
    def inner() -> None:
        seen.append(gc.isenabled())

    @collector_paused
    def outer() -> None:
        inner()
        seen.append(gc.isenabled())

    assert gc.isenabled()
    outer()
    assert seen == [False, False] and gc.isenabled()


def test_a_program_that_disabled_the_collector_keeps_it_disabled() -> None:
    gc.disable()
    try:
        collector_paused(lambda: None)()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_exception_restores_the_collector_too() -> None:
    @collector_paused
    def fails() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        fails()
    assert gc.isenabled()


def test_concurrent_paused_calls_share_one_pause() -> None:
    inside, release = threading.Barrier(3), threading.Event()

    @collector_paused
    def hold() -> None:
        inside.wait()
        release.wait()

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait()
    assert not gc.isenabled()
    release.set()
    for thread in threads:
        thread.join()
    assert gc.isenabled()


def _element(job_id: str, state: JobState, code: int | None = None) -> JobInfo:
    return JobInfo.trusted(job_id, state, name="arr", exit_code=code, start_time=WHEN, end_time=WHEN)


def test_the_lowest_index_wins_whatever_the_input_order() -> None:
    elements = [_element("7_10", JobState.FAILED, 3), _element("7_2", JobState.FAILED, 5),
                _element("7_1", JobState.COMPLETED, 0), _element("7_9", JobState.FAILED, 4)]
    info = arrays.aggregate_array("7", elements)
    assert (info.id, info.state, info.exit_code) == ("7", JobState.FAILED, 5)
    assert info.reason == "job array of 4 elements: 1 COMPLETED, 3 FAILED"
    torque = [_element("8[3].srv_1", JobState.FAILED, 1), _element("8[2].srv_1", JobState.FAILED, 2)]
    assert arrays.aggregate_array("8[]", torque).exit_code == 2


def test_aggregating_nothing_is_an_error_naming_the_array() -> None:
    with pytest.raises(ValueError, match="job array 9"):
        arrays.aggregate_array("9", [])


def test_select_converts_each_row_once_for_any_number_of_arrays() -> None:
    rows = [(f"{a}_{i}", str(a)) for a in range(50) for i in range(40)] + [("999", "999")]
    converted: list[str] = []

    def to_info(row: tuple[str, str]) -> JobInfo:
        converted.append(row[0])
        return _element(row[0], JobState.QUEUED)

    ids = [str(a) for a in range(50)] + ["999", "404"]
    found = arrays.select(rows, ids, to_info, own_id=lambda r: r[0],
                          array_id=lambda r: r[1] if r[1] != r[0] else None)
    assert sorted(converted) == sorted(r[0] for r in rows)  # linear: never ids x rows
    assert set(found) == set(ids) - {"404"}
    assert found["3"].reason == "job array of 40 elements: 40 QUEUED"


def test_aggregate_builds_one_info_from_light_elements() -> None:
    """``arrays.aggregate`` reads (state, index, start, end, key) tuples and turns only
    the chosen element's key into an info; it agrees with ``aggregate_array``."""
    later = datetime(2026, 11, 22, 4, 0, 0)
    infos = [JobInfo.trusted("5_3", JobState.FAILED, exit_code=3, start_time=WHEN, end_time=later, name="a[3]"),
             JobInfo.trusted("5_1", JobState.FAILED, exit_code=1, start_time=later, end_time=WHEN, name="a[1]"),
             JobInfo.trusted("5_1", JobState.FAILED, exit_code=9, name="dup"),
             JobInfo.trusted("5_0", JobState.COMPLETED, exit_code=0)]
    asked: list[int] = []

    def info_of(k: int) -> JobInfo:
        asked.append(k)
        return infos[k]

    elements = [(i.state, arrays.element_index(i.id), i.start_time, i.end_time, k) for k, i in enumerate(infos)]
    fast = arrays.aggregate("5", elements, info_of)
    assert asked == [1], "only the chosen element (first of the lowest failed index) becomes an info"
    assert fast == arrays.aggregate_array("5", infos)
    assert (fast.exit_code, fast.name, fast.start_time, fast.end_time) == (1, "a", WHEN, later)
    assert [arrays.element_index(i) for i in ("7_12", "7[3]", "7[4].srv", "7", "7_[1-3]")] == [12, 3, 4, -1, -1]
