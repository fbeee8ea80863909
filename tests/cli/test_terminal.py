"""The executable at a terminal (a pseudo-terminal): ``status --watch`` redraws in place
until the job ends, and ``login`` prompts for the password without echoing it."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import EXE, Cli


def run_in_pty(argv: list[str], env: dict[str, str], answers: dict[bytes, bytes] | None = None,
               timeout: float = 120, on_output: Callable[[bytes], None] | None = None) -> tuple[int, bytes]:
    """Run ``argv`` with a pseudo-terminal as its stdin/stdout/stderr; when the output
    so far ends with a key of ``answers``, type its value; ``on_output`` sees the output so
    far after each read. Returns (status, output)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True,
                            start_new_session=True)
    os.close(follower)
    output, pending = b"", dict(answers or {})
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
                if on_output is not None:
                    on_output(output)
                for prompt in list(pending):
                    if output.rstrip().endswith(prompt):
                        os.write(leader, pending.pop(prompt))
            elif proc.poll() is not None:
                break
        status = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
    return status, output


def test_status_watch_redraws_in_place_until_the_job_ends(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[resources.box]\nbackend = "local"\nstate_dir = "{tmp_path / "state"}"\n')
    env = {**os.environ, "REMOTEJOBS_CONFIG": str(config), "TERM": "xterm", "COLUMNS": "120"}
    flag = tmp_path / "seen-running"  # the job ends once the watch has shown it RUNNING (no fixed sleep)
    submitted = subprocess.run([EXE, "-r", "box", "submit", "-J", "watched", "--json", "--", "/bin/sh", "-c",
                                f"until [ -e '{flag}' ]; do sleep 0.1; done"],
                               capture_output=True, text=True, env=env, check=True)
    job_id = json.loads(submitted.stdout)["id"]

    def release(output: bytes) -> None:
        if b"RUNNING" in output:
            flag.touch()

    status, output = run_in_pty([EXE, "-r", "box", "status", job_id, "--watch", "--interval", "0.2"], env,
                                on_output=release)
    text = output.decode(errors="replace")
    assert status == 0, text
    assert "RUNNING" in text and "COMPLETED" in text  # the same row, first running, then ended
    assert "\x1b[1A" in text or "\x1b[2K" in text  # cursor-up / erase-line: redrawn in place
    assert text.rindex("COMPLETED") > text.rindex("RUNNING")


@pytest.mark.cluster
def test_login_prompts_for_the_password_without_echo(cli: Cli, cluster: dict[str, Any],
                                                     cluster_users: list[dict[str, Any]]) -> None:
    bob = cluster_users[1]
    ssh = cluster["ssh"]
    config = Path(cli.env["REMOTEJOBS_CONFIG"])
    config.write_text(config.read_text() + f'\n[resources.pw]\nbackend = "slurm"\nhost = "{ssh["host"]}"\n'
                      f'port = {ssh["port"]}\nknown_hosts = "{ssh["known_hosts_file"]}"\nuse_agent = false\n')
    password = bob["password"].encode()
    status, output = run_in_pty([EXE, "login", "pw", "--user", bob["name"], "--ask-password"],
                                {**cli.env, "TERM": "xterm"}, {f"Password for {bob['name']} on pw:".encode():
                                                               password + b"\n"})
    assert status == 0, output
    assert f"Password for {bob['name']} on pw:".encode() in output and b"Logged in to pw as rjbob" in output
    assert password not in output  # not echoed
    held = cli("-r", "pw", "--user", bob["name"], "session", "--json")  # the agent holds the session
    assert json.loads(held.stdout)["user"] == bob["name"]
    socket_dir = Path(cli.env["REMOTEJOBS_AGENT_DIR"])
    for path in socket_dir.iterdir():  # and never the password
        if path.is_file():
            assert password not in path.read_bytes()
    wrong = run_in_pty([EXE, "--no-agent", "login", "pw", "--user", bob["name"], "--ask-password"],
                       {**cli.env, "TERM": "xterm"}, {f"Password for {bob['name']} on pw:".encode(): b"wrong\n"})
    assert wrong[0] == 3, wrong[1]


@pytest.mark.cluster
@pytest.mark.parametrize("agent", ["1", "0"])
def test_upload_and_download_draw_byte_progress_bars(cli: Cli, tmp_path: Path, agent: str) -> None:
    payload = tmp_path / "payload.bin"
    payload.write_bytes(os.urandom(3 * 1024 * 1024))
    env = {**cli.env, "TERM": "xterm", "COLUMNS": "150", "REMOTEJOBS_AGENT": agent}
    inbox = f"rj-progress-{cli.token}"
    status, output = run_in_pty([EXE, "-r", "hpc", "upload", str(payload), inbox], env)
    text = output.decode(errors="replace")
    assert status == 0, text
    assert "uploading" in text and "3.1/3.1 MB" in text, text  # the bar's last frame: every byte counted
    remote = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).strip().splitlines()[-1].strip()
    assert remote.endswith(f"{inbox}/payload.bin")
    done = subprocess.run([EXE, "-r", "hpc", "--json", "submit", "--wait", "--", "/bin/cp", remote, "."],
                          capture_output=True, text=True, env=env, check=True, timeout=300)
    job_id = json.loads(done.stdout)["id"]
    status, output = run_in_pty([EXE, "-r", "hpc", "download", job_id, str(tmp_path / "out")], env)
    text = output.decode(errors="replace")
    assert status == 0 and "downloading" in text and "3.1/3.1 MB" in text, text
    assert (tmp_path / "out" / "payload.bin").read_bytes() == payload.read_bytes()
    cli("-r", "hpc", "submit", "--wait", "--", "/bin/rm", "-rf", remote.rsplit("/", 1)[0])
