"""Fixtures for the SSH transport tests: transports to the real test cluster's sshd."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from remotejobs.transport.ssh import SSHTransport

MakeTransport = Callable[..., SSHTransport]


@pytest.fixture
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh $HOME: no ~/.ssh/config, known_hosts or default keys of the developer leak in."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def make_transport(
    cluster: dict[str, Any], cluster_users: list[dict[str, Any]], isolated_home: Path
) -> Iterator[MakeTransport]:
    """make_transport(user_index=0, **overrides) -> SSHTransport with key auth; closed at teardown."""
    made: list[SSHTransport] = []
    ssh = cluster["ssh"]

    def make(user_index: int = 0, **overrides: Any) -> SSHTransport:
        user = cluster_users[user_index]
        kwargs: dict[str, Any] = {
            "host": ssh["host"],
            "port": ssh["port"],
            "username": user["name"],
            "key_file": user["key_file"],
            "known_hosts": ssh["known_hosts_file"],
            "use_agent": False,
            "connect_timeout": 15.0,
            "command_timeout": 60.0,
        }
        kwargs.update(overrides)
        transport = SSHTransport(**kwargs)
        made.append(transport)
        return transport

    yield make
    for transport in made:
        transport.close()


def kill_server_side(transport: SSHTransport) -> None:
    """Kill (SIGKILL) the sshd processes serving this transport's TCP connection.

    Finds them with ``ss`` by the client's local port, so other users of the cluster keep
    their connections. Falls back to resetting the socket from the client side when the
    processes cannot be signalled (not root).
    """
    paramiko_transport = transport.connect().paramiko_transport
    assert paramiko_transport is not None
    sock = paramiko_transport.sock
    assert isinstance(sock, socket.socket)
    local_port = sock.getsockname()[1]
    server_port = sock.getpeername()[1]
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{server_port} and dport = :{local_port} )"],
        capture_output=True, text=True, check=True,
    ).stdout
    pids = {int(p) for p in re.findall(r"pid=(\d+)", out)}
    try:
        if not pids:
            raise PermissionError("no sshd pid visible")
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # gone already: killing its partner (monitor/child) ends it
                continue
    except PermissionError:
        sock.shutdown(socket.SHUT_RDWR)


def encrypt_key(source: str | Path, target: Path, passphrase: str) -> None:
    """Write ``source`` (an unencrypted OpenSSH private key) to ``target`` encrypted with
    ``passphrase`` (OpenSSH format, bcrypt KDF), in this process: ``ssh-keygen -N`` would put
    the passphrase on a command line, which the secret sentinel rightly reports."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_ssh_private_key(Path(source).read_bytes(), password=None)
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                             serialization.BestAvailableEncryption(passphrase.encode()))
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
