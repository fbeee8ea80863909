"""One benchmark run's shared state: the cluster user, ssh command lines, a held-sbatch
``bin_dir``, a call-counting wrapper, and the remotejobs Slurm resources under test.

Jobs are submitted *held* (``sbatch --hold`` through a wrapper ``bin_dir``) so that
thousands of them can sit in the queue of the 2-CPU test node; every job this run created
is cancelled by :meth:`Context.close`, also after a failure.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from remotejobs_slurm import SlurmResource, SlurmSettings

from benchmarks._common import as_user, cluster_info


class Context:
    def __init__(self, smoke: bool) -> None:
        self.smoke = smoke
        self.info: dict[str, Any] = cluster_info()
        ssh, user = self.info["ssh"], self.info["users"][0]
        self.user: str = user["name"]
        self.other_user: str = self.info["users"][1]["name"]
        self.key_file: str = user["key_file"]
        self.slurm: str = self.info["commands"]["slurm"]
        self.host, self.port = ssh["host"], int(ssh["port"])
        self.known_hosts: str = ssh["known_hosts_file"]
        self.tmp = Path(tempfile.mkdtemp(prefix="rj-bench-"))
        self.tmp.chmod(0o755)
        self.target = f"{self.user}@{self.host}"
        self.ssh = ["ssh", "-i", self.key_file, "-p", str(self.port), "-o", "BatchMode=yes",
                    "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                    "-o", "LogLevel=ERROR"]
        self.control = [*self.ssh, "-o", "ControlMaster=auto", "-o", f"ControlPath={self.tmp}/cm-%C",
                        "-o", "ControlPersist=120"]
        self.scp = ["scp", "-q", "-i", self.key_file, "-P", str(self.port), "-o", "BatchMode=yes",
                    "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes"]
        self.held_bin = self._bin_dir("held", hold=True)
        self.counted_bin = self._bin_dir("counted", hold=False)
        self.resources: list[SlurmResource] = []
        #: Ids of jobs submitted by references that name jobs their own way (PSI/J).
        self.foreign_ids: list[str] = []

    # ------------------------------------------------------------------ bin dirs
    def _bin_dir(self, name: str, *, hold: bool) -> Path:
        """A ``bin_dir`` whose sbatch adds ``--hold`` (if ``hold``); without ``hold``, its
        squeue/sacct append one line per call to ``<dir>/calls`` (to count scheduler
        calls). With ``hold`` they are Slurm's own (symlinks): the status case compares
        remotejobs' squeue with PSI/J's, so no wrapper shell may sit in front of one of them."""
        path = self.tmp / name
        path.mkdir(mode=0o755)
        calls = path / "calls"
        calls.touch(mode=0o666)
        calls.chmod(0o666)
        extra = " --hold" if hold else ""
        (path / "sbatch").write_text(f'#!/bin/sh\nexec {self.slurm}/sbatch{extra} "$@"\n')
        counted = () if hold else ("squeue", "sacct")
        for program in counted:
            (path / program).write_text(f'#!/bin/sh\necho {program} >> {calls}\nexec {self.slurm}/{program} "$@"\n')
        for program in ("scancel", "scontrol", *(("squeue", "sacct") if hold else ())):
            (path / program).symlink_to(f"{self.slurm}/{program}")
        for program in ("sbatch", *counted):
            (path / program).chmod(0o755)
        return path

    @staticmethod
    def calls(bin_dir: Path) -> int:
        """Scheduler status calls recorded so far through ``bin_dir``."""
        return len((bin_dir / "calls").read_text().splitlines())

    # ------------------------------------------------------------------ resources
    def resource(self, bin_dir: Path, *, over_ssh: bool = True) -> SlurmResource:
        """A logged-in Slurm resource of the first test user (SSH), or of root on this
        node (``over_ssh=False``: the login-node case, local transport)."""
        common: dict[str, Any] = {"bin_dir": str(bin_dir), "accounting": False, "default_queue": "debug"}
        if over_ssh:
            settings = SlurmSettings(host=self.host, port=self.port, username=self.user, key_file=self.key_file,
                                     known_hosts=self.known_hosts, use_agent=False, **common)
        else:
            settings = SlurmSettings(job_root=str(self.tmp / "login-node-jobs"), **common)
        resource = SlurmResource(settings, name="bench")
        resource.login(self.user if over_ssh else None)
        self.resources.append(resource)
        return resource

    def local_sbatch(self, user: str, *extra: str) -> str:
        """One held job submitted with the local ``sbatch`` as ``user``; its id."""
        argv = [f"{self.slurm}/sbatch", "--parsable", "--hold", "-J", "rjbench", "-o", "/dev/null", *extra,
                "--wrap", "true"]
        out = subprocess.run(as_user(user, argv), capture_output=True, text=True, check=True).stdout
        return out.strip().split(";")[0]

    def close(self) -> None:
        if self.foreign_ids:
            subprocess.run([f"{self.slurm}/scancel", *self.foreign_ids], check=False, capture_output=True)
        for user in (self.user, self.other_user, "root"):
            subprocess.run([f"{self.slurm}/scancel", "-u", user, "-n", "rjbench"], check=False,
                           capture_output=True)
        for resource in self.resources:
            resource.close()
        subprocess.run([*self.control, "-O", "exit", self.target], capture_output=True, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)
