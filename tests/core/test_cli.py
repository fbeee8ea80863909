"""The remotejobs command, run as a real subprocess against the local backend."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXE = shutil.which("remotejobs", path=os.path.dirname(sys.executable)) or "remotejobs"


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    config.write_text(f'[resources.box]\nbackend = "local"\nstate_dir = "{tmp_path / "state"}"\n')
    env = {**os.environ, "REMOTEJOBS_CONFIG": str(config), "REMOTEJOBS_RESOURCE": "box"}

    def _run(*args: str, check: bool = True, stdin: str = "",
             env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([EXE, *args], capture_output=True, text=True, env={**env, **(env_extra or {})},
                              input=stdin, check=False)
        if check:
            assert done.returncode == 0, done.stderr
        return done

    return _run


def test_submit_status_download_round_trip(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    submitted = run("--json", "submit", "-J", "cli job", "--", "/bin/sh", "-c", "echo from-cli; exit 3")
    job_id = json.loads(submitted.stdout)["id"]
    info = json.loads(run("--json", "submit", "--wait", "/bin/true").stdout)
    assert info["state"] == "COMPLETED"
    listing = json.loads(run("--json", "status").stdout)
    assert job_id in {i["id"] for i in listing}
    mine = json.loads(run("--json", "status", job_id).stdout)[0]
    assert mine["name"] == "cli job"
    files = json.loads(run("--json", "download", job_id, str(tmp_path / "dl")).stdout)["files"]
    assert any(Path(f).read_text() == "from-cli\n" for f in files)
    table = run("status").stdout
    assert job_id in table and "cli job" in table
    narrow = run("status", "--all", env_extra={"COLUMNS": "60"}).stdout
    assert job_id in narrow and all(len(line) <= 60 for line in narrow.splitlines()), narrow


def test_errors_print_one_line_and_the_documented_exit_status(run) -> None:  # type: ignore[no-untyped-def]
    done = run("status", "424242", check=False)
    assert done.returncode == 1 and "Job '424242' not found [resource 'box'" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    done = run("-r", "nope", "status", "--json", check=False)
    error = json.loads(done.stdout)["error"]
    assert done.returncode == 2 and error["type"] == "UnknownResourceError" and "box" in error["message"]
    assert error["exit_status"] == 2
    debug = run("--debug", "status", "424242", check=False)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "JobNotFoundError" in debug.stderr
    usage = run("status", "--no-such-flag", check=False)
    assert usage.returncode == 2 and "No such option" in usage.stderr
    walltime = run("submit", "-t", "soon", "--", "/bin/true", check=False)
    assert walltime.returncode == 2 and "'soon' is not a walltime" in walltime.stderr


def test_password_is_never_a_plain_argument(run) -> None:  # type: ignore[no-untyped-def]
    done = run("login", "--password", "secret", check=False)
    assert done.returncode == 2 and "No such option" in done.stderr
    ok = run("login", "--password-stdin", stdin="ignored-by-local\n")
    assert "Logged in to box" in ok.stdout and "ignored-by-local" not in ok.stdout + ok.stderr


def test_backends_resources_ping(run) -> None:  # type: ignore[no-untyped-def]
    assert "local" in json.loads(run("--json", "backends").stdout)["backends"]
    assert json.loads(run("--json", "resources").stdout)["resources"]["box"] == "local"
    assert json.loads(run("ping", "--json").stdout)["reachable"] is True
    assert "complete -o nosort -F _remotejobs_completion remotejobs" in run("completion", "bash").stdout
    words = run(env_extra={"_REMOTEJOBS_COMPLETE": "bash_complete", "COMP_WORDS": "remotejobs -r b",
                           "COMP_CWORD": "2"}).stdout
    assert "plain,box" in words


def test_cancel_and_upload(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    job_id = run("submit", "/bin/sleep", "300").stdout.strip()
    run("cancel", job_id)
    done = json.loads(run("--json", "submit", "--wait", "/bin/true").stdout)["id"]
    again = run("cancel", done, "424242", check=False)
    assert again.returncode == 1 and f"Job {done} already ended (COMPLETED); nothing to cancel" in again.stdout
    assert "Job '424242' not found" in again.stderr
    local = tmp_path / "in put.txt"
    local.write_text("x")
    remote = run("upload", str(local), "inbox").stdout.strip()
    assert Path(remote).read_text() == "x"
    run("--json", "status", job_id)


def test_hostile_cli_inputs_give_messages_not_tracebacks(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """-t 10**20 overflowed timedelta; rich markup in a name or id raised MarkupError;
    a download into a file escaped as a raw OSError (issue 10, hole 6)."""
    huge = run("submit", "-t", str(10**20), "/bin/true", check=False)
    assert huge.returncode == 2 and "Traceback" not in huge.stderr, huge.stderr
    job_id = run("submit", "-J", "[/bold] [red]x[/nope]", "--", "/bin/true").stdout.strip()
    table = run("status", job_id)
    assert table.returncode == 0 and "Traceback" not in table.stderr and "[/bold]" in table.stdout
    assert json.loads(run("--json", "status", job_id).stdout)[0]["name"] == "[/bold] [red]x[/nope]"
    bad_id = run("cancel", "[/x]", check=False)
    assert bad_id.returncode == 1 and "Traceback" not in bad_id.stderr and "[/x]" in bad_id.stderr
    a_file = tmp_path / "a-file"
    a_file.write_text("keep")
    into_file = run("download", job_id, str(a_file), check=False)
    assert into_file.returncode == 1 and "Cannot download into" in into_file.stderr, into_file.stderr
    assert a_file.read_text() == "keep"
