"""Benchmark (not a test) of the Slurm backend on the test cluster.

    .venv/bin/python benchmarks/slurm_bench.py [--jobs 1000]

Brings the cluster up (tests/cluster/up, needs root), then prints, from one run:

- per-command overhead: remotejobs over SSH (`true`) beside the `ssh` CLI with a fresh
  connection per command and with an OpenSSH ControlMaster connection;
- submit time per job: remotejobs over SSH, `sbatch` over a ControlMaster connection, and
  local `sbatch` (jobs are submitted held, so nothing runs on the 2-CPU node: remotejobs
  gets a bin_dir whose `sbatch` adds `--hold` (one extra bash exec));
- status time of 1, 100 and N held jobs: remotejobs `status_many` (one squeue call)
  beside the same squeue over ControlMaster and locally.

All jobs are cancelled with one `scancel` at the end, also on failure.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from remotejobs_slurm import SlurmResource, SlurmSettings

from remotejobs.models import JobSpec

ROOT = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def sh(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


class Bench:
    """The cluster, the remotejobs resource and the ssh command lines of one run."""

    def __init__(self, info: dict[str, Any], tmp: Path) -> None:
        ssh_info, user = info["ssh"], info["users"][0]
        self.slurm = info["commands"]["slurm"]
        self.name = user["name"]
        self.target = f"{self.name}@{ssh_info['host']}"
        self.ssh = ["ssh", "-i", user["key_file"], "-p", str(ssh_info["port"]), "-o", "BatchMode=yes",
                    "-o", f"UserKnownHostsFile={ssh_info['known_hosts_file']}",
                    "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR"]
        self.control = [*self.ssh, "-o", "ControlMaster=auto", "-o", f"ControlPath={tmp}/cm-%C",
                        "-o", "ControlPersist=60"]
        settings = SlurmSettings(host=ssh_info["host"], port=ssh_info["port"], username=self.name,
                                 key_file=user["key_file"], known_hosts=ssh_info["known_hosts_file"],
                                 use_agent=False, bin_dir=str(tmp), accounting=False, default_queue="debug")
        self.resource = SlurmResource(settings, name="bench")
        self.ids: list[str] = []
        self.rows: list[tuple[str, str, float]] = []

    def overhead(self) -> None:
        transport = self.resource.transport
        transport.run(["true"])
        subprocess.run([*self.control, self.target, "true"], check=True)  # start the master
        self.rows += [
            ("per command (true)", "remotejobs SSH", timed(lambda: transport.run(["true"]), 50)),
            ("per command (true)", "ssh, fresh connection", timed(lambda: sh([*self.ssh, self.target, "true"]), 10)),
            ("per command (true)", "ssh ControlMaster", timed(lambda: sh([*self.control, self.target, "true"]), 50)),
        ]

    def submits(self, total: int) -> None:
        spec = JobSpec(executable="/bin/true", name="bench")
        start = time.perf_counter()
        for _ in range(50):
            self.ids.append(self.resource.submit(spec).id)
        self.rows.append(("submit, per job (held)", "remotejobs SSH", (time.perf_counter() - start) * 20))
        wrap = ["--parsable", "--hold", "-J", "bench", "-o", "/dev/null", "--wrap", "true"]

        def cm_submit() -> None:
            self.ids.append(sh([*self.control, self.target, f"{self.slurm}/sbatch", *wrap]).strip())

        def local_submit() -> None:
            self.ids.append(sh(["runuser", "-u", self.name, "--", f"{self.slurm}/sbatch", *wrap]).strip())

        self.rows.append(("submit, per job (held)", "sbatch over ControlMaster", timed(cm_submit, 50)))
        self.rows.append(("submit, per job (held)", "local sbatch (runuser)", timed(local_submit, 50)))
        while len(self.ids) < total:
            local_submit()

    def status(self, count: int) -> None:
        batch = self.ids[:count]
        got = self.resource.status_many(batch)
        if len(got) != count:
            raise SystemExit(f"status_many returned {len(got)} of {count} jobs")
        squeue = [f"{self.slurm}/squeue", *self.resource.slurm.status_command(batch).argv[1:]]
        remote = [*self.control, self.target, *map(shlex.quote, squeue)]
        label = f"status of {count} job(s)"
        self.rows += [
            (label, "remotejobs SSH (1 squeue)", timed(lambda: self.resource.status_many(batch), 5)),
            (label, "squeue over ControlMaster", timed(lambda: sh(remote), 5)),
            (label, "local squeue", timed(lambda: sh(squeue), 5)),
        ]

    def cleanup(self) -> None:
        if self.ids:
            subprocess.run([f"{self.slurm}/scancel", *self.ids], check=False)
        self.resource.close()
        subprocess.run([*self.control, "-O", "exit", self.target], capture_output=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="largest status batch (default 1000)")
    args = parser.parse_args()
    info: dict[str, Any] = json.loads(sh([str(ROOT / "tests/cluster/up")]))
    slurm = info["commands"]["slurm"]
    tmp = Path(tempfile.mkdtemp(prefix="rj-slurm-bench-"))
    tmp.chmod(0o755)
    (tmp / "sbatch").write_text(f'#!/bin/bash\nexec {slurm}/sbatch --hold "$@"\n')
    (tmp / "sbatch").chmod(0o755)
    for program in ("squeue", "scancel", "sacct"):
        (tmp / program).symlink_to(f"{slurm}/{program}")
    bench = Bench(info, tmp)
    try:
        bench.resource.login(bench.name)
        bench.overhead()
        bench.submits(args.jobs)
        for count in sorted({1, 100, args.jobs}):
            bench.status(count)
    finally:
        bench.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"Slurm backend benchmark, {len(bench.ids)} held jobs submitted and cancelled (median ms)")
    print(f"{'what':<26} {'how':<30} {'ms':>9}")
    for what, how, ms in bench.rows:
        print(f"{what:<26} {how:<30} {ms:>9.2f}")


if __name__ == "__main__":
    main()
