"""examples/park_workflow.py end to end on the live test cluster: the reduction on Slurm
over SSH, the copy of its output to LSF (the emulator), the upload, the simulation and the
fit; then a rerun that submits nothing; then a changed input that reruns only its
dependents; and SIGKILLs of the client at several points that neither lose nor duplicate
a job. The script runs as a separate process, exactly as a user runs it."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import remotejobs
from remotejobs.workflow.journal import Journal

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "park_workflow.py"


@pytest.fixture
def park(tmp_path: Path, cluster: dict[str, Any], ssh_settings: dict[str, Any],
         cluster_users: list[dict[str, Any]]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``park(crash=None)``: run the example once (a fresh workflow name per test), as rjbob:
    tests/docs/test_pages.py runs the same workflow (same step labels, so the same job name
    prefixes) as rjalice, possibly at the same time under ``make test``'s parallel workers,
    and the SIGKILL test counts the jobs of its user whose name has a step's prefix."""
    user = cluster_users[1]
    common = (f'host = "{ssh_settings["host"]}"\nport = {ssh_settings["port"]}\nusername = "{user["name"]}"\n'
              f'key_file = "{user["key_file"]}"\nknown_hosts = "{ssh_settings["known_hosts"]}"\nuse_agent = false\n')
    config = tmp_path / "config.toml"
    config.write_text(f'[resources.slurm]\nbackend = "slurm"\ndefault_queue = "debug"\n{common}\n'
                      f'[resources.lsf]\nbackend = "lsf"\nbin_dir = "{cluster["commands"]["lsf_emulator"]}"\n{common}')
    model = tmp_path / "mymodel.py"
    model.write_text("MODEL = 1\n")
    name = f"park-{secrets.token_hex(3)}"
    env = {**os.environ, "REMOTEJOBS_CONFIG": str(config), "REMOTEJOBS_STATE_DIR": str(tmp_path / "state")}

    def run(crash: str | None = None) -> subprocess.CompletedProcess[str]:
        extra = {"REMOTEJOBS_WORKFLOW_CRASH": crash} if crash else {}
        return subprocess.run([sys.executable, str(EXAMPLE), "--model", str(model), "--name", name, "--quiet"],
                              capture_output=True, text=True, timeout=300, env={**env, **extra}, check=False)

    run.model = model  # type: ignore[attr-defined]
    run.journal = lambda: Journal(name, tmp_path / "state" / "workflows")  # type: ignore[attr-defined]
    run.env = env  # type: ignore[attr-defined]
    return run


def _steps(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {r.get("step", "script"): r for r in rows}


def _jobs_named(prefix: str, resource_name: str, env: dict[str, str]) -> set[str]:
    old = os.environ.get("REMOTEJOBS_CONFIG")
    os.environ["REMOTEJOBS_CONFIG"] = env["REMOTEJOBS_CONFIG"]
    try:
        with remotejobs.open_resource(resource_name) as resource:
            return {i.id for i in resource.jobs() if (i.name or "").startswith(prefix)}
    finally:
        if old is None:
            del os.environ["REMOTEJOBS_CONFIG"]
        else:
            os.environ["REMOTEJOBS_CONFIG"] = old


def test_park_runs_reruns_nothing_and_reruns_only_dependents(park: Any) -> None:
    started = time.monotonic()
    first = _steps(park())
    took = time.monotonic() - started
    first_keys = {r.label: r.key for r in park.journal().rows()}
    first.pop("script")
    assert {k: v["state"] for k, v in first.items()} == dict.fromkeys(
        ("reduction", "upload", "fetch", "model", "fit"), "COMPLETED"), first
    assert first["reduction"]["resource"] == "slurm" and first["fit"]["resource"] == "lsf"
    started = time.monotonic()
    again = _steps(park())
    wall = time.monotonic() - started
    rerun = again.pop("script")["seconds"]
    assert {k: v["job"] for k, v in again.items()} == {k: v["job"] for k, v in first.items()}
    # The script's own time, after the interpreter started and imported remotejobs (which
    # alone can take seconds on a loaded machine).
    # Relative to the first run (which waits for five jobs), not absolute: the machine may be loaded.
    assert rerun < max(1.0, took / 5), f"rerun took {rerun:.2f} s (process {wall:.1f} s; first run {took:.1f} s)"
    park.model.write_text("MODEL = 2\n")
    changed = _steps(park())
    changed.pop("script")
    same = {k for k in first if changed[k]["job"] == first[k]["job"]}
    assert same == {"reduction", "fetch", "upload"}, (first, changed)  # transfers have no job id
    assert changed["model"]["job"] != first["model"]["job"] and changed["fit"]["job"] != first["fit"]["job"]
    rows = {r.label: r for r in park.journal().rows()}
    assert rows["upload"].state == "COMPLETED" and rows["fit"].state == "COMPLETED"
    assert rows["upload"].key != first_keys["upload"] and rows["fetch"].key == first_keys["fetch"]
    print(f"PARK timings: first run {took:.1f} s, rerun {rerun:.3f} s in the script ({wall:.2f} s process)")


@pytest.mark.parametrize("crash", ["before-submit:reduction", "after-submit:reduction", "after-record:model",
                                   "after-submit:fit", "after-transfer:fetch"])
def test_sigkill_loses_and_duplicates_no_job(park: Any, crash: str) -> None:
    label = crash.split(":")[1]
    where = "slurm" if label == "reduction" else "lsf"
    before = _jobs_named(f"{label}-rj", where, park.env)
    killed = park(crash)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    done = _steps(park())
    done.pop("script")
    assert all(v["state"] == "COMPLETED" for v in done.values()), done
    if label != "fetch":
        new = _jobs_named(f"{label}-rj", where, park.env) - before
        assert new == {done[label]["job"]}, (crash, new, done[label])
    else:
        assert done["fetch"]["state"] == "COMPLETED"
