"""Start/stop the cluster daemons and track exactly the processes we started.

Each daemon runs in the foreground (``-D``/``-F``) in its own session, with
stdout/stderr appended to a log file in the state dir.  Its pid, kernel start
time and a fingerprint of its configuration are kept in ``RUN_DIR/<name>.json``.
A daemon is considered "ours and current" only if that pid is alive, has the
same start time (guards against pid reuse) and the fingerprint still matches;
otherwise it is (stopped if alive and) started afresh.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import DAEMON_ENV, LOG_DIR, RUN_DIR, ClusterError, log, tail, wait_for, write_if_changed


@dataclass
class Daemon:
    name: str
    argv: list[str]
    fingerprint: str
    ready: Callable[[int], bool]  # polled with the new pid after start until True
    user: str | None = None
    group: str | None = None
    extra_logs: list[Path] = field(default_factory=list)
    env: dict[str, str] | None = None  # default: DAEMON_ENV
    #: Recorded as ``fingerprint`` for checkouts that predate ``config_fingerprint`` (see
    #: _services.legacy_fingerprint); this checkout compares ``config_fingerprint``.
    legacy_fingerprint: str | None = None

    @property
    def record_path(self) -> Path:
        return RUN_DIR / f"{self.name}.json"

    @property
    def log_path(self) -> Path:
        return LOG_DIR / f"{self.name}.log"


def _proc_start_time(pid: int) -> str | None:
    """Kernel start time of ``pid`` (field 22 of /proc/pid/stat), None if gone or zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = stat.rsplit(")", 1)[1].split()
    if rest[0] in ("Z", "X"):  # zombie / dead: not running
        return None
    return rest[19]


def read_record(name: str) -> dict[str, Any] | None:
    try:
        rec: dict[str, Any] = json.loads((RUN_DIR / f"{name}.json").read_text())
        return rec
    except (FileNotFoundError, ValueError):
        return None


def record_alive(rec: dict[str, Any] | None) -> bool:
    return rec is not None and _proc_start_time(int(rec["pid"])) == rec.get("start_time")


def _stop_pid(name: str, pid: int, start_time: str, timeout: float = 15) -> None:
    def gone() -> bool:
        return _proc_start_time(pid) != start_time

    for sig in (signal.SIGTERM, signal.SIGKILL):
        if gone():
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        try:
            wait_for(f"{name} (pid {pid}) to exit", gone, timeout=timeout, interval=0.05)
            return
        except ClusterError:
            log(f"{name} (pid {pid}) ignored {sig.name}")
    raise ClusterError(f"could not stop {name} (pid {pid})")


def stop(name: str) -> bool:
    """Stop daemon ``name`` if we started it and it is alive. Returns True if it was running."""
    rec = read_record(name)
    was_running = record_alive(rec)
    if was_running:
        assert rec is not None
        log(f"stopping {name} (pid {rec['pid']})")
        _stop_pid(name, int(rec["pid"]), rec["start_time"])
    (RUN_DIR / f"{name}.json").unlink(missing_ok=True)
    return was_running


def ensure(d: Daemon, force_restart: bool = False) -> bool:
    """Make sure ``d`` runs with its current configuration. Returns True if (re)started."""
    rec = read_record(d.name)
    if record_alive(rec) and not force_restart:
        assert rec is not None
        if rec.get("config_fingerprint", rec.get("fingerprint")) == d.fingerprint and rec.get("argv") == d.argv:
            return False
        log(f"{d.name}: configuration changed, restarting")
    elif rec is not None and not record_alive(rec):
        log(f"{d.name}: stale record (pid {rec.get('pid')} is gone), starting again")
    stop(d.name)
    start(d)
    return True


def start(d: Daemon) -> None:
    log(f"starting {d.name}: {' '.join(d.argv)} (log: {d.log_path})")
    with open(d.log_path, "ab") as logf:
        logf.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} testcluster starting {d.name} ===\n".encode())
        logf.flush()
        proc = subprocess.Popen(
            d.argv,
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survive ``up`` and its caller's process group
            close_fds=True,
            env=d.env or DAEMON_ENV,
            cwd="/",
            user=d.user,
            group=d.group,
            extra_groups=[] if d.user else None,
        )
    start_time = None
    for _ in range(100):  # /proc entry appears immediately; be defensive anyway
        start_time = _proc_start_time(proc.pid)
        if start_time:
            break
        time.sleep(0.01)
    rec = {"pid": proc.pid, "start_time": start_time, "fingerprint": d.legacy_fingerprint or d.fingerprint,
           "config_fingerprint": d.fingerprint, "argv": d.argv}
    write_if_changed(d.record_path, json.dumps(rec, indent=1) + "\n", mode=0o600)

    def ready_or_dead() -> bool:
        if proc.poll() is not None:
            logs = "\n".join(tail(p) for p in [d.log_path, *d.extra_logs])
            raise ClusterError(f"{d.name} exited with status {proc.returncode} right after start\n{logs}")
        return d.ready(proc.pid)

    wait_for(
        f"{d.name} to become ready",
        ready_or_dead,
        on_fail=lambda: "\n".join(tail(p) for p in [d.log_path, *d.extra_logs]),
    )
    log(f"{d.name} is up (pid {proc.pid})")
