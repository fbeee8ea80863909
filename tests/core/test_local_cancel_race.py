"""A cancel that arrives while the local supervisor is starting the program is not lost.

The canceller (``LocalResource._cancel``) touches ``.cancel`` and then reads ``.started`` to
find the process group to signal. If it runs after the supervisor's begin-time check but
before ``.started`` exists, it has nothing to signal: the supervisor itself must see the
cancel once it has recorded the start. The window is opened deterministically here: the
job's stdin is a FIFO, whose ``open`` blocks the supervisor inside the start step (the
kernel reports it waiting in ``wait_for_partner``, Linux fs/pipe.c) until the test has
cancelled and opens the other end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from remotejobs.local._store import CANCEL, RESULT, SPEC, STARTED, read_json, write_json


def _blocked_on_fifo(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/wchan").read_text().strip() == "wait_for_partner"
    except OSError:
        return False


def test_cancel_between_begin_check_and_start_record(tmp_path: Path) -> None:
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    fifo = tmp_path / "stdin"
    os.mkfifo(fifo)
    write_json(job_dir / SPEC, {
        "executable": "/bin/sleep", "arguments": ["300"], "workdir": str(tmp_path),
        "stdout": str(tmp_path / "out"), "stderr": str(tmp_path / "err"), "stdin": str(fifo),
    })
    supervisor = subprocess.Popen([sys.executable, "-m", "remotejobs.local._supervisor", str(job_dir)])
    try:
        deadline = time.monotonic() + 60
        while not _blocked_on_fifo(supervisor.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _blocked_on_fifo(supervisor.pid), "the supervisor never reached the program's start"
        (job_dir / CANCEL).touch()  # the canceller: no .started yet, so no group to signal
        assert read_json(job_dir / STARTED) is None
        with open(fifo, "wb"):  # the supervisor's open() of stdin returns: it starts the program
            pass
        try:
            supervisor.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError("the supervisor missed the cancel and waits for the program") from None
        result = read_json(job_dir / RESULT)
        assert result is not None and result["state"] == "CANCELLED", result
    finally:
        if supervisor.poll() is None:
            started = read_json(job_dir / STARTED)
            if started is not None:
                os.killpg(int(started["pgid"]), signal.SIGKILL)
            supervisor.kill()
            supervisor.wait()
