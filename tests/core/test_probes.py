"""The status path of BatchResource: the dialect's probes in order, the per-resource memory
of unavailable ones, then exit markers. Real commands (``sh -c``) over the local transport;
each probe command logs its name to a file, so the test sees what actually ran."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import ClassVar, Self

import pytest

import remotejobs
from remotejobs.errors import AuthenticationError, JobNotFoundError, SchedulerError, UnsupportedOperationError
from remotejobs.models import JobInfo, JobSpec, JobState
from remotejobs.scheduler import BatchResource, BatchSettings, Command, SchedulerDialect, ScriptContext
from remotejobs.scheduler.probes import ProbeAnswer, StatusProbe
from remotejobs.transport.base import CommandResult
from remotejobs.transport.local import LocalTransport


class ProbeSettings(BatchSettings):
    log: str


class ProbeDialect(SchedulerDialect[ProbeSettings]):
    """Live: ``new`` (unavailable here: it fails with "unknown option") then ``old`` (knows
    job 1 as running); history: ``hist`` (knows job 2 as done). Job 3 only has a marker."""

    name: ClassVar[str] = "probetest"
    job_id_expr: ClassVar[str] = '"$PROBE_ID"'
    state_map: ClassVar[Mapping[str, JobState]] = {"R": JobState.RUNNING, "D": JobState.COMPLETED}

    def __init__(self, log: str) -> None:
        super().__init__()
        self.log = log

    @classmethod
    def from_settings(cls, settings: ProbeSettings) -> Self:
        return cls(settings.log)

    def _sh(self, name: str, script: str, ids: Sequence[str]) -> Command:
        return Command.of("sh", "-c", f'echo {name} >> "$0"; {script}', self.log, *ids)

    def status_probes(self) -> tuple[StatusProbe, ...]:
        return (
            StatusProbe("new", lambda ids: self._sh("new", 'echo "stat: unknown option" >&2; exit 2', ids),
                        self.parse_status, unavailable=("unknown option",)),
            StatusProbe("old", lambda ids: self._sh("old", "echo 1 R", ids), self.parse_status),
            StatusProbe("hist", lambda ids: self._sh("hist", 'for i; do [ "$i" = 2 ] && echo 2 D; done; :', ids),
                        self.parse_status, stage="history"),
        )

    def parse_status(self, result: CommandResult, ids: Sequence[str]) -> dict[str, JobInfo]:
        rows = (line.split() for line in result.stdout.splitlines())
        return {i: JobInfo(id=i, state=self.map_state(s), native_state=s) for i, s in rows if i in ids}

    def directives(self, spec: JobSpec, ctx: ScriptContext) -> list[str]:
        return []

    def submit_command(self, spec: JobSpec, ctx: ScriptContext, script_path: str) -> Command:
        raise NotImplementedError

    def parse_submit(self, result: CommandResult) -> str:
        raise NotImplementedError

    def status_command(self, ids: Sequence[str]) -> Command:
        raise NotImplementedError

    def jobs_command(self, user: str) -> Command:
        raise NotImplementedError

    def parse_jobs(self, result: CommandResult, user: str) -> list[JobInfo]:
        raise NotImplementedError

    def cancel_command(self, job_id: str) -> Command:
        raise NotImplementedError

    def parse_cancel(self, result: CommandResult, job_id: str) -> None:
        raise NotImplementedError


class ProbeResource(BatchResource[ProbeSettings, ProbeDialect]):
    """Declared by its type arguments only."""


@pytest.fixture
def resource(tmp_path: Path) -> Iterator[ProbeResource]:
    root = tmp_path / "root"
    (root / "ids").mkdir(parents=True)
    (root / "ids" / "3.exit").write_text("4\n")
    resource = ProbeResource(ProbeSettings(log=str(tmp_path / "log"), job_root=str(root)), name="probes")
    resource.login()
    yield resource
    resource.close()


def ran(resource: ProbeResource) -> list[str]:
    return Path(resource.settings.log).read_text().split()


def test_declaration_gives_settings_dialect_and_name(resource: ProbeResource) -> None:
    assert ProbeResource.settings_model is ProbeSettings and ProbeResource.dialect_class is ProbeDialect
    assert ProbeResource.backend_name == "probetest" and isinstance(resource.dialect, ProbeDialect)
    assert resource.settings.log.endswith("log")  # typed as ProbeSettings, no cast


def test_probes_in_order_unavailable_ones_remembered_markers_last(resource: ProbeResource) -> None:
    infos = resource.status_many(["1", "2", "3"])
    assert {k: (v.state, v.exit_code) for k, v in infos.items()} == {
        "1": (JobState.RUNNING, None), "2": (JobState.COMPLETED, None), "3": (JobState.FAILED, 4)}
    assert ran(resource) == ["new", "old", "hist"] and resource.probes.unavailable == {"new"}
    resource.status_many(["1"])  # all live: no history, and "new" is not asked again
    assert ran(resource) == ["new", "old", "hist", "old"]
    with pytest.raises(JobNotFoundError):
        resource.status("99")
    assert ran(resource)[-2:] == ["old", "hist"]


def test_probe_memory_is_per_resource(resource: ProbeResource, tmp_path: Path) -> None:
    resource.status_many(["1"])
    other = ProbeResource(resource.settings, name="other")
    assert other.probes.unavailable == frozenset() and resource.probes.unavailable == {"new"}
    assert other.dialect is not resource.dialect


def test_a_given_transport_is_used(tmp_path: Path) -> None:
    """``transport=``: the caller's instance, not one built from the settings (here the
    settings even name an SSH host that does not exist)."""
    given = LocalTransport()
    settings = ProbeSettings(log=str(tmp_path / "log"), host="no-such-host.invalid")
    resource = ProbeResource(settings, name="given", transport=given)
    resource.login()
    assert resource.transport is given and resource.user == given.user
    assert resource.status_many(["1"])["1"].state is JobState.RUNNING
    resource.logout()
    with pytest.raises(AuthenticationError, match="transport it was given"):
        ProbeResource(settings, name="other", transport=given).login("someone-else")
    with pytest.raises(UnsupportedOperationError, match="does not take a transport"):
        remotejobs.open_resource(backend="local", state_dir=str(tmp_path / "s"), transport=given)
    opened = remotejobs.open_resource(backend="local", state_dir=str(tmp_path / "s"),
                                      interactive_handler=lambda title, text, prompts: [])
    assert opened.backend_name == "local"  # the handler is for SSH logins; others ignore it


def test_lsf_and_torque_status_list_the_users_jobs_past_their_threshold() -> None:
    from remotejobs_lsf.dialect import LsfDialect
    from remotejobs_torque.dialect import TorqueDialect

    lsf = LsfDialect().status_probes()[0]
    few, many = [str(n) for n in range(1, 11)], [str(n) for n in range(1, 200)]
    asked = lsf.command_for(few, "alice")
    assert asked is not None and "-u" not in asked.argv and "10" in asked.argv
    listed = lsf.command_for(many, "alice")
    assert listed is not None and listed.argv[-2:] == ("-u", "alice") and "199" not in listed.argv
    xml, text = TorqueDialect().status_probes()
    listed = xml.command_for(many, "alice")
    assert listed is not None and "199" not in listed.argv and "-x" in listed.argv
    assert "199" in (text.command_for(many, "alice") or Command(())).argv  # text: forgeable, never listed


class BulkDialect(ProbeDialect):
    """One live probe whose listing of the user's jobs (past 1 id) cannot be read."""

    def status_probes(self) -> tuple[StatusProbe, ...]:
        return (StatusProbe("old", lambda ids: self._sh("old", "echo 1 R", ids), self.parse_strict,
                            bulk_command=lambda user, ids: self._sh("bulk", "echo odd record", ids), bulk_above=1),)

    def parse_strict(self, result: CommandResult, ids: Sequence[str]) -> dict[str, JobInfo]:
        if "odd" in result.stdout:
            raise SchedulerError("unreadable listing", output=result.stdout)
        return self.parse_status(result, ids)


class BulkResource(BatchResource[ProbeSettings, BulkDialect]):
    """Declared by its type arguments only."""


def test_an_unreadable_listing_of_the_users_jobs_falls_back_to_asking_by_ids(tmp_path: Path) -> None:
    resource = BulkResource(ProbeSettings(log=str(tmp_path / "log"), job_root=str(tmp_path / "r")), name="bulk")
    resource.login()
    assert {k: v.state for k, v in resource.status_many(["1", "5"]).items()} == {"1": JobState.RUNNING}
    assert Path(resource.settings.log).read_text().split() == ["bulk", "old"]
    resource.status_many(["1"])  # one id: asked by id directly
    assert Path(resource.settings.log).read_text().split() == ["bulk", "old", "old"]
    resource.close()


class ArrayDialect(ProbeDialect):
    """A live probe answering with a :class:`ProbeAnswer`: array ``5[]`` has elements
    ``5[1]`` (done) and ``5[2]`` (finished, outcome unclear: ``F``); job ``6`` is left out
    of its answer (cut short), and the next live probe ``text`` knows it as running."""

    name: ClassVar[str] = "arraytest"

    def status_probes(self) -> tuple[StatusProbe, ...]:
        return (
            StatusProbe("rich", lambda ids: self._sh("rich", "echo '5[1] D'; echo '5[2] F'", ids),
                        self.parse_status, parse_answer=self.answer),
            StatusProbe("text", lambda ids: self._sh("text", "echo 6 R", ids), self.parse_status),
        )

    def answer(self, result: CommandResult, ids: Sequence[str]) -> ProbeAnswer:
        rows = [line.split() for line in result.stdout.splitlines()]
        elements = [JobInfo(id=i, state=self.map_state(s), native_state=s) for i, s in rows]
        return ProbeAnswer({}, {"5[]": elements} if "5[]" in ids else {},
                           tuple(i for i in ids if i != "5[]"))

    def needs_marker(self, info: JobInfo) -> bool:
        return info.native_state == "F"


class ArrayResource(BatchResource[ProbeSettings, ArrayDialect]):
    """Declared by its type arguments only: no status code of its own."""


def test_array_elements_settled_by_their_markers_and_left_out_ids_asked_again(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "ids").mkdir(parents=True)
    (root / "ids" / "5[2].exit").write_text("3\n")
    resource = ArrayResource(ProbeSettings(log=str(tmp_path / "log"), job_root=str(root)), name="arrays")
    resource.login()
    try:
        infos = resource.status_many(["5[]", "6"])
        array = infos["5[]"]
        assert (array.state, array.exit_code) == (JobState.FAILED, 3), array
        assert array.reason is not None and array.reason.startswith("job array of 2 elements"), array
        assert infos["6"].state is JobState.RUNNING
        assert Path(resource.settings.log).read_text().split() == ["rich", "text"]
    finally:
        resource.close()
