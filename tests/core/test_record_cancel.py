"""A cancel is recorded in the job's exit marker when the job never started: schedulers that
keep no record of a job deleted while pending (Grid Engine's qacct) would otherwise leave it
UNKNOWN for good. Real commands over the local transport; the made-up scheduler never runs
its jobs and forgets them, so the marker is all the evidence there is."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from remotejobs.models import JobInfo, JobSpec, JobState
from remotejobs.scheduler import BatchResource, BatchSettings, Command, SchedulerDialect, ScriptContext
from remotejobs.transport.base import CommandResult


class ForgetfulDialect(SchedulerDialect[BatchSettings]):
    """``submit`` prints the next id from a counter file; status never knows any job."""

    name: ClassVar[str] = "forgetful"
    job_id_expr: ClassVar[str] = '"$FORGETFUL_ID"'
    state_map: ClassVar[Mapping[str, JobState]] = {}

    def directives(self, spec: JobSpec, ctx: ScriptContext) -> list[str]:
        return []

    def submit_command(self, spec: JobSpec, ctx: ScriptContext, script_path: str) -> Command:
        counter = str(Path(ctx.index_dir).parent / "counter")
        return Command.of("sh", "-c", 'n=$(( $(cat "$1" 2>/dev/null || echo 0) + 1 )); echo $n > "$1"; echo $n',
                          "sh", counter)

    def parse_submit(self, result: CommandResult) -> str:
        return result.stdout.strip()

    def status_command(self, ids: Sequence[str]) -> Command:
        return Command.of("true")

    def parse_status(self, result: CommandResult, ids: Sequence[str]) -> dict[str, JobInfo]:
        return {}

    def jobs_command(self, user: str) -> Command:
        return Command.of("true")

    def parse_jobs(self, result: CommandResult, user: str) -> list[JobInfo]:
        return []

    def cancel_command(self, job_id: str) -> Command:
        return Command.of("true")

    def parse_cancel(self, result: CommandResult, job_id: str) -> None:
        return None


class ForgetfulResource(BatchResource[BatchSettings, ForgetfulDialect]):
    """Declared by its type arguments only."""


@pytest.fixture
def resource(tmp_path: Path) -> Iterator[ForgetfulResource]:
    resource = ForgetfulResource(BatchSettings(job_root=str(tmp_path / "root")), name="forgetful")
    resource.login()
    yield resource
    resource.close()


def test_cancel_before_start_is_cancelled_not_unknown(resource: ForgetfulResource, tmp_path: Path) -> None:
    job = resource.submit(JobSpec(executable="true"))
    assert job.status().state is JobState.UNKNOWN
    job.cancel()
    info = job.status()
    assert info.state is JobState.CANCELLED, info
    assert (tmp_path / "root" / "ids" / f"{job.id}.exit").read_text() == "signal\n"


def test_a_started_or_finished_job_keeps_its_own_evidence(resource: ForgetfulResource, tmp_path: Path) -> None:
    started, finished = (resource.submit(JobSpec(executable="true")) for _ in range(2))
    ids = tmp_path / "root" / "ids"
    (ids / started.id).symlink_to(tmp_path)  # the running job's index link
    (ids / f"{finished.id}.exit").write_text("3\n")
    started.cancel()
    finished.cancel()
    assert not (ids / f"{started.id}.exit").exists()
    assert (finished.status().state, finished.status().exit_code) == (JobState.FAILED, 3)
