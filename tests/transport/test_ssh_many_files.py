"""Many files in one round trip: ``put_many``/``get_many`` over the real sshd (a tar stream
through one channel), and what a download refuses from the server."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest

from remotejobs.errors import TransferError
from remotejobs.transport.base import transfer_progress
from remotejobs.transport.ssh import SSHTransport
from tests.transport.conftest import MakeTransport

pytestmark = pytest.mark.cluster


@pytest.fixture
def transport(make_transport: MakeTransport) -> SSHTransport:
    t = make_transport()
    t.home()  # the shell channel is open before channels are counted
    return t


@pytest.fixture
def remote(transport: SSHTransport) -> Iterator[str]:
    """A directory of this test alone in the user's home (other runs use the same user)."""
    name = f"rj-many-files-{secrets.token_hex(4)}"
    yield name
    transport.run(["rm", "-rf", "--", name])


@pytest.fixture
def channels(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The kinds of the SSH channels opened from now on (a spy: the real method runs)."""
    opened: list[str] = []
    real = paramiko.Transport.open_channel

    def spy(self: paramiko.Transport, kind: str, *args: Any, **kwargs: Any) -> paramiko.Channel:
        opened.append(kind)
        return real(self, kind, *args, **kwargs)

    monkeypatch.setattr(paramiko.Transport, "open_channel", spy)
    return opened


def test_a_thousand_files_go_up_and_come_back_in_one_channel_each_way(
        transport: SSHTransport, remote: str, channels: list[str], tmp_path: Path) -> None:
    up = tmp_path / "up"
    up.mkdir()
    files = []
    for i in range(1000):
        path = up / f"f{i:04d}.dat"
        path.write_bytes(f"file {i}\n".encode() * (i % 7))
        files.append(str(path))
    (up / "f0003.dat").chmod(0o640)
    sent = transport.put_many(files, f"{remote}/in")
    assert channels == ["session"] and len(sent) == 1000
    assert transport.listdir(f"{remote}/in") == sorted(p.name for p in up.iterdir())  # over SFTP
    down = tmp_path / "down"
    down.mkdir()
    channels.clear()
    got = transport.get_many(f"{remote}/in", [Path(f).name for f in files], str(down))
    assert channels == ["session"]
    assert [Path(p).name for p in got] == [Path(f).name for f in files]
    for name in files:
        assert (down / Path(name).name).read_bytes() == Path(name).read_bytes()
    assert (down / "f0003.dat").stat().st_mode & 0o777 == 0o640
    assert not [p for p in down.iterdir() if p.name.startswith(".")]  # no staging left


def test_a_link_in_the_archive_is_refused_and_nothing_is_written(
        transport: SSHTransport, remote: str, tmp_path: Path) -> None:
    transport.run(["sh", "-c", f"mkdir -p {remote}/evil && echo ok > {remote}/evil/good && "
                   f"ln -sf /etc/passwd {remote}/evil/passwd"])
    with pytest.raises(TransferError, match=r"not asked for|not a regular file"):
        transport.get_many(f"{remote}/evil", ["good", "passwd"], str(tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "..", "a/b", ""])
def test_names_that_are_not_plain_file_names_are_refused(transport: SSHTransport, remote: str, tmp_path: Path,
                                                        name: str) -> None:
    with pytest.raises(TransferError, match="not a plain file name"):
        transport.get_many(remote, [name], str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_fails_the_download_with_tars_message(transport: SSHTransport, remote: str,
                                                            tmp_path: Path) -> None:
    transport.run(["sh", "-c", f"mkdir -p {remote}/some && echo ok > {remote}/some/here"])
    with pytest.raises(TransferError, match="not-here"):
        transport.get_many(f"{remote}/some", ["here", "not-here"], str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_fails_the_download_with_tars_message(transport: SSHTransport, remote: str,
                                                                 tmp_path: Path) -> None:
    """tar -C fails before writing anything: its message, not "the archive is unreadable"."""
    with pytest.raises(TransferError, match="No such file or directory") as info:
        transport.get_many(f"{remote}/not-here", ["a", "b"], str(tmp_path))
    assert "tar -c failed" in str(info.value) and info.value.user == transport.user, info.value
    assert list(tmp_path.iterdir()) == []


def test_uploading_two_files_of_one_name_is_refused(transport: SSHTransport, remote: str, tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "same").write_text(sub)
    with pytest.raises(TransferError, match="same name"):
        transport.put_many([str(tmp_path / "a" / "same"), str(tmp_path / "b" / "same")], f"{remote}/x")


def test_uploaded_files_appear_whole_or_not_at_all(transport: SSHTransport, remote: str, tmp_path: Path) -> None:
    """Extracted into a private staging directory, then moved into place: a directory in
    the way of one file fails the upload with mv's message; the other file arrives whole,
    the directory is untouched, and no staging directory is left."""
    transport.run(["mkdir", "-p", f"{remote}/busy/taken/inside"])
    files = []
    for name in ("taken", "free"):
        path = tmp_path / name
        path.write_bytes(name.encode() * 1000)
        files.append(str(path))
    progress: list[tuple[int, int]] = []
    reset = transfer_progress.set(lambda done, total: progress.append((done, total)))
    try:
        with pytest.raises(TransferError, match="taken"):
            transport.put_many(files, f"{remote}/busy")
    finally:
        transfer_progress.reset(reset)
    assert progress == [(0, 5000), (5000, 5000), (0, 4000), (4000, 4000)]
    listing = transport.run(["ls", "-A", f"{remote}/busy", f"{remote}/busy/taken"]).stdout
    assert listing.split() == [f"{remote}/busy:", "free", "taken", f"{remote}/busy/taken:", "inside"]
    assert transport.run(["cat", f"{remote}/busy/free"]).stdout == "free" * 1000
