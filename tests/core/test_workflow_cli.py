"""``remotejobs workflow status|resume|cancel NAME``: a script declares steps and exits
without waiting; another process (the CLI) reads, resumes or cancels the workflow from
its journal alone. On the local backend (configuration name ``local``)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXE = shutil.which("remotejobs", path=os.path.dirname(sys.executable)) or "remotejobs"
SCRIPT = """
import sys
import remotejobs
from remotejobs import JobSpec
from remotejobs.workflow import Workflow

local = remotejobs.open_resource("local")
with Workflow(sys.argv[1]) as wf:
    a = local.submit(JobSpec(executable="/bin/sh", arguments=("-c", sys.argv[2] + "; echo A > a.txt")), name="a")
    local.submit(JobSpec(executable="/bin/cat", arguments=(str(a.file("a.txt")),)), after=a.done, name="b")
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text("")
    return {**os.environ, "REMOTEJOBS_STATE_DIR": str(tmp_path / "state"), "REMOTEJOBS_CONFIG": str(config)}


def _declare(env: dict[str, str], tmp_path: Path, sleep: str) -> str:
    name = f"cli-{secrets.token_hex(3)}"
    script = tmp_path / "declare.py"
    script.write_text(SCRIPT)
    subprocess.run([sys.executable, str(script), name, sleep], env=env, check=True, timeout=120,
                   capture_output=True)
    return name


def _cli(env: dict[str, str], *args: str) -> tuple[int, Any]:
    proc = subprocess.run([EXE, "workflow", *args, "--json"], env=env, capture_output=True, text=True,
                          timeout=180, check=False)
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else proc.stderr


def _states(data: Any) -> dict[str, str]:
    return {s["step"]: s["state"] for s in data["steps"]}


def test_status_then_resume_runs_the_held_step(env: dict[str, str], tmp_path: Path) -> None:
    name = _declare(env, tmp_path, "sleep 1")
    code, data = _cli(env, "status", name)
    assert code == 0 and _states(data)["b"] == "HELD", data
    code, listing = _cli(env, "status")
    assert name in listing["workflows"]
    code, data = _cli(env, "resume", name)
    assert code == 0 and _states(data) == {"a": "COMPLETED", "b": "COMPLETED"}, data
    code, again = _cli(env, "resume", name)
    assert code == 0 and [s["job_id"] for s in again["steps"]] == [s["job_id"] for s in data["steps"]]


def test_cancel_cancels_jobs_and_held_steps(env: dict[str, str], tmp_path: Path) -> None:
    name = _declare(env, tmp_path, "sleep 60")
    code, data = _cli(env, "cancel", name)
    assert code == 0 and sorted(data["cancelled"]) == ["a", "b"], data
    code, data = _cli(env, "status", name)
    assert _states(data) == {"a": "CANCELLED", "b": "CANCELLED"}, data
    job = next(s["job_id"] for s in data["steps"] if s["step"] == "a")
    proc = subprocess.run([EXE, "-r", "local", "status", job, "--json"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert "CANCELLED" in proc.stdout, proc.stdout + proc.stderr


def test_unknown_workflow_is_a_usage_error(env: dict[str, str]) -> None:
    code, data = _cli(env, "status", "no-such-workflow")
    assert code == 2 and "No workflow named" in str(data), data
