"""The local backend honours the launcher ``multiple``, ``environment``, ``stdin`` and
``begin``, and refuses every other site field, launcher and launch step by name, and
``queue``, ``memory_mb`` and several nodes; a job whose supervisor died fails."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import remotejobs
from remotejobs import ComputeResource, JobSpec, JobState
from remotejobs.errors import InvalidJobSpecError, UnsupportedOperationError
from remotejobs.models import SITE_FIELDS


@pytest.fixture
def local(tmp_path: Path) -> ComputeResource:
    resource = remotejobs.open_resource(backend="local", state_dir=str(tmp_path / "state"))
    resource.login("alice")
    return resource


def _out(resource: ComputeResource, job_id: str, tmp_path: Path) -> list[str]:
    (path,) = resource.download(job_id, tmp_path / f"out-{job_id}", name="stdout")
    return path.read_text().splitlines()


def test_multiple_copies_with_environment_and_stdin(local: ComputeResource, tmp_path: Path) -> None:
    data = tmp_path / "in.txt"
    data.write_text("payload\n")
    inbox = local.upload(data, "inbox")
    job = local.submit(JobSpec(
        executable="/bin/sh", launcher="multiple", processes_per_node=3, environment={"GREETING": "hi there"},
        arguments=("-c", 'read line; echo "$GREETING $REMOTEJOBS_PROCESS_INDEX/$REMOTEJOBS_PROCESS_COUNT $line"'),
        directory=str(Path(inbox).parent), stdin="in.txt"))
    assert job.wait(timeout=60).state is JobState.COMPLETED
    assert sorted(_out(local, job.id, tmp_path)) == [f"hi there {i}/3 payload" for i in range(3)]


def test_the_first_failure_in_start_order_is_the_exit_code(local: ComputeResource) -> None:
    script = 'i=$REMOTEJOBS_PROCESS_INDEX; [ "$i" = 2 ] && exit 7; [ "$i" = 1 ] && { sleep 0.3; exit 5; }; exit 0'
    info = local.submit(JobSpec(executable="/bin/sh", arguments=("-c", script), launcher="multiple",
                                processes_per_node=3)).wait(timeout=60)
    assert (info.state, info.exit_code) == (JobState.FAILED, 5)


def test_cancel_stops_every_copy(local: ComputeResource, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    job = local.submit(JobSpec(executable="/bin/sh", launcher="multiple", processes_per_node=2,
                               arguments=("-c", f'echo $$ > {marks}/"$REMOTEJOBS_PROCESS_INDEX"; exec sleep 300')))
    deadline = time.monotonic() + 30
    while len([p for p in marks.iterdir() if p.read_text().strip()]) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    job.cancel()
    assert job.wait(timeout=60).state is JobState.CANCELLED
    for mark in marks.iterdir():
        pid = int(mark.read_text())
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), "a copy survived the cancel"


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs: a zombie (state Z, dead but not yet reaped by whoever
    inherited it, which under load may be PID 1 long after the cancel) does not count."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_begin_holds_the_job_until_then_and_a_cancel_ends_the_wait(local: ComputeResource) -> None:
    soon = datetime.now() + timedelta(seconds=1)
    started = local.submit(JobSpec(executable="/bin/true", begin=soon))
    waiting = local.submit(JobSpec(executable="/bin/true", begin=datetime.now() + timedelta(hours=1)))
    info = waiting.status()
    assert (info.state, info.native_state) == (JobState.QUEUED, "BEGIN") and "begin time" in (info.reason or "")
    done = started.wait(timeout=60)
    assert done.state is JobState.COMPLETED and done.start_time is not None
    assert done.start_time.timestamp() >= soon.timestamp() - 0.01
    waiting.cancel()
    assert waiting.wait(timeout=60).state is JobState.CANCELLED


# array_limit needs an array, which local refuses first (no arrays capability)
@pytest.mark.parametrize("field", sorted(set(SITE_FIELDS) - {"stdin", "begin", "array_limit"}))
def test_other_site_fields_are_refused_by_name(local: ComputeResource, field: str) -> None:
    values: dict[str, object] = {"account": "imaging", "qos": "short", "reservation": "r", "constraint": "ssd",
                                 "exclusive": True, "cores_per_process": 2, "gpus_per_node": 1,
                                 "memory_mb_per_process": 100, "nice": 5, "email": "a@b.c",
                                 "email_on": ["end"], "scheduler_options": {"local": ["--x"]}}
    extra: dict[str, object] = {"email": "a@b.c"} if field == "email_on" else {}
    with pytest.raises(UnsupportedOperationError) as err:
        local.submit(JobSpec.model_validate({"executable": "/bin/true", field: values[field], **extra}))
    assert field in str(err.value) and "'local'" in str(err.value)
    assert local.jobs() == []


def test_launchers_other_than_multiple_and_launch_steps_are_refused(local: ComputeResource) -> None:
    assert local.launchers() == ["multiple"]
    for spec in (JobSpec(executable="/bin/true", launcher="mpirun"),
                 JobSpec(executable="/bin/true", post_launch=("echo",))):
        with pytest.raises(UnsupportedOperationError) as err:
            local.submit(spec)
        assert "'local'" in str(err.value)
    assert local.jobs() == []


@pytest.mark.parametrize(("field", "value"), [("queue", "debug"), ("memory_mb", 500), ("nodes", 2)])
def test_queue_memory_and_nodes_are_refused_naming_field_resource_and_what_to_do(
        local: ComputeResource, field: str, value: object) -> None:
    with pytest.raises(InvalidJobSpecError) as err:
        local.submit(JobSpec.model_validate({"executable": "/bin/true", field: value}))
    assert f"field {field} " in str(err.value) and "'local'" in str(err.value)
    assert err.value.resource == local.name and err.value.user == "alice" and err.value.hint
    with pytest.raises(InvalidJobSpecError):  # submit_many checks every spec before making any job
        local.submit_many([JobSpec(executable="/bin/true"), JobSpec.model_validate({"executable": "x", field: value})])
    assert local.jobs() == []


def _supervisor_of(job_dir: Path) -> int:
    """The pid of the supervisor process running ``job_dir`` (from /proc, not the store)."""
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"remotejobs.local._supervisor" in argv and str(job_dir).encode() in argv:
            return int(proc.name)
    raise AssertionError(f"no supervisor process for {job_dir}")


def test_a_job_whose_supervisor_died_during_its_begin_wait_fails(local: ComputeResource) -> None:
    job = local.submit(JobSpec(executable="/bin/true", begin=datetime.now() + timedelta(hours=1)))
    assert job.status().state is JobState.QUEUED
    pid = _supervisor_of(local.store.jobs_dir("alice") / job.id)  # type: ignore[attr-defined]
    os.kill(pid, signal.SIGKILL)
    info = job.wait(timeout=60)  # was QUEUED for ever
    assert (info.state, info.native_state) == (JobState.FAILED, None)
    assert "supervisor" in (info.reason or "") and "never ran" in (info.reason or "")
    waiting = local.submit(JobSpec(executable="/bin/true", begin=datetime.now() + timedelta(hours=1)))
    assert waiting.status().state is JobState.QUEUED  # a live supervisor's job still waits
    waiting.cancel()
    assert waiting.wait(timeout=60).state is JobState.CANCELLED
