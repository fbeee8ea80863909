"""close() releases connections and keeps the saved session; logout() ends it.

The saved session is the lsf-web token cache; "the next process" is a real subprocess (the
``remotejobs`` command, or Python) against the emulated PAC.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pac_emulator import PacEmulator, TlsFiles
from remotejobs_lsf_web import LsfWebResource, LsfWebSettings

from remotejobs.errors import NotLoggedInError

EXE = shutil.which("remotejobs", path=os.path.dirname(sys.executable)) or "remotejobs"


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _open_connections(pac: PacEmulator) -> int:
    with pac.server.faults_lock:
        return len(pac.server.connections)


def _cached_token(cache: Path, user: str) -> str | None:
    if not cache.exists():
        return None
    for key, entry in json.loads(cache.read_text()).items():
        if key.endswith(" " + user):
            return str(entry["token"])
    return None


@pytest.fixture
def env(own_pac: PacEmulator, tls: TlsFiles, tmp_path: Path) -> dict[str, str]:
    """Environment of a process whose configuration names the emulator ``pac``."""
    config = tmp_path / "config.toml"
    config.write_text(textwrap.dedent(f"""\
        [resources.pac]
        backend = "lsf-web"
        base_url = "{own_pac.base_url}"
        ca_bundle = "{tls.ca_cert}"
        token_cache = "{tmp_path / 'state' / 'tokens.json'}"
        retries = 1
        """))
    # no session agent: the saved session under test is the token cache, not an agent's
    return {**os.environ, "REMOTEJOBS_CONFIG": str(config), "REMOTEJOBS_RESOURCE": "pac", "REMOTEJOBS_AGENT": "0"}


def _cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, input=stdin, check=False,
                          timeout=120)


_WITH_BLOCK = """\
import sys, remotejobs
with remotejobs.open_resource("pac") as r:
    assert r.resume(sys.argv[1]), "no saved session"
    print("jobs", len(r.jobs()), flush=True)
    sys.stdin.readline()
print("closed", flush=True)
sys.stdin.readline()
"""


def test_with_block_closes_connections_and_the_saved_session_survives(
    own_pac: PacEmulator, env: dict[str, str], users: list[tuple[str, str]], tmp_path: Path
) -> None:
    user, password = users[0]
    cache = tmp_path / "state" / "tokens.json"
    done = _cli(env, "-u", user, "login", "--password-stdin", stdin=password + "\n")
    assert done.returncode == 0, done.stderr
    token = _cached_token(cache, user)
    assert token is not None and own_pac.tokens.user_of(token)[0] == user
    assert _wait_for(lambda: _open_connections(own_pac) == 0)  # the CLI closed its connections

    with subprocess.Popen([sys.executable, "-c", _WITH_BLOCK, user], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            assert proc.stdout.readline().startswith("jobs "), proc.stderr.read() if proc.stderr else ""
            assert _open_connections(own_pac) >= 1  # keep-alive connection of the open resource
            proc.stdin.write("\n")
            proc.stdin.flush()
            assert proc.stdout.readline() == "closed\n"
            # the process is still alive: its connections closed because the block closed them
            assert _wait_for(lambda: _open_connections(own_pac) == 0), "connections left open after close()"
            assert proc.poll() is None
            proc.stdin.write("\n")
            proc.stdin.flush()
            assert proc.wait(timeout=60) == 0
        finally:
            proc.kill()

    assert _cached_token(cache, user) == token and own_pac.tokens.user_of(token)[0] == user
    done = _cli(env, "-u", user, "--json", "status")  # the next process takes the session up
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)

    done = _cli(env, "-u", user, "logout")
    assert done.returncode == 0, done.stderr
    assert own_pac.tokens.user_of(token)[0] is None  # ended on the server
    assert _cached_token(cache, user) is None  # and forgotten
    done = _cli(env, "-u", user, "status")
    assert done.returncode == 3 and "No saved session" in done.stderr  # 3: authentication


def test_logout_ends_the_session_close_keeps_it(
    own_pac: PacEmulator, tls: TlsFiles, users: list[tuple[str, str]], tmp_path: Path
) -> None:
    user, password = users[1]
    settings = LsfWebSettings(base_url=own_pac.base_url, ca_bundle=str(tls.ca_cert), retries=1,
                              token_cache=str(tmp_path / "tokens.json"))
    with LsfWebResource(settings, name="pac") as first:
        first.login(user, password)
        first.jobs()
    with pytest.raises(NotLoggedInError, match="is closed"):
        first.jobs()
    token = _cached_token(tmp_path / "tokens.json", user)
    assert token is not None and own_pac.tokens.user_of(token)[0] == user

    second = LsfWebResource(settings, name="pac")
    assert second.resume(user) and second.user == user
    assert isinstance(second.jobs(), list)
    second.logout()
    assert own_pac.tokens.user_of(token)[0] is None
    assert _cached_token(tmp_path / "tokens.json", user) is None
    with pytest.raises(NotLoggedInError, match="has logged out"):
        second.jobs()
    assert not LsfWebResource(settings, name="pac").resume(user)
    second.login(user, password)  # a logged-out object can log in again
    assert isinstance(second.jobs(), list)
    second.logout()
