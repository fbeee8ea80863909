"""The conformance suite over SSH against the test cluster's real Grid Engine (sge_qmaster,
sge_execd of Son of Grid Engine 8.1.9), plus what Grid Engine adds: arrays, a -hold_jid
dependency, the walltime kill, an error-state (Eqw) job, parallel slots, a job deleted while
pending. Needs ``tests/cluster/up``; about a minute (the walltime test waits ~5 s).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from remotejobs_sge import SgeResource, SgeSettings

from remotejobs.errors import InvalidJobSpecError
from remotejobs.models import Dependency, JobSpec, JobState
from remotejobs.testing import ContractEnv, ResourceContract
from remotejobs.workflow.steps import Step

pytestmark = pytest.mark.cluster


# Its own job_root: exit markers are keyed by job number, and the other backends' tests
# (Slurm ids) share the users' default ~/.remotejobs on this machine.
def _settings(cluster: dict[str, Any], ssh_settings: dict[str, Any], user: dict[str, Any]) -> SgeSettings:
    sge = cluster["sge"]
    return SgeSettings(**ssh_settings, username=user["name"], key_file=user["key_file"],
                       bin_dir=sge["bin_dir"], sge_root=sge["root"], sge_cell=sge["cell"],
                       parallel_environment=sge["pe"], job_root=".remotejobs-sge")


def _sh(script: str, **fields: Any) -> JobSpec:
    return JobSpec(executable="/bin/sh", arguments=("-c", script), **fields)


class TestSgeOverSSH(ResourceContract):
    @pytest.fixture
    def contract_env(self, cluster: dict[str, Any], ssh_settings: dict[str, Any],
                     cluster_users: list[dict[str, Any]]) -> ContractEnv:
        return ContractEnv(
            open=lambda i: SgeResource(_settings(cluster, ssh_settings, cluster_users[i]), name="sge-test"),
            users=[(u["name"], None) for u in cluster_users[:2]],
            remote_dir=f"{cluster_users[0]['home']}/sge-inbox",
            timeout=60.0,
        )

    def test_exit_3_is_failed_with_exit_code_3_from_qacct(
        self, session: SgeResource, contract_env: ContractEnv
    ) -> None:
        job = session.submit(_sh("exit 3", name="rc3"))
        assert re.fullmatch(r"[1-9]\d*", job.id), job.id
        info = job.wait(timeout=contract_env.timeout)
        assert (info.state, info.exit_code) == (JobState.FAILED, 3), info
        assert info.native_state == "failed 0", info  # decided by qacct, not by the marker

    def test_directive_lines_in_arguments_are_inert(
        self, session: SgeResource, contract_env: ContractEnv
    ) -> None:
        """qsub reads ``#$`` lines anywhere in a script; ``-C ''`` keeps an argument's line
        (here one asking for a 1 s walltime) from becoming an option."""
        job = session.submit(_sh("sleep 3", name="inert").model_copy(
            update={"arguments": ("-c", "sleep 3", "sh", "x\n#$ -l h_rt=1\n#$ -N injected")}))
        info = job.wait(timeout=contract_env.timeout)
        assert info.state is JobState.COMPLETED and info.name != "injected", info

    def test_walltime_kill_is_timeout(self, session: SgeResource, contract_env: ContractEnv) -> None:
        job = session.submit(_sh("sleep 60", name="walltime", walltime=timedelta(seconds=3)))
        info = job.wait(timeout=contract_env.timeout)
        assert info.state is JobState.TIMEOUT, info
        assert "h_rt" in (info.reason or ""), info

    def test_array_elements_and_aggregate(self, session: SgeResource, contract_env: ContractEnv) -> None:
        job = session.submit(_sh('exit $(( SGE_TASK_ID == 2 ? 4 : 0 ))', name="arr", array="1-3"))
        info = job.wait(timeout=contract_env.timeout)
        assert info.state is JobState.FAILED and info.exit_code == 4, info
        assert "3 elements" in (info.reason or ""), info
        tasks = session.status_many([f"{job.id}.{t}" for t in (1, 2, 3)])
        assert [tasks[f"{job.id}.{t}"].state for t in (1, 2, 3)] == [
            JobState.COMPLETED, JobState.FAILED, JobState.COMPLETED]

    def test_hold_jid_dependency_waits(self, session: SgeResource, contract_env: ContractEnv) -> None:
        first = session.submit(_sh("sleep 4; exit 1", name="first"))
        second = session.submit(_sh("true", name="second",
                                    depends_on=Dependency(condition="afterany", job_ids=(first.id,))))
        assert second.status().state in (JobState.HELD, JobState.QUEUED), second.status()
        done = second.wait(timeout=contract_env.timeout)
        assert done.state is JobState.COMPLETED, done
        before = first.status()
        assert before.state is JobState.FAILED and before.end_time and done.start_time
        assert before.end_time <= done.start_time, (before, done)
        with pytest.raises(InvalidJobSpecError, match="afterany"):
            session.submit(_sh("true", depends_on=Dependency(job_ids=(first.id,))))

    def test_condition_hold_jid_cannot_say_is_held_by_the_client(
        self, session: SgeResource, contract_env: ContractEnv
    ) -> None:
        # -hold_jid says only "ended": a.done is held by the client, not refused. The first
        # job waits for a begin time an hour away, so it is surely undecided when asked.
        first = session.submit(_sh("true", name="rj-sge-gate", begin=datetime.now() + timedelta(hours=1)))
        second = session.submit(_sh("echo after", name="rj-sge-after"), after=first.done)
        assert isinstance(second, Step) and second.job_id is None, second
        first.cancel()
        info = second.wait(timeout=contract_env.timeout)
        assert info.state is JobState.CANCELLED and f"job {first.id} " in (info.reason or ""), info

    def test_parallel_slots_and_memory(self, session: SgeResource, contract_env: ContractEnv,
                                       cluster: dict[str, Any]) -> None:
        spec = JobSpec(executable="/bin/sh", arguments=("-c", 'test "$NSLOTS" = 2 && test "$PE" = "$1"', "sh",
                                                        cluster["sge"]["pe"]), processes_per_node=2, memory_mb=200)
        job = session.submit(spec)
        assert job.wait(timeout=contract_env.timeout).state is JobState.COMPLETED

    def test_error_state_job_is_failed_with_the_reason(
        self, session: SgeResource, contract_env: ContractEnv
    ) -> None:
        """A job whose output file cannot be opened goes to Eqw; qstat -j says why."""
        job = session.submit(_sh("true", name="eqw", stdout="/nonexistent/dir/out"))
        try:
            info = job.wait(timeout=contract_env.timeout)
            assert info.state is JobState.FAILED and info.native_state == "Eqw", info
            assert "/nonexistent/dir/out" in (info.reason or ""), info
        finally:
            job.cancel()

    def test_deleted_while_pending_is_cancelled(self, session: SgeResource, contract_env: ContractEnv) -> None:
        """Grid Engine keeps no accounting record of a job deleted before it started."""
        blocker = session.submit(_sh("sleep 30", name="blocker"))
        job = session.submit(_sh("true", name="pending", depends_on=Dependency(
            condition="afterany", job_ids=(blocker.id,))))
        job.cancel()
        blocker.cancel()
        info = job.wait(timeout=contract_env.timeout)
        assert info.state is JobState.CANCELLED, info
