"""Host key checking against the real test cluster sshd (HOME is isolated per test)."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paramiko
import pytest

from remotejobs.errors import HostKeyError
from remotejobs.transport.ssh import SSHTransport

pytestmark = pytest.mark.cluster
MakeTransport = Callable[..., SSHTransport]


def test_unknown_host_key_is_rejected_with_instructions(
    make_transport: MakeTransport, cluster: dict[str, Any], tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    make_transport(0).run(["true"])  # a shared connection exists: the check still applies
    with pytest.raises(HostKeyError) as info:
        make_transport(0, known_hosts=str(empty)).run(["true"])
    text = str(info.value)
    port = cluster["ssh"]["port"]
    assert info.value.transient is False
    assert f"ssh-keyscan -p {port} {cluster['ssh']['host']}" in text
    assert 'host_key_policy="accept-new"' in text
    assert empty.read_text() == ""  # nothing added silently


def test_accept_new_records_the_key_then_works(
    make_transport: MakeTransport, cluster: dict[str, Any], isolated_home: Path
) -> None:
    # no known_hosts setting: the key goes to ~/.ssh/known_hosts, created 0600
    transport = make_transport(1, known_hosts=None, host_key_policy="accept-new")
    assert transport.run(["true"]).exit_status == 0
    recorded = isolated_home / ".ssh" / "known_hosts"
    assert recorded.read_text().strip() == cluster["ssh"]["known_hosts_line"]
    assert stat.S_IMODE(recorded.stat().st_mode) == 0o600
    again = make_transport(1, known_hosts=None, host_key_policy="reject")
    assert again.run(["true"]).exit_status == 0
    assert recorded.read_text().count("\n") == 1


def test_changed_key_is_rejected_even_with_accept_new(
    make_transport: MakeTransport, cluster: dict[str, Any], tmp_path: Path
) -> None:
    other = paramiko.Ed25519Key.from_private_key_file(cluster["users"][0]["key_file"])  # any other key
    host = f"[{cluster['ssh']['host']}]:{cluster['ssh']['port']}"
    forged = tmp_path / "known_hosts"
    forged.write_text(f"{host} {other.get_name()} {other.get_base64()}\n")
    before = forged.read_text()
    for policy in ("reject", "accept-new"):
        with pytest.raises(HostKeyError) as info:
            make_transport(0, known_hosts=str(forged), host_key_policy=policy).run(["true"])
        assert "CHANGED" in str(info.value) and "man-in-the-middle" in str(info.value)
    assert forged.read_text() == before
