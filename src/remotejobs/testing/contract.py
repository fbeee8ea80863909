"""The contract every backend meets, as pytest classes a plugin reuses with one fixture.

Usage in a plugin's tests::

    from remotejobs.testing import ContractEnv, ResourceContract

    class TestMyBackend(ResourceContract):
        @pytest.fixture
        def contract_env(self, tmp_path) -> ContractEnv:
            return ContractEnv(open=lambda user: open_resource(backend="mine", ...),
                               users=[("alice", "pw"), ("bob", "pw")], remote_dir="inbox")
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from remotejobs._plugins import get_registry
from remotejobs.errors import (
    JobNotFoundError,
    NotLoggedInError,
    RemoteJobsError,
    TransferError,
    UnsupportedOperationError,
)
from remotejobs.launchers import Launch, PrefixLauncher
from remotejobs.models import JobSpec, JobState
from remotejobs.resource import ComputeResource
from remotejobs.testing.attacks import HostileIdContract

__all__ = ["HOSTILE_STRINGS", "ContractEnv", "ResourceContract"]

#: Strings that must reach a job verbatim and run nothing.
HOSTILE_STRINGS = (
    "two words",
    "it's \"quoted\"",
    "$(touch /tmp/remotejobs-pwned)",
    "`touch /tmp/remotejobs-pwned`",
    "a; touch /tmp/remotejobs-pwned",
    "line one\nline two",
    "ünïcødé ✓ 名前",
    "$HOME ${PATH} * ? [a] ~ \\ | & > <",
)


@dataclass
class ContractEnv:
    """What the contract needs from a backend's test setup.

    :ivar open: makes a new, not-logged-in resource; called with a user index (0 or 1).
    :ivar users: two (username, password-or-None) pairs for two distinct users.
    :ivar remote_dir: a writable remote directory for uploads (relative or absolute).
    :ivar timeout: seconds a short job may take to finish.
    :ivar verbatim_arguments: whether arguments reach the program verbatim (all SSH and
        local backends must; a web service may not be able to promise it).
    """

    open: Callable[[int], ComputeResource]
    users: Sequence[tuple[str | None, str | None]]
    remote_dir: str
    timeout: float = 90.0
    verbatim_arguments: bool = True
    #: Launchers whose tools the test cluster's nodes have; each is run by
    #: :meth:`ResourceContract.test_launcher_starts_one_process_each` where the backend
    #: supports it, and must be refused where it does not.
    launchers: Sequence[str] = ("multiple",)


class _NowhereLauncher(PrefixLauncher):
    """A launcher for a scheduler no backend is: every resource must refuse it."""

    name: ClassVar[str] = "contract-nowhere"
    schedulers: ClassVar[frozenset[str] | None] = frozenset({"no-such-scheduler"})

    def prefix(self, launch: Launch) -> list[str]:
        return ["false"]


def _sh(script: str, *args: str, name: str | None = None) -> JobSpec:
    return JobSpec(executable="/bin/sh", arguments=("-c", script, "sh", *args), name=name)


def _text_of(paths: Sequence[Path]) -> str:
    return "".join(p.read_text(encoding="utf-8", errors="replace") for p in paths)


class ResourceContract(HostileIdContract):
    """Behaviour every backend shares. Provide the ``contract_env`` fixture."""

    @pytest.fixture
    def contract_env(self) -> ContractEnv:
        raise NotImplementedError("override the contract_env fixture")

    @pytest.fixture
    def session(self, contract_env: ContractEnv) -> Iterator[ComputeResource]:
        resource = contract_env.open(0)
        username, password = contract_env.users[0]
        resource.login(username, password)
        yield resource
        resource.close()

    # -- lifecycle --------------------------------------------------------------------
    def test_ping_answers(self, contract_env: ContractEnv) -> None:
        assert contract_env.open(0).ping() is True

    def test_login_then_logout_blocks_operations(self, contract_env: ContractEnv) -> None:
        resource = contract_env.open(0)
        username, password = contract_env.users[0]
        resource.login(username, password)
        assert resource.logged_in and resource.user
        user = resource.user
        resource.logout()
        resource.logout()  # idempotent
        with pytest.raises(NotLoggedInError) as err:
            resource.submit(_sh("true"))
        assert err.value.user == user and err.value.resource == resource.name
        assert user in str(err.value) and resource.name in str(err.value)

    # -- jobs -------------------------------------------------------------------------
    def test_job_completes_and_output_downloads(
        self, session: ComputeResource, contract_env: ContractEnv, tmp_path: Path
    ) -> None:
        job = session.submit(_sh("echo hello-from-remotejobs", name="contract-ok"))
        assert isinstance(job.id, str) and job.id
        info = job.wait(timeout=contract_env.timeout)
        assert info.state is JobState.COMPLETED, info
        assert info.exit_code in (0, None)
        files = job.download(tmp_path / "out")
        assert files and all(p.exists() for p in files)
        assert "hello-from-remotejobs" in _text_of(files)

    def test_failing_job_is_failed_with_exit_code(
        self, session: ComputeResource, contract_env: ContractEnv
    ) -> None:
        info = session.wait(session.submit(_sh("exit 3")), timeout=contract_env.timeout)
        assert info.state is JobState.FAILED, info
        assert info.exit_code == 3

    def test_cancel_running_job(self, session: ComputeResource, contract_env: ContractEnv) -> None:
        job = session.submit(_sh("sleep 120"))
        job.cancel()
        info = job.wait(timeout=contract_env.timeout)
        assert info.state.is_final, info
        assert info.state is not JobState.COMPLETED

    def test_status_many_and_jobs_list(
        self, session: ComputeResource, contract_env: ContractEnv
    ) -> None:
        jobs = [session.submit(_sh(f"exit {n}")) for n in (0, 1)]
        for job in jobs:
            job.wait(timeout=contract_env.timeout)
        infos = session.status_many([j.id for j in jobs])
        assert set(infos) == {j.id for j in jobs}
        assert [infos[j.id].state for j in jobs] == [JobState.COMPLETED, JobState.FAILED]
        listed = {i.id for i in session.jobs()}
        assert {j.id for j in jobs} <= listed

    def test_submit_many_returns_the_jobs_in_order(
        self, session: ComputeResource, contract_env: ContractEnv
    ) -> None:
        """Distinct specs in one call: one handle per spec, in order (exit codes tell
        them apart), each a job of its own; no spec, no job."""
        codes = (0, 3, 5)
        jobs = session.submit_many([_sh(f"exit {n}", name=f"many-{n}") for n in codes])
        assert len(jobs) == len(codes) and len({j.id for j in jobs}) == len(codes), jobs
        infos = [j.wait(timeout=contract_env.timeout) for j in jobs]
        assert [i.exit_code or 0 for i in infos] == list(codes), infos
        assert [i.state for i in infos] == [JobState.COMPLETED, JobState.FAILED, JobState.FAILED], infos
        assert session.submit_many([]) == []

    def test_states_never_move_backwards(
        self, session: ComputeResource, contract_env: ContractEnv
    ) -> None:
        job = session.submit(_sh("sleep 1"))
        seen = []
        deadline = time.monotonic() + contract_env.timeout
        while time.monotonic() < deadline:
            seen.append(job.status().state)
            if seen[-1].is_final:
                break
            time.sleep(0.2)
        ranks = [s.rank for s in seen if s is not JobState.UNKNOWN]
        assert ranks == sorted(ranks) and seen[-1] is JobState.COMPLETED, seen

    def test_unknown_job_id_raises_job_not_found(self, session: ComputeResource) -> None:
        with pytest.raises(JobNotFoundError) as err:
            session.status("987654321")
        assert err.value.resource == session.name
        with pytest.raises(JobNotFoundError):
            session.cancel("987654321")

    def test_arguments_reach_the_job_verbatim(
        self, session: ComputeResource, contract_env: ContractEnv, tmp_path: Path
    ) -> None:
        """Hostile arguments and names never run anything; where the backend promises
        verbatim arguments they also arrive unchanged."""
        canary = Path("/tmp/remotejobs-pwned")
        canary.unlink(missing_ok=True)
        spec = JobSpec(
            executable="/bin/sh",
            arguments=("-c", 'for a; do printf "<%s>\\n" "$a"; done', "sh", *HOSTILE_STRINGS),
            name="we ird; $(name) `x`",
        )
        job = session.submit(spec)
        info = job.wait(timeout=contract_env.timeout)
        assert info.state.is_final, info
        assert not canary.exists(), "a hostile argument or name was run by a shell"
        if contract_env.verbatim_arguments:
            assert info.state is JobState.COMPLETED, info
            out = _text_of(job.download(tmp_path))
            for text in HOSTILE_STRINGS:
                assert f"<{text}>" in out

    # -- launchers ----------------------------------------------------------------------
    def test_launcher_starts_one_process_each(
        self, session: ComputeResource, contract_env: ContractEnv, tmp_path: Path
    ) -> None:
        """Each of ``contract_env.launchers`` the backend supports runs a job of two
        processes that print one line each (between the pre/post launch steps where the
        backend runs them); one it does not support is refused naming field and backend."""
        who = ('echo "copy ${REMOTEJOBS_PROCESS_INDEX:-${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-$SLURM_PROCID}}}'
               ' of ${REMOTEJOBS_PROCESS_COUNT:-${OMPI_COMM_WORLD_SIZE:-${PMI_SIZE:-$SLURM_NTASKS}}}"')
        registry = get_registry()
        jobs = []
        for name in contract_env.launchers:
            spec = JobSpec(executable="/bin/sh", arguments=("-c", who), launcher=name, processes_per_node=2,
                           name=f"contract-{name}")
            if not session.supports_launcher(registry.launcher(name)):
                with pytest.raises(UnsupportedOperationError) as err:
                    session.submit(spec)
                assert f"launcher={name!r}" in str(err.value) and repr(session.backend_name) in str(err.value)
                continue
            if session.launch_steps:
                spec = spec.model_copy(update={"pre_launch": ("echo", "pre-launch"),
                                               "post_launch": ("echo", "post-launch")})
            jobs.append((name, session.submit(spec)))
        for name, job in jobs:
            info = job.wait(timeout=contract_env.timeout)
            assert info.state is JobState.COMPLETED, (name, info)
            lines = _text_of(job.download(tmp_path / name)).splitlines()
            assert sorted(ln for ln in lines if ln.startswith("copy ")) == ["copy 0 of 2", "copy 1 of 2"], lines
            if session.launch_steps:
                assert lines.index("pre-launch") < lines.index("post-launch"), lines

    def test_a_launcher_for_no_scheduler_here_is_refused_before_sending(self, session: ComputeResource) -> None:
        registry = get_registry()
        registry.add_launcher("contract-nowhere", _NowhereLauncher)
        try:
            with pytest.raises(UnsupportedOperationError) as err:
                session.submit(JobSpec(executable="/bin/true", launcher="contract-nowhere"))
            assert "launcher='contract-nowhere'" in str(err.value) and err.value.resource == session.name
            assert "contract-nowhere" not in session.launchers()
        finally:
            del registry.launchers["contract-nowhere"]

    # -- files ------------------------------------------------------------------------
    def test_upload_then_job_reads_it_and_named_download(
        self, session: ComputeResource, contract_env: ContractEnv, tmp_path: Path
    ) -> None:
        local = tmp_path / "données d'entrée ✓.txt"
        local.write_text("payload-ünïcødé\n", encoding="utf-8")
        remote = session.upload(local, contract_env.remote_dir)
        assert remote.endswith(local.name)
        more = [tmp_path / "zwei ✓.txt", tmp_path / "drei.txt"]
        for path in more:
            path.write_text(f"{path.name}\n", encoding="utf-8")
        several = session.upload_many(more, contract_env.remote_dir)  # one round trip where it can
        assert [posixpath.basename(p) for p in several] == [p.name for p in more]
        job = session.submit(_sh('cat -- "$1" > "résultat 1.txt" && cat -- "$2" "$3" > "résultat 2.txt"',
                                 remote, *several))
        assert job.wait(timeout=contract_env.timeout).state is JobState.COMPLETED
        got = job.download(tmp_path / "back", name="résultat 1.txt")
        assert [p.name for p in got] == ["résultat 1.txt"]
        assert got[0].read_text(encoding="utf-8") == "payload-ünïcødé\n"
        everything = {p.name: p for p in job.download(tmp_path / "all")}  # several files at once
        assert everything["résultat 2.txt"].read_text(encoding="utf-8") == "zwei ✓.txt\ndrei.txt\n"
        assert everything["résultat 1.txt"].read_text(encoding="utf-8") == "payload-ünïcødé\n"
        with pytest.raises(TransferError):
            job.download(tmp_path / "back", name="no such file.txt")

    def test_upload_of_missing_file_is_transfer_error(
        self, session: ComputeResource, contract_env: ContractEnv, tmp_path: Path
    ) -> None:
        with pytest.raises(TransferError) as err:
            session.upload(tmp_path / "missing.bin", contract_env.remote_dir)
        assert isinstance(err.value, RemoteJobsError)

    # -- users ------------------------------------------------------------------------
    def test_two_users_do_not_see_each_other(
        self, contract_env: ContractEnv
    ) -> None:
        first, second = contract_env.open(0), contract_env.open(1)
        first.login(*contract_env.users[0])
        second.login(*contract_env.users[1])
        try:
            assert first.user != second.user
            job = first.submit(_sh("sleep 2", name="mine-only"))
            assert job.id in {i.id for i in first.jobs()}
            assert job.id not in {i.id for i in second.jobs()}
            with pytest.raises(JobNotFoundError):
                second.status(job.id)
            job.wait(timeout=contract_env.timeout)
        finally:
            first.close()
            second.close()

