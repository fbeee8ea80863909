"""Fixtures for running the real ``remotejobs`` executable against the live test cluster."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from remotejobs.testing.sentinel import Sentinel

EXE = shutil.which("remotejobs", path=os.path.dirname(sys.executable)) or "remotejobs"

REDUCE = """\
description = "Reduce one run: prints its metadata and its name"
command = '''/bin/sh -c 'cat "$1/dataset.json"; echo; echo "reduced ${1##*/} bins=$2"' reduce ${dataset} ${bins}'''
datasets = "one"
dataset_types = ["raw"]

[resources]
walltime = "10m"

[options.bins]
type = "int"
default = 10
min = 1
help = "Number of bins"
"""


class Cli:
    """Runs ``remotejobs`` with this test's configuration, job types and agent directory
    (``tmp/agent``). With a sentinel, every output is searched for planted secrets at the
    end of the run, and so are the files the session agent writes in its directory (a
    password or key passphrase in any of them, any secret in one others may read)."""

    def __init__(self, env: dict[str, str], tmp: Path, token: str, sentinel: Sentinel | None = None) -> None:
        self.env, self.tmp, self.token, self.sentinel = env, tmp, token, sentinel
        if sentinel is not None:
            sentinel.watch_files(self.agent_dir, shared=False)

    @property
    def agent_dir(self) -> Path:
        """The session agent's directory (``REMOTEJOBS_AGENT_DIR``): its socket and log."""
        return self.tmp / "agent"

    def __call__(self, *args: str, check: bool = True, stdin: str = "", timeout: float = 300,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([EXE, *args], capture_output=True, text=True, input=stdin, timeout=timeout,
                              env={**self.env, **(env or {})}, check=False)
        if self.sentinel is not None:  # every output searched for planted secrets at the end
            self.sentinel.remember(done.stdout + done.stderr, f"the output of remotejobs {' '.join(args[:2])}")
        if check:
            assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done


def write_config(path: Path, cluster: dict[str, Any], user: dict[str, Any], token: str, *,
                 port: int | None = None, known_hosts: str | None = None) -> None:
    ssh = cluster["ssh"]
    common = (f'host = "{ssh["host"]}"\nport = {port or ssh["port"]}\n'
              f'known_hosts = "{known_hosts or ssh["known_hosts_file"]}"\nuse_agent = false\n'
              f'username = "{user["name"]}"\nkey_file = "{user["key_file"]}"\n')
    path.write_text(
        f'[resources.hpc]\nbackend = "slurm"\ndefault_queue = "debug"\n{common}\n'
        f'[resources.lsfhpc]\nbackend = "lsf"\nbin_dir = "{cluster["commands"]["lsf_emulator"]}"\n{common}\n'
        f'[datasets.raw]\nsource = "directory"\nresource = "hpc"\npattern = "rj-portal-{token}/run*"\n'
        'type = "raw"\n')


@pytest.fixture
def cli(tmp_path: Path, cluster: dict[str, Any], cluster_users: list[dict[str, Any]],
        secret_sentinel: Sentinel) -> Iterator[Cli]:
    """``cli(*args)``: the executable as cluster user 0, with resources ``hpc`` (Slurm)
    and ``lsfhpc`` (the LSF emulator), the job type ``reduce``, the dataset source ``raw``
    (three runs with sidecar metadata in a fresh directory of the user's home) and a
    private agent directory; the agent is stopped and the data removed afterwards."""
    token = secrets.token_hex(4)
    user = cluster_users[0]
    types = tmp_path / "job-types"
    types.mkdir()
    (types / "reduce.toml").write_text(REDUCE)
    config = tmp_path / "config.toml"
    write_config(config, cluster, user, token)
    env = {**os.environ, "REMOTEJOBS_CONFIG": str(config), "REMOTEJOBS_JOB_TYPES": str(types),
           "REMOTEJOBS_AGENT_DIR": str(tmp_path / "agent"), "COLUMNS": "200"}
    env.pop("REMOTEJOBS_AGENT", None)
    data = Path(user["home"]) / f"rj-portal-{token}"
    for i in (1, 2, 3):
        run = data / f"run{i}"
        run.mkdir(parents=True)
        (run / "dataset.json").write_text(f'{{"sample": "S{i}", "run": {i}}}')
    subprocess.run(["chown", "-R", f"{user['name']}:", str(data)], check=True)
    runner = Cli(env, tmp_path, token, secret_sentinel)
    try:
        yield runner
    finally:
        runner("agent", "stop", check=False)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def sshd_log(cluster: dict[str, Any]) -> Callable[[], list[str]]:
    """The test sshd's log lines (``logs.sshd`` of the cluster description)."""
    path = Path(cluster["logs"]["sshd"])
    return lambda: path.read_text(errors="replace").splitlines()
