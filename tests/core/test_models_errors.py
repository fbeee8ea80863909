"""Models validate with field-naming errors; errors carry context and never secrets."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime

import pytest
from pydantic import ValidationError

from remotejobs import JobInfo, JobSpec, JobState
from remotejobs.errors import (
    InvalidJobSpecError,
    JobNotFoundError,
    JobSpecValidationError,
    RemoteJobsError,
    SchedulerError,
    TransportError,
)
from remotejobs.models import merge_info


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"executable": ""}, "executable", "at least 1 character"),
        ({"executable": "x", "nodes": 0}, "nodes", "greater than or equal to 1"),
        ({"executable": "x", "memory_mb": -5}, "memory_mb", "greater than or equal to 1"),
        ({"executable": "x", "environment": {"1BAD": "v"}}, "environment", "must match"),
        ({"executable": "x", "walltime": 0}, "walltime", "at least one second"),
        ({"executable": "x", "queue": "a\nb"}, "queue", "newline"),
        ({"executable": "x", "colour": "red"}, "colour", "Extra inputs are not permitted"),
        ({"executable": "x", "array": "1-"}, "array", "pattern"),
    ],
)
def test_invalid_jobspec_names_field_and_rule(fields: dict[str, object], field: str, rule: str) -> None:
    with pytest.raises(JobSpecValidationError) as err:
        JobSpec(**fields)
    text = str(err.value)
    assert field in text and rule in text
    assert isinstance(err.value, RemoteJobsError) and isinstance(err.value, ValueError)
    assert isinstance(err.value, InvalidJobSpecError) and not err.value.transient
    assert err.value.errors[0]["loc"] == (field,) and err.value.errors[0]["type"]
    assert isinstance(err.value.__cause__, ValidationError)  # pydantic's own error, chained


def test_jobspec_errors_from_every_constructor_and_without_values() -> None:
    secret = "hunter2-do-not-show"
    makers: list[Callable[[], JobSpec]] = [
        lambda: JobSpec(executable="x", environment={"1BAD": secret}),
        lambda: JobSpec.model_validate({"executable": "x", "environment": {"1BAD": secret}}),
        lambda: JobSpec.model_validate_json(json.dumps({"executable": "x", "environment": {"1BAD": secret}})),
    ]
    for make in makers:
        with pytest.raises(JobSpecValidationError, match="environment") as err:
            make()
        assert secret not in str(err.value) and secret not in repr(err.value.errors)
    with pytest.raises(JobSpecValidationError, match=r"depends_on.*Dependency.*job_ids"):
        JobSpec(executable="x", depends_on={"job_ids": []})


def test_jobspec_is_frozen_and_accepts_lists() -> None:
    spec = JobSpec(executable="echo", arguments=["a", "b"], walltime="01:00:00")
    assert spec.arguments == ("a", "b") and spec.walltime is not None
    assert spec.walltime.total_seconds() == 3600
    with pytest.raises(ValidationError):
        spec.name = "x"  # type: ignore[misc]


def test_final_states_and_monotone_merge() -> None:
    assert {s for s in JobState if s.is_final} == {
        JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMEOUT}
    done = JobInfo(id="1", state=JobState.COMPLETED, exit_code=0)
    running = JobInfo(id="1", state=JobState.RUNNING)
    queued = JobInfo(id="1", state=JobState.QUEUED)
    unknown = JobInfo(id="1", state=JobState.UNKNOWN, reason="gone")
    assert merge_info(done, running) is done
    assert merge_info(running, queued) is running
    assert merge_info(queued, running) is running
    assert merge_info(running, unknown) is unknown
    assert merge_info(done, unknown) is done


def test_a_later_report_keeps_what_an_earlier_one_told_of_the_job() -> None:
    """A job resolved from its exit marker (the scheduler forgot it) keeps its name and
    times from earlier reports; what the new report says wins."""
    start = datetime(2026, 12, 7, 7, 10)
    running = JobInfo(id="7", name="reduce", state=JobState.RUNNING, submit_time=start, start_time=start,
                      queue="normal", owner="rjalice", command="/bin/true")
    marker = JobInfo(id="7", state=JobState.FAILED, exit_code=4, reason="Resolved from the job's exit-code marker")
    merged = merge_info(running, marker)
    assert (merged.state, merged.exit_code, merged.reason) == (marker.state, 4, marker.reason)
    assert (merged.name, merged.submit_time, merged.start_time, merged.queue, merged.owner, merged.command) == (
        "reduce", start, start, "normal", "rjalice", "/bin/true")
    assert merged.end_time is None  # not known: not made up
    renamed = marker.model_copy(update={"name": "other"})
    assert merge_info(running, renamed).name == "other"


def test_errors_carry_context_and_transient_flags() -> None:
    err = JobNotFoundError("42", resource="scarf", user="alice")
    assert isinstance(err, RemoteJobsError) and not err.transient
    assert str(err) == "Job '42' not found [resource 'scarf', user 'alice']"
    assert TransportError("dropped").transient is True
    assert TransportError("dropped", transient=False).transient is False
    late = SchedulerError("bad output", command=["squeue", "-j", "1"], exit_status=1, output="x" * 5000)
    late.add_context(resource="r", user="u")
    assert len(late.output) == 2000 and "squeue -j 1" in str(late) and "[resource 'r', user 'u']" in str(late)


def test_site_fields_are_refused_by_a_backend_that_does_not_map_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import remotejobs
    from remotejobs.errors import UnsupportedOperationError

    with remotejobs.open_resource(backend="local", state_dir=str(tmp_path)) as local:
        local.login()
        with pytest.raises(UnsupportedOperationError) as err:
            local.submit(JobSpec(executable="/bin/true", account="imaging", exclusive=True))
        text = str(err.value)
        assert "account, exclusive" in text and "'local'" in text
        # options for another scheduler are not this backend's business:
        job = local.submit(JobSpec(executable="/bin/true", scheduler_options={"slurm": ("--licenses=m:1",)}))
        assert job.wait(timeout=60).state.is_final


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"scheduler_options": {"slurm": ("--x=$(id)",)}}, "must be -x, --name or --name=value"),
        ({"scheduler_options": {"slurm": ("; rm -rf ~",)}}, "must be -x, --name or --name=value"),
        ({"array_limit": 2}, "array_limit needs array"),
        ({"email_on": frozenset({"end"})}, "email_on needs email"),
        ({"account": "a b"}, "account"),
        ({"constraint": "fast;id"}, "constraint"),
        ({"stdin": "in\n"}, "NUL or newline"),
    ],
)
def test_site_field_validation_names_the_rule(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        JobSpec(executable="/bin/true", **fields)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"environment": {"NAME\n": "v"}}, "environment"),  # "$" in a regex matches before a final newline
        ({"environment": {"NAME": "a\0b"}}, "environment"),
        ({"arguments": ["ok", "a\0b"]}, "arguments"),
        ({"name": "a\0b"}, "name"),
    ],
)
def test_nul_and_a_newline_in_env_names_are_refused_not_dropped(fields: dict[str, object], field: str) -> None:
    """NUL cannot travel in argv or an environment: it used to be dropped silently."""
    from remotejobs.errors import JobSpecValidationError

    with pytest.raises(JobSpecValidationError) as err:
        JobSpec(executable="x", **fields)
    assert field in str(err.value)
