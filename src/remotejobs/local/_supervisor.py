"""Runs one local job: ``python -m remotejobs.local._supervisor JOB_DIR``.

Started detached (its own session) by the local backend, so the job outlives the Python
process that submitted it. It starts the program in a process group of its own, enforces
the walltime, and records the outcome in ``.result.json``. Cancelling (from any process)
writes ``.cancel`` and signals the program's process group; the supervisor then records
CANCELLED. Never raises: every outcome becomes a result record.
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


def run(job_dir: Path) -> dict[str, Any]:
    spec = read_json(job_dir / SPEC) or {}
    if (job_dir / CANCEL).exists():
        return {"state": "CANCELLED", "exit_code": None, "reason": "Cancelled before it started"}
    env = {**os.environ, **spec.get("environment", {})}
    argv = [spec["executable"], *spec.get("arguments", [])]
    try:
        with open(spec["stdout"], "ab") as out, open(spec["stderr"], "ab") as err:
            proc = subprocess.Popen(
                argv, cwd=spec["workdir"], env=env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, process_group=0,
            )
    except OSError as exc:
        return {"state": "FAILED", "exit_code": 127, "reason": f"Could not start {argv[0]!r}: {exc}"}
    write_json(job_dir / STARTED, {"pid": os.getpid(), "pgid": proc.pid, "start_time": _now()})
    signal.signal(signal.SIGTERM, lambda *_: _stop(proc))
    walltime = spec.get("walltime")
    timed_out = False
    try:
        code = proc.wait(timeout=walltime)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop(proc)
        code = proc.wait()
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
