"""Big files as a plain stream over an exec channel (``_stream``), and the cipher chosen,
against the real test cluster sshd. The SFTP fallback, cut connections and the
whole-or-nothing rule of every path: test_ssh_sftp.py and tests/attack/test_faults.py."""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest

from remotejobs.errors import TransferError
from remotejobs.transport import _stream
from remotejobs.transport._ssh_pool import cipher_order
from remotejobs.transport.ssh import SSHTransport

pytestmark = pytest.mark.cluster
MakeTransport = Callable[..., SSHTransport]
SIZE = 3 << 20  # above _stream.STREAM_MIN


@pytest.fixture
def transport(make_transport: MakeTransport) -> SSHTransport:
    return make_transport(0)


@pytest.fixture
def folder(transport: SSHTransport, cluster_users: list[dict[str, Any]]) -> Iterator[tuple[str, Path]]:
    """A fresh directory in the remote home: (remote path, the same seen on this host)."""
    name = f"rj-stream-test-{secrets.token_hex(4)}"
    transport.makedirs(name)
    yield name, Path(cluster_users[0]["home"]) / name
    transport.run(["rm", "-rf", "--", name])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _payload(tmp_path: Path, mode: int = 0o640) -> Path:
    source = tmp_path / "payload.bin"
    source.write_bytes(os.urandom(SIZE))
    source.chmod(mode)
    return source


def test_the_test_sshd_negotiates_aes_gcm_and_the_order_keeps_the_rest(transport: SSHTransport) -> None:
    transport.run(["true"])
    paramiko_transport = transport.connect().paramiko_transport
    assert paramiko_transport is not None
    assert paramiko_transport.local_cipher == "aes128-gcm@openssh.com"
    assert cipher_order(("aes128-ctr", "aes256-ctr")) == ("aes128-ctr", "aes256-ctr")
    assert cipher_order(("aes128-ctr", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com")) == (
        "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr")


def test_a_streamed_upload_writes_a_private_temporary_then_the_local_mode(
    transport: SSHTransport, folder: tuple[str, Path], tmp_path: Path
) -> None:
    remote, seen_here = folder
    source = _payload(tmp_path, 0o640)
    modes: list[int] = []

    def look(done: int, total: int) -> None:
        if not modes:
            modes.extend(stat.S_IMODE(p.stat().st_mode) for p in seen_here.iterdir() if ".part-" in p.name)

    transport.put(str(source), f"{remote}/payload.bin", progress=look, verify=True)
    assert modes == [0o600], "the temporary file of the stream is not private"
    assert os.listdir(seen_here) == ["payload.bin"]
    assert stat.S_IMODE((seen_here / "payload.bin").stat().st_mode) == 0o640
    assert _sha(seen_here / "payload.bin") == _sha(source)
    assert transport.connect().stream_works


def test_a_streamed_download_uses_one_exec_channel_and_arrives_whole(
    transport: SSHTransport, folder: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote, _ = folder
    source = _payload(tmp_path)
    transport.put(str(source), f"{remote}/payload.bin")  # the SFTP session is open from here on
    commands: list[str] = []
    real = paramiko.Channel.exec_command

    def spy(self: paramiko.Channel, command: str) -> None:
        commands.append(command)
        real(self, command)

    monkeypatch.setattr(paramiko.Channel, "exec_command", spy)
    back = tmp_path / "back.bin"
    transport.get(f"{remote}/payload.bin", str(back), verify=True)
    assert [c.split()[:2] for c in commands if "sha256sum" not in c] == [["cat", "--"]], commands
    assert _sha(back) == _sha(source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back.bin", "payload.bin"]


@pytest.fixture
def full_remote_dir(folder: tuple[str, Path], cluster_users: list[dict[str, Any]]) -> Iterator[str]:
    """A 1 MiB tmpfs owned by the test user inside ``folder`` (unmounted afterwards)."""
    remote, seen_here = folder
    mount = seen_here / "full"
    mount.mkdir()
    user = pwd.getpwnam(cluster_users[0]["name"])
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size=1m,mode=0700,uid={user.pw_uid},gid={user.pw_gid}",
                    "rj-stream-full", str(mount)], check=True)
    try:
        yield f"{remote}/full"
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_remote_disk_is_a_clear_error_and_leaves_nothing(
    transport: SSHTransport, full_remote_dir: str, tmp_path: Path
) -> None:
    source = _payload(tmp_path)
    with pytest.raises(TransferError) as info:
        transport.put(str(source), f"{full_remote_dir}/payload.bin")
    err = info.value
    assert "space" in str(err).lower() and err.path is not None and err.path.endswith("full/payload.bin"), err
    assert err.transient is False and err.user == transport.user
    assert transport.run(["ls", "-A", "--", full_remote_dir]).stdout == ""
    assert transport.connect().stream_works, "a full disk is no reason to give up the stream"


def test_a_remote_side_that_cannot_run_the_stream_falls_back_to_sftp(
    transport: SSHTransport, folder: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote, seen_here = folder
    # the pooled connection is shared with the next tests: its flag is restored afterwards
    monkeypatch.setattr(transport.connect(), "stream_works", True)
    monkeypatch.setattr(_stream, "_RECEIVE", 'umask 077 && set -C && exec rj-no-such-command > "$1"')
    source = _payload(tmp_path)
    transport.put(str(source), f"{remote}/payload.bin")
    assert not transport.connect().stream_works
    assert os.listdir(seen_here) == ["payload.bin"] and _sha(seen_here / "payload.bin") == _sha(source)
    back = tmp_path / "back.bin"
    transport.get(f"{remote}/payload.bin", str(back))  # SFTP now, for this connection
    assert _sha(back) == _sha(source)


def test_a_download_is_written_to_a_private_new_temporary_then_gets_the_remote_mode(
    transport: SSHTransport, folder: tuple[str, Path], tmp_path: Path
) -> None:
    remote, _ = folder
    source = _payload(tmp_path, 0o640)
    transport.put(str(source), f"{remote}/payload.bin")
    assert transport.connect().stream_works
    here = tmp_path / "here"
    here.mkdir()
    modes: list[int] = []

    def look(done: int, total: int) -> None:
        if not modes:
            modes.extend(stat.S_IMODE(p.stat().st_mode) for p in here.iterdir() if ".part-" in p.name)

    old_umask = os.umask(0o022)  # what would make an ordinary open() 0644
    try:
        transport.get(f"{remote}/payload.bin", str(here / "back.bin"), progress=look)
    finally:
        os.umask(old_umask)
    assert modes == [0o600], "the local temporary of a download is readable by others"
    assert os.listdir(here) == ["back.bin"]
    assert stat.S_IMODE((here / "back.bin").stat().st_mode) == 0o640
    assert _sha(here / "back.bin") == _sha(source)


@pytest.mark.timeout(120)
def test_a_server_that_sends_more_than_the_file_is_refused_at_once(
    transport: SSHTransport, folder: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile (or racing) remote side: after the file, ``yes`` without end. The download
    stops at the first byte too many (it does not read until the server stops)."""
    remote, _ = folder
    source = _payload(tmp_path)
    transport.put(str(source), f"{remote}/payload.bin")
    assert transport.connect().stream_works
    real_open = _stream._open

    def endless(t: paramiko.Transport, argv: list[str], timeout: float) -> paramiko.Channel:
        assert argv[:2] == ["cat", "--"], argv
        return real_open(t, ["sh", "-c", 'cat -- "$1" && exec yes', "sh", argv[2]], timeout)

    monkeypatch.setattr(_stream, "_open", endless)
    here = tmp_path / "here"
    here.mkdir()
    with pytest.raises(TransferError) as info:
        transport.get(f"{remote}/payload.bin", str(here / "back.bin"))
    assert "changed size" in str(info.value) and info.value.user == transport.user, info.value
    assert os.listdir(here) == []
