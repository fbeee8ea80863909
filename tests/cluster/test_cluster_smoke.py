"""Smoke tests of the test cluster itself (not of remotejobs).

They bring the cluster up through ``fixture.cluster_info()`` and check, over
real SSH with paramiko, what the SDK's integration tests rely on.  Skipped
unless running as root (native mode) and paramiko is installed.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import paramiko
import pytest

HERE = Path(__file__).resolve().parent
NATIVE = os.environ.get("REMOTEJOBS_TEST_CLUSTER", "native") == "native"

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(NATIVE and os.geteuid() != 0, reason="native test cluster needs root"),
]


@pytest.fixture(scope="module")
def info(cluster: dict[str, Any]) -> dict[str, Any]:
    """``cluster`` (root conftest.py) is the JSON printed by tests/cluster/up."""
    return cluster


def connect(
    info: dict[str, Any], user: dict[str, Any], *, password: bool = False, kbd: bool = False
) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.load_host_keys(info["ssh"]["known_hosts_file"])
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    host, port = info["ssh"]["host"], info["ssh"]["port"]
    if kbd:
        sock = socket.create_connection((host, port), timeout=10)
        transport = paramiko.Transport(sock)
        transport.start_client(timeout=10)
        transport.auth_interactive(
            user["name"], lambda title, instr, prompts: [user["password"]] * len(prompts)
        )
        assert transport.is_authenticated()
        client._transport = transport  # type: ignore[attr-defined]  # reuse SSHClient.exec_command
        return client
    kwargs = {"password": user["password"]} if password else {"key_filename": user["key_file"]}
    client.connect(
        host, port, username=user["name"], look_for_keys=False, allow_agent=False, timeout=10, **kwargs
    )
    return client


def run(client: paramiko.SSHClient, command: str) -> tuple[int, str, str]:
    _, out, err = client.exec_command(command, timeout=60)
    rc = out.channel.recv_exit_status()
    return rc, out.read().decode(), err.read().decode()


def test_json_shape(info: dict[str, Any]) -> None:
    assert info["ssh"]["port"] == 2222 and info["ssh"]["host_key_type"] == "ssh-ed25519"
    assert [u["name"] for u in info["users"]] == ["rjalice", "rjbob"]
    assert info["slurm"]["partitions"] == ["debug", "short"] and info["slurm"]["accounting"] is True
    for kind in ("torque_emulator", "lsf_emulator", "torque_wrappers", "sge", "pbs_emulator"):
        assert Path(info["commands"][kind]).is_dir()
    assert info["sge"]["queue"] == "all.q" and info["sge"]["pe"] == "smp" and info["sge"]["slots"] == 8


def test_key_password_and_kbd_logins(info: dict[str, Any]) -> None:
    for user in info["users"]:
        for mode in ({}, {"password": True}, {"kbd": True}):
            with connect(info, user, **mode) as c:
                assert run(c, "id -un") == (0, user["name"] + "\n", "")


def test_host_key_matches(info: dict[str, Any]) -> None:
    with connect(info, info["users"][0]) as c:
        transport = c.get_transport()
        assert transport is not None
        key = transport.get_remote_server_key()
        assert f"{key.get_name()} {key.get_base64()}" == info["ssh"]["host_key"]


def _wait_job(c: paramiko.SSHClient, job: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        _, out, _ = run(c, f"scontrol show job {job} -o")
        state = re.search(r"JobState=(\S+)", out)
        if state and state.group(1) in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY"):
            return state.group(1)
        assert time.monotonic() < deadline, out
        time.sleep(0.2)


def test_sbatch_completes_and_writes_output(info: dict[str, Any]) -> None:
    alice = info["users"][0]
    with connect(info, alice) as c:
        rc, out, err = run(c, "cd ~ && sbatch --parsable --mem=100M --wrap 'echo hi'")
        assert rc == 0, err
        job = out.strip().split(";")[0]
        assert _wait_job(c, job) == "COMPLETED"
        assert run(c, f"cat ~/slurm-{job}.out") == (0, "hi\n", "")


def test_short_partition_and_scancel(info: dict[str, Any]) -> None:
    with connect(info, info["users"][0]) as c:
        rc, out, err = run(c, "sbatch --parsable -p short --wrap 'sleep 300'")
        assert rc == 0, err
        job = out.strip()
        assert run(c, f"scancel {job}")[0] == 0
        assert _wait_job(c, job) == "CANCELLED"


def test_squeue_as_bob_and_torque_wrapper_as_alice(info: dict[str, Any]) -> None:
    with connect(info, info["users"][1]) as c:
        rc, out, err = run(c, "squeue -h -o '%i %T'")
        assert rc == 0, err
    with connect(info, info["users"][0]) as c:
        script = "printf '#!/bin/bash\\necho torque-ok\\n' > tq.sh"
        qsub = f"{info['commands']['torque_wrappers']}/qsub"
        rc, out, err = run(c, f"cd ~ && {script} && {qsub} tq.sh")
        assert rc == 0, out + err
        job = out.strip()
        assert job.isdigit(), out
        assert _wait_job(c, job) == "COMPLETED"
        assert run(c, f"cat ~/tq.sh.o{job}")[1] == "torque-ok\n"


def test_grid_engine_runs_jobs_of_both_users(info: dict[str, Any]) -> None:
    """Each user submits a script on stdin over SSH (qsub -terse, -pe smp 2) and qacct reports the exit status."""
    sge = info["sge"]
    env = " ".join(f"{k}={v}" for k, v in sge["env"].items())
    for user, code in zip(info["users"], (0, 3), strict=True):
        with connect(info, user) as c:
            submit = (f"echo 'exit {code}' | env {env} {sge['bin_dir']}/qsub -terse -S /bin/sh -N smoke "
                      f"-o /dev/null -j y -pe {sge['pe']} 2")
            rc, out, err = run(c, submit)
            assert rc == 0 and out.strip().isdigit(), out + err
            job, deadline = out.strip(), time.monotonic() + 60
            while True:
                rc, acct, _ = run(c, f"env {env} {sge['bin_dir']}/qacct -j {job}")
                if rc == 0:
                    break
                assert time.monotonic() < deadline, acct
                time.sleep(0.5)
            assert re.search(rf"^owner\s+{user['name']}\s*$", acct, re.M), acct
            assert re.search(rf"^exit_status\s+{code}\s*$", acct, re.M), acct
            assert re.search(r"^slots\s+2\s*$", acct, re.M), acct


@pytest.mark.skipif(not NATIVE, reason="native mode only")
def test_second_up_restarts_nothing_and_is_identical(info: dict[str, Any]) -> None:
    """A second ``up`` starts no daemon and adds no association (what made it fast; no timed
    assertion: the machine may be loaded)."""
    proc = subprocess.run([sys.executable, str(HERE / "up")], capture_output=True, text=True, check=True)
    assert "starting" not in proc.stderr and "sacctmgr: adding" not in proc.stderr, proc.stderr
    assert json.loads(proc.stdout) == info
