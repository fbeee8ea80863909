"""SSH cases: the cost of one remote command, and file transfers, beside OpenSSH.

References in the same run: ``ssh`` with a fresh connection per command, ``ssh`` over an
OpenSSH ControlMaster connection, ``scp`` (fresh connection) and ``scp`` over the
ControlMaster. The remote copies live in the test user's home on the same machine
(loopback), so the figures measure the protocol stacks, not a network.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from benchmarks._common import Comparison, Row, sh, timed
from benchmarks._context import Context


def command_cost(ctx: Context) -> list[Comparison]:
    """Milliseconds for one remote ``true``."""
    transport = ctx.resource(ctx.held_bin).transport
    transport.run(["true"])
    sh([*ctx.control, ctx.target, "true"])  # start the master
    n = 5 if ctx.smoke else 50
    case = "one remote command (true)"
    ours = Row(case, "remotejobs (pooled SSH)", "ms", timed(lambda: transport.run(["true"]), n))
    fresh = Row(case, "ssh, fresh connection", "ms", timed(lambda: sh([*ctx.ssh, ctx.target, "true"]), max(2, n // 5)),
                reference=True)
    master = Row(case, "ssh over ControlMaster", "ms", timed(lambda: sh([*ctx.control, ctx.target, "true"]), n),
                 reference=True)
    return [Comparison(case, ours, [fresh, master], "faster than ssh over ControlMaster",
                       goal=("ssh over ControlMaster", 1.0))]


def _mb_per_s(size: int, seconds: list[float]) -> list[float]:
    return [size / 1e6 / (s / 1000) for s in seconds]


def transfers(ctx: Context) -> list[Comparison]:
    """MB/s for one file up and down: remotejobs (a plain stream over SSH, with SFTP around it)
    beside scp and scp over ControlMaster; the note gives remotejobs' client CPU time."""
    size = (8 if ctx.smoke else 200) * 1_000_000
    rounds = 1 if ctx.smoke else 3
    scratch = Path("/dev/shm") if os.path.isdir("/dev/shm") else ctx.tmp
    local = scratch / f"rj-bench-{os.getpid()}.bin"
    back = scratch / f"rj-bench-{os.getpid()}.back"
    with open(local, "wb") as stream:
        for _ in range(size // 1_000_000):
            stream.write(os.urandom(1_000_000))
    transport = ctx.resource(ctx.held_bin).transport
    remote = f"rj-bench-{os.getpid()}.bin"
    remote_target = f"{ctx.target}:{remote}"
    scp_master = [*ctx.scp, "-o", "ControlMaster=auto", "-o", f"ControlPath={ctx.tmp}/cm-%C"]
    try:
        up: dict[str, list[float]] = {name: [] for name in ("ours", "scp", "master")}
        down: dict[str, list[float]] = {name: [] for name in ("ours", "scp", "master")}
        cpus: dict[str, list[float]] = {"up": [], "down": []}
        for _ in range(rounds):
            up["scp"] += timed(lambda: sh([*ctx.scp, str(local), remote_target]), 1)
            up["master"] += timed(lambda: sh([*scp_master, str(local), remote_target]), 1)
            cpu_start = time.process_time()
            up["ours"] += timed(lambda: transport.put(str(local), remote), 1)
            cpus["up"].append(time.process_time() - cpu_start)
            down["scp"] += timed(lambda: sh([*ctx.scp, remote_target, str(back)]), 1)
            down["master"] += timed(lambda: sh([*scp_master, remote_target, str(back)]), 1)
            back.unlink(missing_ok=True)
            cpu_start = time.process_time()
            down["ours"] += timed(lambda: transport.get(remote, str(back)), 1)
            cpus["down"].append(time.process_time() - cpu_start)
            if back.stat().st_size != size:
                raise SystemExit(f"download returned {back.stat().st_size} bytes, not {size}")
            back.unlink()
    finally:
        local.unlink(missing_ok=True)
        back.unlink(missing_ok=True)
        transport.run(["rm", "-f", "--", remote])
    out = []
    for label, data in ((f"upload {size // 1_000_000} MB", up), (f"download {size // 1_000_000} MB", down)):
        cpu = cpus["up" if data is up else "down"]
        ours = Row(label, "remotejobs (SSH stream)", "MB/s", _mb_per_s(size, data["ours"]), lower_is_better=False,
                   note=f"client CPU {statistics.median(cpu) * 1e8 / size:.2f} s per 100 MB (median)")
        refs = [Row(label, "scp", "MB/s", _mb_per_s(size, data["scp"]), reference=True, lower_is_better=False),
                Row(label, "scp over ControlMaster", "MB/s", _mb_per_s(size, data["master"]), reference=True,
                    lower_is_better=False)]
        out.append(Comparison(label, ours, refs, ">= scp", goal=("scp", 1.0)))
    return out
