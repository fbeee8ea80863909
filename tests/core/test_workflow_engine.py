"""The client-side workflow engine on the local backend (which has no scheduler
dependencies, so every condition is held and decided by the engine): failure propagation,
memoised reruns, force, first_of, transfers, file placeholders, the default resource."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import remotejobs
from remotejobs import ComputeResource, JobSpec, JobState
from remotejobs.workflow import Step, Workflow, WorkflowError
from remotejobs.workflow.journal import Journal

TIMEOUT = 60.0


def sh(script: str, name: str | None = None) -> JobSpec:
    return JobSpec(executable="/bin/sh", arguments=("-c", script), name=name)


@pytest.fixture
def local(tmp_path: Path) -> ComputeResource:
    resource = remotejobs.open_resource(backend="local", state_dir=str(tmp_path / "state"))
    resource.login("alice")
    return resource


def _submitted(resource: ComputeResource) -> int:
    return len(resource.jobs())


def test_a_failure_cancels_exactly_its_dependents(local: ComputeResource, tmp_path: Path) -> None:
    with Workflow("fail", journal_dir=tmp_path) as wf:
        bad = local.submit(sh("exit 3"), name="bad")
        good = local.submit(sh("true"), name="good")
        child = local.submit(sh("true"), after=bad.done, name="child")
        grandchild = local.submit(sh("true"), after=child.done | bad.started & ~bad.ended, name="grandchild")
        rescue = local.submit(sh("true"), after=bad.failed, name="rescue")
        both = local.submit(sh("true"), after=good.done & child.ended, name="both")
        independent = local.submit(sh("sleep 1"), after=good.done, name="independent")
        outcomes = wf.wait(timeout=TIMEOUT, progress=False)
    states = {label: info.state for label, info in outcomes.items()}
    assert states == {"bad": JobState.FAILED, "good": JobState.COMPLETED, "child": JobState.CANCELLED,
                      "grandchild": JobState.CANCELLED, "rescue": JobState.COMPLETED,
                      "both": JobState.COMPLETED, "independent": JobState.COMPLETED}, outcomes
    assert isinstance(child, Step) and isinstance(grandchild, Step) and isinstance(both, Step)
    assert isinstance(rescue, Step) and isinstance(independent, Step)  # submit in a Workflow makes steps
    assert child.job_id is None and grandchild.job_id is None
    assert child.reason is not None and "bad ended FAILED" in child.reason
    assert grandchild.reason is not None and "bad ended FAILED (via child)" in grandchild.reason
    assert both.job_id is not None and rescue.job_id is not None and independent.job_id is not None


def test_rerun_reuses_and_a_changed_input_reruns_only_dependents(local: ComputeResource, tmp_path: Path) -> None:
    data = tmp_path / "input.txt"
    data.write_text("v1")

    def script() -> dict[str, Step]:
        with Workflow("memo", journal_dir=tmp_path) as wf:
            first = local.submit(sh("echo one > one.txt"), name="first")
            uses_input = local.submit(sh("true"), name="uses-input", inputs=[data])
            later = local.submit(sh("true"), after=first.done & uses_input.done, name="later")
            alone = local.submit(sh("true"), after=first.done, name="alone")
            wf.wait(timeout=TIMEOUT, progress=False)
        steps = {"first": first, "uses-input": uses_input, "later": later, "alone": alone}
        assert all(s.state is JobState.COMPLETED for s in steps.values()), steps  # type: ignore[attr-defined]
        return steps  # type: ignore[return-value]

    run1 = script()
    count = _submitted(local)
    started = time.monotonic()
    run2 = script()
    assert time.monotonic() - started < 1.0
    assert _submitted(local) == count, "a rerun must submit nothing"
    assert [run2[k].job_id for k in run1] == [run1[k].job_id for k in run1]
    data.write_text("v2")
    run3 = script()
    assert _submitted(local) == count + 2
    assert run3["first"].job_id == run1["first"].job_id and run3["alone"].job_id == run1["alone"].job_id
    assert run3["uses-input"].job_id != run1["uses-input"].job_id
    assert run3["later"].job_id != run1["later"].job_id
    rows = {r.label: r.state for r in Journal("memo", tmp_path).rows()}
    assert rows["later"] == "COMPLETED"


def test_force_reruns_a_step_and_its_dependents(local: ComputeResource, tmp_path: Path) -> None:
    ids = []
    for force in (False, False, True):
        with Workflow("force", journal_dir=tmp_path) as wf:
            a = local.submit(sh("true"), name="a")
            b = local.submit(sh("true"), name="b", force=force)
            c = local.submit(sh("true"), after=b.done, name="c")
            wf.wait(timeout=TIMEOUT, progress=False)
            ids.append((a.id, b.id, c.id))
    assert ids[0] == ids[1]
    assert ids[2][0] == ids[0][0] and ids[2][1] != ids[0][1] and ids[2][2] != ids[0][2]


def test_first_of_cancels_the_losers(local: ComputeResource) -> None:
    with Workflow(poll_interval=0.5) as wf:
        racers = [local.submit(sh(f"sleep {t}; echo {t} > out"), name=f"r{t}") for t in (1, 30, 40)]
        assert all(isinstance(r, Step) for r in racers)
        race = wf.first_of([r for r in racers if isinstance(r, Step)], good_enough=lambda s: True)
        winner = race.wait(timeout=TIMEOUT)
        assert winner is racers[0]
        cancelled_at = time.monotonic()
        infos = [r.wait(timeout=TIMEOUT) for r in racers[1:]]
    assert all(i.state is JobState.CANCELLED for i in infos), infos
    assert all("first_of: r1 was good enough" in (r.reason or "") for r in racers[1:] if isinstance(r, Step))
    assert time.monotonic() - cancelled_at < 10


def test_upload_copy_and_file_placeholders(local: ComputeResource, tmp_path: Path) -> None:
    other = remotejobs.open_resource(backend="local", state_dir=str(tmp_path / "state2"))
    other.login("bob")
    model = tmp_path / "model.txt"
    model.write_text("MODEL")
    with Workflow("transfers", journal_dir=tmp_path) as wf:
        reduce = local.submit(sh("echo REDUCED > reduced.dat"), name="reduce")
        fetch = wf.copy(reduce.file("reduced.dat"), "inbox", to=other, name="fetch")
        upload = wf.upload(model, "models", resource=other)
        fit = other.submit(JobSpec(executable="/bin/cat", arguments=(str(fetch.file("reduced.dat")),)), name="fit")
        wf.wait(timeout=TIMEOUT, progress=False)
    assert fetch.state is JobState.COMPLETED and Path(fetch.path).read_text() == "REDUCED\n"
    assert Path(upload.path).read_text() == "MODEL"
    out = fit.download(tmp_path / "out", "stdout")
    assert out[0].read_text() == "REDUCED\n"


def test_with_resource_sets_the_default_per_thread(local: ComputeResource, tmp_path: Path) -> None:
    seen: list[str] = []

    def other_thread() -> None:
        with pytest.raises(remotejobs.ConfigurationError, match="No default resource"):
            remotejobs.workflow.default_resource()
        seen.append("checked")

    with Workflow() as wf:
        local.__enter__()  # what `with local:` does, without closing at the end of the test
        try:
            job = remotejobs.submit(sh("true"), name="via-default")
            thread = threading.Thread(target=other_thread)
            thread.start()
            thread.join()
        finally:
            from remotejobs.workflow.context import pop_default

            pop_default(local)
        wf.wait(timeout=TIMEOUT, progress=False)
    assert seen == ["checked"] and job.resource is local and job.status().state is JobState.COMPLETED


def test_unsubmitted_step_id_says_why(local: ComputeResource) -> None:
    with Workflow() as wf:
        bad = local.submit(sh("exit 1"), name="bad")
        never = local.submit(sh("true"), after=bad.done, name="never")
        with pytest.raises(WorkflowError, match="bad ended FAILED"):
            _ = never.id
        wf.wait(timeout=TIMEOUT, progress=False)


def test_a_step_whose_submission_raised_is_not_kept_to_be_submitted_later(local: ComputeResource) -> None:
    """``submit(spec, after=...)`` outside a workflow block uses the process's default
    workflow: a step whose submission raised was kept there (held), and every later
    conditional submission, on any resource, submitted it again or raised its error."""
    from remotejobs.errors import InvalidJobSpecError
    from remotejobs.workflow import default_workflow

    first = local.submit(sh("exit 0", "first"))
    assert first.wait(timeout=60).state is JobState.COMPLETED
    with pytest.raises(InvalidJobSpecError):  # the local backend has no queues
        local.submit(JobSpec(executable="/bin/true", queue="nope", name="refused-step"), after=first.done)
    assert not [s for s in default_workflow().steps if s.label.startswith("refused-step")]
    later = local.submit(sh("exit 0", "later-step"), after=first.done)
    assert later.wait(timeout=60).state is JobState.COMPLETED
    names = [i.name or "" for i in local.jobs()]
    assert [n for n in names if n.startswith("later-step")] and not [n for n in names if "refused" in n], names
