"""The conformance suite against two independent Torque servers, over SSH.

1. ``TestTorqueEmulator``: the Torque emulator of the test cluster
   (``tests/cluster/emulators/torque``, installed per checkout under /opt/remotejobs-test/checkouts/).
2. ``TestSlurmTorqueWrappers``: Debian's ``slurm-wlm-torque`` wrappers (unpacked by the test cluster), a
   third-party implementation (bare ids, TAB-indented ``qstat -f``, no ``-x``, no
   ``exit_status``).

Passing both is the evidence that the backend tolerates real-world variation. The extra
tests check exit codes, the walltime kill and (emulator only, keep_completed = 0) jobs
that vanish from qstat the moment they complete.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from remotejobs_torque import TorqueResource, TorqueSettings

from remotejobs.models import JobSpec, JobState
from remotejobs.testing import ContractEnv, ResourceContract

pytestmark = pytest.mark.cluster

SERVER_CONF = "/var/spool/remotejobs-emulators/torque/server.conf"


def _opener(ssh_settings: dict[str, Any], users: list[dict[str, Any]], bin_dir: str
            ) -> Callable[[int], TorqueResource]:
    def open_resource(index: int) -> TorqueResource:
        settings = TorqueSettings(**ssh_settings, username=users[index]["name"],
                                  key_file=users[index]["key_file"], bin_dir=bin_dir)
        return TorqueResource(settings, name=f"torque-{Path(bin_dir).parts[-2]}")

    return open_resource


def _env(ssh_settings: dict[str, Any], users: list[dict[str, Any]], bin_dir: str) -> ContractEnv:
    return ContractEnv(
        open=_opener(ssh_settings, users, bin_dir),
        users=[(u["name"], None) for u in users[:2]],
        remote_dir=f"{users[0]['home']}/torque-inbox",
        timeout=60.0,
    )


def _sh(script: str, **fields: Any) -> JobSpec:
    return JobSpec(executable="/bin/sh", arguments=("-c", script), **fields)


class _OverSSH(ResourceContract):
    #: which ``commands`` entry of the cluster JSON holds the server's bin dir
    server: ClassVar[str]

    @pytest.fixture
    def contract_env(self, cluster: dict[str, Any], ssh_settings: dict[str, Any],
                     cluster_users: list[dict[str, Any]]) -> ContractEnv:
        return _env(ssh_settings, cluster_users, cluster["commands"][self.server])

    id_form: ClassVar[str]
    status_format: ClassVar[str]

    def test_exit_3_is_failed_with_exit_code_3(
        self, session: TorqueResource, contract_env: ContractEnv
    ) -> None:
        job = session.submit(_sh("exit 3", name="rc3"))
        assert re.fullmatch(self.id_form, job.id), job.id
        info = job.wait(timeout=contract_env.timeout)
        assert (info.state, info.exit_code) == (JobState.FAILED, 3), info
        rejected_xml = "qstat-x" in session.probes.unavailable
        assert rejected_xml is (self.status_format == "text"), session.probes.unavailable


class TestTorqueEmulator(_OverSSH):
    server = "torque_emulator"
    id_form = r"\d+\.\w+"  # N.<server>
    status_format = "xml"  # qstat -f -x works; exit_status comes from qstat

    def test_vanished_jobs_resolve_from_markers(
        self, session: TorqueResource, contract_env: ContractEnv, keep_completed_zero: str
    ) -> None:
        jobs = [session.submit(_sh(f"exit {rc}", queue=keep_completed_zero)) for rc in (0, 3)]
        infos = {j.id: j.wait(timeout=contract_env.timeout) for j in jobs}
        ids = [j.id for j in jobs]
        raw = session.dialect.parse_status(session.transport.run(session.dialect.status_command(ids).argv), ids)
        assert raw == {}, "keep_completed = 0: completed jobs must be gone from qstat"
        ok, bad = (infos[j.id] for j in jobs)
        assert (ok.state, ok.exit_code, ok.native_state) == (JobState.COMPLETED, 0, None), ok
        assert (bad.state, bad.exit_code, bad.native_state) == (JobState.FAILED, 3, None), bad

    @pytest.fixture
    def keep_completed_zero(self, cluster: dict[str, Any]) -> Iterator[str]:
        """Queue ``short`` gets Torque's ``keep_completed = 0`` for the test."""
        queue = cluster["slurm"]["partitions"][1]
        old = Path(SERVER_CONF).read_text() if os.path.exists(SERVER_CONF) else None
        Path(SERVER_CONF).write_text(f"set queue {queue} keep_completed = 0\n")
        os.chmod(SERVER_CONF, 0o644)
        try:
            yield queue
        finally:
            if old is None:
                os.unlink(SERVER_CONF)
            else:
                Path(SERVER_CONF).write_text(old)


class TestSlurmTorqueWrappers(_OverSSH):
    server = "torque_wrappers"
    id_form = r"\d+"  # bare Slurm ids
    status_format = "text"  # -x rejected; no exit_status: the marker decides


def test_walltime_kill_is_timeout_on_both_servers(
    cluster: dict[str, Any], ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]]
) -> None:
    """SLOW (~60-100 s): Slurm enforces walltime at minute granularity, so both servers
    get one job with ``walltime=00:01:00`` running ``sleep 300``, waited for together."""
    resources = [
        _opener(ssh_settings, cluster_users, cluster["commands"][kind])(0)
        for kind in ("torque_emulator", "torque_wrappers")
    ]
    try:
        jobs = [r.submit(_sh("sleep 300", walltime=timedelta(minutes=1))) for r in resources]
        emulator, wrapper = (r.wait(j, timeout=180, poll_interval=5) for r, j in zip(resources, jobs, strict=True))
        assert emulator.state is JobState.TIMEOUT and "-11" in (emulator.reason or ""), emulator
        assert wrapper.state is JobState.TIMEOUT, wrapper
    finally:
        for resource in resources:
            resource.close()


def test_pointed_at_a_pbs_pro_server_it_names_the_pbs_backend(
    cluster: dict[str, Any], ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]]
) -> None:
    """The test cluster's PBS Professional emulator (tests/cluster/emulators/pbs) answers
    ``qstat -f -x`` with text: the torque backend must say so, not report forever."""
    from remotejobs.errors import SchedulerError

    resource = _opener(ssh_settings, cluster_users, cluster["commands"]["pbs_emulator"])(0)
    resource.login(cluster_users[0]["name"], None)
    try:
        job = resource.submit(_sh("exit 0"))
        with pytest.raises(SchedulerError, match="PBS Professional or OpenPBS") as err:
            resource.status(job.id)
        assert 'backend = "pbs"' in str(err.value)
    finally:
        resource.close()
