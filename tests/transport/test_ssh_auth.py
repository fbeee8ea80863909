"""Authentication and ssh config against the real test cluster sshd."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import paramiko
import pytest

from remotejobs.errors import AuthenticationError
from remotejobs.transport.ssh import SSHTransport

MakeTransport = Callable[..., SSHTransport]

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize("index", [0, 1])
def test_key_auth(make_transport: MakeTransport, cluster_users: list[dict[str, Any]], index: int) -> None:
    transport = make_transport(index)
    assert transport.run(["id", "-un"]).stdout.strip() == cluster_users[index]["name"]
    assert transport.user == cluster_users[index]["name"]
    assert transport.description == f"{cluster_users[index]['name']}@127.0.0.1:{transport.connect().target.port}"
    assert transport.home() == cluster_users[index]["home"]


@pytest.mark.parametrize("index", [0, 1])
def test_password_auth(make_transport: MakeTransport, cluster_users: list[dict[str, Any]], index: int) -> None:
    user = cluster_users[index]
    transport = make_transport(index, key_file=None, password=user["password"])
    assert transport.run(["id", "-un"]).stdout.strip() == user["name"]
    assert user["password"] not in repr(transport)
    assert user["password"] not in repr(transport._creds)


def test_wrong_password_is_rejected_even_with_a_shared_connection(
    make_transport: MakeTransport, cluster_users: list[dict[str, Any]]
) -> None:
    user = cluster_users[0]
    make_transport(0).run(["true"])  # an authenticated connection for this user exists
    wrong = "Wr0ng-" + user["password"][::-1]
    transport = make_transport(0, key_file=None, password=wrong)
    with pytest.raises(AuthenticationError) as info:
        transport.run(["true"])
    error = info.value
    assert error.transient is False
    assert user["name"] in str(error) and "127.0.0.1" in str(error)
    assert wrong not in str(error) and wrong not in repr(error.__cause__)
    assert error.hint


def test_keyboard_interactive_with_callback(
    make_transport: MakeTransport, cluster_users: list[dict[str, Any]]
) -> None:
    user = cluster_users[1]
    calls: list[list[tuple[str, bool]]] = []

    def handler(title: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
        calls.append(prompts)
        return [user["password"] if "assword" in prompt else "" for prompt, _ in prompts]

    transport = make_transport(1, key_file=None, interactive_handler=handler)
    assert transport.run(["id", "-un"]).stdout.strip() == user["name"]
    assert calls and any("assword" in prompt for prompt, echo in calls[0] if not echo)


def test_keyboard_interactive_wrong_answer(make_transport: MakeTransport) -> None:
    transport = make_transport(1, key_file=None, interactive_handler=lambda t, i, p: ["nope"] * len(p))
    with pytest.raises(AuthenticationError) as info:
        transport.run(["true"])
    assert "keyboard-interactive" in str(info.value)


def test_missing_key_file_is_named(make_transport: MakeTransport, tmp_path: Path) -> None:
    missing = str(tmp_path / "no_such_key")
    with pytest.raises(AuthenticationError) as info:
        make_transport(0, key_file=missing).run(["true"])
    assert missing in str(info.value) and info.value.transient is False


def test_ssh_config_host_alias(
    make_transport: MakeTransport, cluster: dict[str, Any], cluster_users: list[dict[str, Any]], tmp_path: Path
) -> None:
    bob = cluster_users[1]
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host rjcluster\n  HostName {cluster['ssh']['host']}\n  Port {cluster['ssh']['port']}\n"
        f"  User {bob['name']}\n  IdentityFile {bob['key_file']}\n"
    )
    transport = make_transport(1, host="rjcluster", port=None, username=None, key_file=None,
                               ssh_config=str(config))
    assert transport.user == bob["name"]
    assert transport.run(["id", "-un"]).stdout.strip() == bob["name"]


def _jump_config(tmp_path: Path, cluster: dict[str, Any], jump_user: dict[str, Any],
                 target_user: dict[str, Any]) -> Path:
    """An ssh_config: host ``rjbehind`` (the test sshd as ``target_user``, with its key)
    reached through ``ProxyJump rjjump`` (the same sshd as ``jump_user``, with its key)."""
    ssh = cluster["ssh"]
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host rjjump\n  HostName {ssh['host']}\n  Port {ssh['port']}\n  User {jump_user['name']}\n"
        f"  IdentityFile {jump_user['key_file']}\n"
        f"Host rjbehind\n  HostName {ssh['host']}\n  Port {ssh['port']}\n  User {target_user['name']}\n"
        f"  IdentityFile {target_user['key_file']}\n  ProxyJump rjjump\n"
    )
    return config


def test_proxy_jump_through_a_host_this_process_is_already_connected_to(
    make_transport: MakeTransport, cluster: dict[str, Any], cluster_users: list[dict[str, Any]], tmp_path: Path
) -> None:
    """The jump host's shared connection was opened first by another caller with an explicit
    key; this caller's credentials come from its ssh_config (IdentityFile) and are verified
    with its own view of the host, not the first caller's (which had no identity files)."""
    alice, bob = cluster_users
    holder = make_transport(0)
    assert holder.run(["id", "-un"]).stdout.strip() == alice["name"]
    config = _jump_config(tmp_path, cluster, alice, bob)
    transport = make_transport(1, host="rjbehind", port=None, username=None, key_file=None,
                               ssh_config=str(config))
    assert transport.run(["id", "-un"]).stdout.strip() == bob["name"]


def test_proxy_jump_goes_through_the_jump_host(
    make_transport: MakeTransport, cluster: dict[str, Any], cluster_users: list[dict[str, Any]], tmp_path: Path
) -> None:
    alice, bob = cluster_users
    config = _jump_config(tmp_path, cluster, alice, bob)
    transport = make_transport(1, host="rjbehind", port=None, username=None, key_file=None,
                               ssh_config=str(config))
    assert transport.run(["id", "-un"]).stdout.strip() == bob["name"]
    connection = transport.connect()
    assert connection.paramiko_transport is not None
    assert isinstance(connection.paramiko_transport.sock, paramiko.Channel)  # direct-tcpip channel
