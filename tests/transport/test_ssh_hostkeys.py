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


# -- marker and corrupt lines (issue 10, hole 6) -------------------------------------------
def _other_key_line(cluster: dict[str, Any], names: str) -> str:
    other = paramiko.Ed25519Key.from_private_key_file(cluster["users"][0]["key_file"])
    return f"{names} {other.get_name()} {other.get_base64()}"


def test_cert_authority_and_foreign_revoked_lines_are_honoured_like_openssh(
    make_transport: MakeTransport, cluster: dict[str, Any], tmp_path: Path
) -> None:
    """A ``@cert-authority`` line (certificates: not used here) and a ``@revoked`` line for
    another key do not stop a host whose key is listed; hashed names and wildcards match."""
    line = cluster["ssh"]["known_hosts_line"]
    names, key_type, key = line.split()
    hashed = paramiko.HostKeys.hash_host(names)
    for listed in (line, f"{hashed} {key_type} {key}", f"[127.0.0.*]:{cluster['ssh']['port']},x {key_type} {key}"):
        known = tmp_path / "known_hosts"
        known.write_text("\n".join([
            "# comment", "",
            "@cert-authority " + _other_key_line(cluster, "*"),
            "@revoked " + _other_key_line(cluster, "*"),
            "other.example ssh-foo AAAAB3NzaC1yc2EAAAADAQABAAABAQ==",  # unknown key type: skipped
            listed,
        ]) + "\n")
        assert make_transport(0, known_hosts=str(known)).run(["true"]).exit_status == 0, listed


def test_a_revoked_host_key_is_refused_permanently(
    make_transport: MakeTransport, cluster: dict[str, Any], tmp_path: Path
) -> None:
    line = cluster["ssh"]["known_hosts_line"]
    known = tmp_path / "known_hosts"
    known.write_text(f"{line}\n@revoked {line}\n")
    with pytest.raises(HostKeyError, match="revoked") as info:
        make_transport(0, known_hosts=str(known)).run(["true"])
    assert info.value.transient is False


@pytest.mark.parametrize("corrupt", [
    "just-one-field",
    "host ssh-ed25519",
    "host ssh-ed25519 !!!not-base64!!!",
    "@bogus-marker host ssh-ed25519 AAAA",
])
def test_a_corrupt_known_hosts_line_is_a_permanent_error_naming_the_line(
    make_transport: MakeTransport, cluster: dict[str, Any], tmp_path: Path, corrupt: str
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"{cluster['ssh']['known_hosts_line']}\n{corrupt}\n")
    with pytest.raises(HostKeyError) as info:
        make_transport(0, known_hosts=str(known)).run(["true"])
    assert info.value.transient is False
    assert "line 2" in str(info.value) and str(known) in str(info.value)
