"""Runs one local job: ``python -m remotejobs.local._supervisor JOB_DIR``.

Started detached (its own session) by the local backend, so the job outlives the Python
process that submitted it. It waits for the job's begin time (watching for ``.cancel``),
starts the program (or, for the ``multiple`` launcher, its copies) in a process group of
its own, enforces the walltime, and records the outcome in ``.result.json``. Cancelling
(from any process) writes ``.cancel`` and signals the program's process group; the
supervisor then records CANCELLED. Never raises: every outcome becomes a result record.

The copies of ``multiple`` get ``REMOTEJOBS_PROCESS_INDEX``/``REMOTEJOBS_PROCESS_COUNT``
and the exit code is the first non-zero one in start order, as in the batch backends'
launcher (:class:`remotejobs.launchers.MultipleLauncher`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from remotejobs.local._store import CANCEL, RESULT, SPEC, STARTED, read_json, write_json

GRACE = 3.0
#: How often a job waiting for its begin time looks for a cancel request.
BEGIN_POLL = 0.25


def _now() -> float:
    return time.time()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """TERM the program's process group, then KILL it after a grace period."""
    for sig, pause in ((signal.SIGTERM, GRACE), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=pause or None)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_for_begin(job_dir: Path, begin: float | None) -> bool:
    """Wait until ``begin`` (a timestamp); False when a cancel came first."""
    while begin is not None and _now() < begin:
        if (job_dir / CANCEL).exists():
            return False
        time.sleep(min(BEGIN_POLL, max(0.0, begin - _now())))
    return not (job_dir / CANCEL).exists()


def _start(spec: dict[str, Any]) -> list[subprocess.Popen[bytes]]:
    """The program, or ``copies`` of it, in one new process group (the first's pid)."""
    argv = [spec["executable"], *spec.get("arguments", [])]
    copies = spec.get("copies")
    procs: list[subprocess.Popen[bytes]] = []
    with open(spec["stdout"], "ab") as out, open(spec["stderr"], "ab") as err:
        for index in range(copies or 1):
            env = {**os.environ, **spec.get("environment", {})}
            if copies is not None:
                env.update(REMOTEJOBS_PROCESS_INDEX=str(index), REMOTEJOBS_PROCESS_COUNT=str(copies))
            group = procs[0].pid if procs else 0
            try:
                stdin = open(spec["stdin"], "rb") if spec.get("stdin") else None  # noqa: SIM115 - closed below
                with stdin or open(os.devnull, "rb") as source:
                    procs.append(subprocess.Popen(argv, cwd=spec["workdir"], env=env, stdin=source, stdout=out,
                                                  stderr=err, process_group=group))
            except OSError:
                for proc in procs:
                    _stop(proc)
                raise
    return procs


def run(job_dir: Path) -> dict[str, Any]:
    spec = read_json(job_dir / SPEC) or {}
    if not _wait_for_begin(job_dir, spec.get("begin")):
        return {"state": "CANCELLED", "exit_code": None, "reason": "Cancelled before it started"}
    try:
        procs = _start(spec)
    except OSError as exc:
        return {"state": "FAILED", "exit_code": 127, "reason": f"Could not start {spec['executable']!r}: {exc}"}
    leader = procs[0]
    write_json(job_dir / STARTED, {"pid": os.getpid(), "pgid": leader.pid, "start_time": _now()})
    signal.signal(signal.SIGTERM, lambda *_: _stop(leader))
    # A canceller touches CANCEL, then reads STARTED to find the group to signal; this side
    # writes STARTED, then reads CANCEL. Whichever order they interleave in, one of the two
    # sees the other's file, so a cancel that came before STARTED existed is not lost.
    if (job_dir / CANCEL).exists():
        _stop(leader)
    walltime = spec.get("walltime")
    deadline = None if walltime is None else _now() + walltime
    timed_out = False
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(timeout=None if deadline is None else max(0.0, deadline - _now())))
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop(leader)
            codes.append(proc.wait())
    code = next((c for c in codes if c != 0), 0)
    exit_code = code if code >= 0 else 128 - code
    if timed_out:
        return {"state": "TIMEOUT", "exit_code": exit_code, "reason": f"Walltime of {walltime} s exceeded"}
    if (job_dir / CANCEL).exists():
        return {"state": "CANCELLED", "exit_code": exit_code, "reason": "Cancelled"}
    if code == 0:
        return {"state": "COMPLETED", "exit_code": 0, "reason": None}
    reason = f"Killed by signal {-code}" if code < 0 else f"Exited with status {code}"
    return {"state": "FAILED", "exit_code": exit_code, "reason": reason}


def main() -> None:
    job_dir = Path(sys.argv[1])
    try:
        result = run(job_dir)
    except Exception as exc:  # noqa: BLE001 - the record must be written whatever happens
        result = {"state": "FAILED", "exit_code": None, "reason": f"Supervisor error: {exc!r}"}
    result["end_time"] = _now()
    write_json(job_dir / RESULT, result)


if __name__ == "__main__":
    main()
