"""Many files in one round trip: ``put_many``/``get_many`` over the real sshd (a tar stream
through one channel), and what a download refuses from the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest

from remotejobs.errors import TransferError
from remotejobs.transport.ssh import SSHTransport
from tests.transport.conftest import MakeTransport

pytestmark = pytest.mark.cluster


@pytest.fixture
def transport(make_transport: MakeTransport) -> Iterator[SSHTransport]:
    t = make_transport()
    t.home()  # the shell channel is open before channels are counted
    yield t
    t.run(["rm", "-rf", "--", "rj-many-files"])


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
        transport: SSHTransport, channels: list[str], tmp_path: Path) -> None:
    up = tmp_path / "up"
    up.mkdir()
    files = []
    for i in range(1000):
        path = up / f"f{i:04d}.dat"
        path.write_bytes(f"file {i}\n".encode() * (i % 7))
        files.append(str(path))
    (up / "f0003.dat").chmod(0o640)
    remote = transport.put_many(files, "rj-many-files/in")
    assert channels == ["session"] and len(remote) == 1000
    assert transport.listdir("rj-many-files/in") == sorted(p.name for p in up.iterdir())  # over SFTP
    down = tmp_path / "down"
    down.mkdir()
    channels.clear()
    got = transport.get_many("rj-many-files/in", [Path(f).name for f in files], str(down))
    assert channels == ["session"]
    assert [Path(p).name for p in got] == [Path(f).name for f in files]
    for name in files:
        assert (down / Path(name).name).read_bytes() == Path(name).read_bytes()
    assert (down / "f0003.dat").stat().st_mode & 0o777 == 0o640
    assert not [p for p in down.iterdir() if p.name.startswith(".")]  # no staging left


def test_a_link_in_the_archive_is_refused_and_nothing_is_written(
        transport: SSHTransport, tmp_path: Path) -> None:
    transport.run(["sh", "-c", "mkdir -p rj-many-files/evil && echo ok > rj-many-files/evil/good && "
                   "ln -sf /etc/passwd rj-many-files/evil/passwd"])
    with pytest.raises(TransferError, match=r"not asked for|not a regular file"):
        transport.get_many("rj-many-files/evil", ["good", "passwd"], str(tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "..", "a/b", ""])
def test_names_that_are_not_plain_file_names_are_refused(transport: SSHTransport, tmp_path: Path,
                                                        name: str) -> None:
    with pytest.raises(TransferError, match="not a plain file name"):
        transport.get_many("rj-many-files", [name], str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_fails_the_download_with_tars_message(transport: SSHTransport, tmp_path: Path) -> None:
    transport.run(["sh", "-c", "mkdir -p rj-many-files/some && echo ok > rj-many-files/some/here"])
    with pytest.raises(TransferError, match="not-here"):
        transport.get_many("rj-many-files/some", ["here", "not-here"], str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_uploading_two_files_of_one_name_is_refused(transport: SSHTransport, tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "same").write_text(sub)
    with pytest.raises(TransferError, match="same name"):
        transport.put_many([str(tmp_path / "a" / "same"), str(tmp_path / "b" / "same")], "rj-many-files/x")
