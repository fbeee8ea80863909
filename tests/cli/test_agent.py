"""The session agent, through the real executable on the live cluster: consecutive
commands reuse one SSH connection (counted by a TCP relay in front of the test sshd and
matched against the sshd's own log), and the socket is private to its user."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from remotejobs.testing import scoreboard
from tests.cli.conftest import Cli, write_config

pytestmark = pytest.mark.cluster


class Relay:
    """Accepts TCP connections and relays each to the sshd; records, per connection, the
    local port of its upstream side (the port the sshd logs as the client's)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.upstream_ports: list[int] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.upstream_ports.append(upstream.getsockname()[1])
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def relayed(cli: Cli, cluster: dict[str, Any], cluster_users: list[dict[str, Any]]) -> Iterator[tuple[Cli, Relay]]:
    """``cli`` whose resources reach the sshd through a :class:`Relay`."""
    relay = Relay(cluster["ssh"]["host"], cluster["ssh"]["port"])
    key = cluster["ssh"]["known_hosts_line"].split(" ", 1)[1]
    known = cli.tmp / "known_hosts"
    known.write_text(f"[127.0.0.1]:{relay.port} {key}\n")
    write_config(Path(cli.env["REMOTEJOBS_CONFIG"]), cluster, cluster_users[0], cli.token, port=relay.port,
                 known_hosts=str(known))
    try:
        yield cli, relay
    finally:
        relay.close()


def _accepted(log: list[str], ports: list[int]) -> list[str]:
    wanted = {f"from 127.0.0.1 port {p} " for p in ports}
    return [line for line in log if line.startswith("Accepted ") and any(w in line for w in wanted)]


def _timed(cli: Cli, *args: str, env: dict[str, str] | None = None) -> float:
    start = time.monotonic()
    cli(*args, env=env)
    return time.monotonic() - start


def test_a_second_command_opens_no_new_ssh_connection(relayed: tuple[Cli, Relay],
                                                      sshd_log: Callable[[], list[str]]) -> None:
    cli, relay = relayed
    seen = len(sshd_log())  # only lines written from now on (ports recycle in a long log)
    direct = {"REMOTEJOBS_AGENT": "0"}
    without = [_timed(cli, "-r", "hpc", "status", env=direct) for _ in range(2)]
    assert len(relay.upstream_ports) == 2  # today's cost: one connection per command

    cli("login", "hpc")  # starts the agent, which logs in and keeps the connection
    first = len(relay.upstream_ports)
    with_agent = [_timed(cli, "-r", "hpc", "status") for _ in range(3)]
    cli("-r", "hpc", "datasets", "raw")
    assert len(relay.upstream_ports) == first == 3, relay.upstream_ports  # no new connection
    deadline = time.monotonic() + 30  # the sshd writes its log line soon after the handshake
    while len(_accepted(sshd_log()[seen:], relay.upstream_ports)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    accepted = _accepted(sshd_log()[seen:], relay.upstream_ports)
    assert len(accepted) == 3 and all("for rjalice" in line for line in accepted), accepted
    print(f"\nstatus without agent: {[round(t, 3) for t in without]} s, one SSH connection each; "
          f"with agent: {[round(t, 3) for t in with_agent]} s, no new connection")


def test_the_socket_is_private_and_other_users_are_refused(cli: Cli, cluster_users: list[dict[str, Any]]) -> None:
    other = cluster_users[1]["name"]
    python = shutil.which("python3", path="/usr/bin:/bin")
    assert python is not None
    shared = Path("/tmp") / f"rj-agent-test-{secrets.token_hex(4)}"  # under a world-searchable /tmp
    cli.env["REMOTEJOBS_AGENT_DIR"] = str(shared)
    try:
        started = json.loads(cli("agent", "start", "--json").stdout)
        sock = Path(started["socket"])
        assert stat.S_IMODE(os.stat(shared).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600 and stat.S_ISSOCK(os.stat(sock).st_mode)
        probe = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\n"
                 "try:\n    s.sendall(b'{\"op\": \"sessions\"}\\n')\nexcept OSError as e:\n    print('send:', e)\n"
                 "print(s.recv(65536).decode())")
        refused = subprocess.run(["runuser", "-u", other, "--", python, "-c", probe, str(sock)],
                                 capture_output=True, text=True, check=False, timeout=60)
        assert refused.returncode != 0 and "Permission denied" in refused.stderr
        scoreboard.record("attacks: multi-user agent socket", 2)
        os.chmod(shared, 0o711)  # a mistake: the directory opened to others
        os.chmod(sock, 0o666)
        answer = subprocess.run(["runuser", "-u", other, "--", python, "-c", probe, str(sock)],
                                capture_output=True, text=True, check=False, timeout=60)
        assert "this agent serves only its own user" in answer.stdout + answer.stderr
        assert '"ok"' not in answer.stdout
        warned = cli("-r", "hpc", "status")  # and the client no longer trusts the directory
        assert "is not private (mode 711" in warned.stderr and "the agent is not used" in warned.stderr
        os.chmod(shared, 0o700)
        assert json.loads(cli("agent", "status", "--json").stdout)["running"]
    finally:
        cli("agent", "stop", check=False)
        shutil.rmtree(shared, ignore_errors=True)


def test_the_agent_stops_when_idle(cli: Cli) -> None:
    started = json.loads(cli("agent", "start", "--idle-timeout", "1", "--json").stdout)
    deadline = time.monotonic() + 60
    while Path(started["socket"]).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(started["socket"]).exists()
    assert cli("agent", "status", check=False).returncode == 1
