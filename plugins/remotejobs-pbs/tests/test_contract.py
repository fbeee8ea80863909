"""The conformance suite over SSH against the test cluster's PBS emulator
(``tests/cluster/emulators/pbs``, running every job on the real Slurm), plus what PBS adds:
exit codes, the walltime kill, job arrays, the text fallback and jobs that vanish when
the server keeps no job history."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from remotejobs_pbs import PbsResource, PbsSettings

from remotejobs.models import JobSpec, JobState
from remotejobs.testing import ContractEnv, ResourceContract
from remotejobs.testing.dependencies import Gate

pytestmark = pytest.mark.cluster

SERVER_CONF = "/var/spool/remotejobs-emulators/pbs/server.conf"


def _opener(ssh_settings: dict[str, Any], users: list[dict[str, Any]], bin_dir: str,
            **extra: Any) -> Callable[[int], PbsResource]:
    def open_resource(index: int) -> PbsResource:
        settings = PbsSettings(**ssh_settings, username=users[index]["name"],
                               key_file=users[index]["key_file"], bin_dir=bin_dir, **extra)
        return PbsResource(settings, name="pbs-emulator")

    return open_resource


def _sh(script: str, **fields: Any) -> JobSpec:
    return JobSpec(executable="/bin/sh", arguments=("-c", script), **fields)


@pytest.fixture
def bin_dir(cluster: dict[str, Any]) -> str:
    path: str = cluster["commands"]["pbs_emulator"]
    return path


class TestPbsEmulator(ResourceContract):
    @pytest.fixture
    def contract_env(self, ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]],
                     bin_dir: str) -> ContractEnv:
        return ContractEnv(open=_opener(ssh_settings, cluster_users, bin_dir),
                           users=[(u["name"], None) for u in cluster_users[:2]],
                           remote_dir=f"{cluster_users[0]['home']}/pbs-inbox", timeout=60.0)

    def test_exit_3_is_failed_with_exit_code_3(self, session: PbsResource, contract_env: ContractEnv) -> None:
        job = session.submit(_sh("exit 3", name="rc3"))
        assert re.fullmatch(r"\d+\.\w+", job.id), job.id
        info = job.wait(timeout=contract_env.timeout)
        assert (info.state, info.exit_code, info.native_state) == (JobState.FAILED, 3, "F"), info
        assert session.dialect.status_format == "auto" and not session.probes.unavailable

    def test_array_aggregates_its_subjobs(self, session: PbsResource, contract_env: ContractEnv) -> None:
        job = session.submit(_sh('[ "$PBS_ARRAY_INDEX" != 2 ] || exit 4', name="arr", array="1-3"))
        assert re.fullmatch(r"\d+\[\]\.\w+", job.id), job.id
        info = job.wait(timeout=contract_env.timeout)
        assert (info.state, info.exit_code) == (JobState.FAILED, 4), info
        assert "2 COMPLETED" in (info.reason or "") and "1 FAILED" in (info.reason or "")
        seq, server = job.id.split("[]")
        element = session.status(f"{seq}[2]{server}")
        assert (element.state, element.exit_code, element.native_state) == (JobState.FAILED, 4, "X")
        assert job.id in {i.id for i in session.jobs()}

    def test_cancel_a_queued_array(self, session: PbsResource, contract_env: ContractEnv) -> None:
        job = session.submit(_sh("sleep 120", array="1-2", depends_on=None))
        job.cancel()
        info = job.wait(timeout=contract_env.timeout)
        assert info.state is JobState.CANCELLED, info

    def test_dependency_and_hold(self, session: PbsResource, contract_env: ContractEnv) -> None:
        from remotejobs.models import Dependency

        gate = Gate(session)  # the first job runs until the test opens the gate: no timing race
        try:
            first = session.submit(_sh(gate.then("exit 0")))
            second = session.submit(_sh("exit 0", depends_on=Dependency(job_ids=(first.id,))))
            held = session.status(second.id)
            assert (held.state, held.native_state) == (JobState.HELD, "H"), held  # first still waits
        finally:
            gate.open()
        assert second.wait(timeout=contract_env.timeout).state is JobState.COMPLETED

    def test_text_format_reads_the_same(self, ssh_settings: dict[str, Any],
                                        cluster_users: list[dict[str, Any]], bin_dir: str) -> None:
        resource = _opener(ssh_settings, cluster_users, bin_dir, status_format="text")(0)
        resource.login(cluster_users[0]["name"], None)
        try:
            info = resource.submit(_sh("exit 5")).wait(timeout=60)
            assert (info.state, info.exit_code) == (JobState.FAILED, 5), info
            assert [p.name for p in resource.dialect.status_probes()] == ["qstat-f"]
        finally:
            resource.close()

    def test_without_job_history_finished_jobs_resolve_from_markers(
        self, session: PbsResource, contract_env: ContractEnv, no_history: None
    ) -> None:
        jobs = [session.submit(_sh(f"exit {rc}")) for rc in (0, 3)]
        infos = {j.id: j.wait(timeout=contract_env.timeout) for j in jobs}
        ids = [j.id for j in jobs]
        answer = session._run(session.dialect.status_command(ids))
        raw, _ = session.dialect.status_parts(answer, ids)
        assert raw == {}, "job_history_enable = False: finished jobs must be gone from qstat"
        ok, bad = (infos[j.id] for j in jobs)
        assert (ok.state, ok.exit_code, ok.native_state) == (JobState.COMPLETED, 0, None), ok
        assert (bad.state, bad.exit_code, bad.native_state) == (JobState.FAILED, 3, None), bad

    @pytest.fixture
    def no_history(self) -> Iterator[None]:
        """The server forgets finished jobs at once (``job_history_enable = False``)."""
        old = Path(SERVER_CONF).read_text() if os.path.exists(SERVER_CONF) else None
        Path(SERVER_CONF).write_text("set server job_history_enable = False\n")
        os.chmod(SERVER_CONF, 0o644)
        try:
            yield
        finally:
            if old is None:
                os.unlink(SERVER_CONF)
            else:
                Path(SERVER_CONF).write_text(old)


def test_walltime_kill_is_timeout(ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]],
                                  bin_dir: str) -> None:
    """SLOW (~60-100 s): Slurm enforces walltime at minute granularity."""
    resource = _opener(ssh_settings, cluster_users, bin_dir)(0)
    resource.login(cluster_users[0]["name"], None)
    try:
        job = resource.submit(_sh("sleep 300", walltime=timedelta(minutes=1)))
        info = resource.wait(job, timeout=180, poll_interval=5)
        assert info.state is JobState.TIMEOUT and "-29" in (info.reason or ""), info
    finally:
        resource.close()
