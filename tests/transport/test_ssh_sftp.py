"""SFTP transfers and file operations against the real test cluster sshd."""

from __future__ import annotations

import hashlib
import itertools
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from remotejobs.errors import TransferError
from remotejobs.transport.base import CommandResult
from remotejobs.transport.ssh import SSHTransport

pytestmark = pytest.mark.cluster
MakeTransport = Callable[..., SSHTransport]


@pytest.fixture
def transport(make_transport: MakeTransport) -> SSHTransport:
    return make_transport(0)


@pytest.fixture
def remote_dir(transport: SSHTransport) -> Iterator[str]:
    """A fresh directory relative to the remote home; removed afterwards."""
    name = f"rj-sftp-test-{secrets.token_hex(4)}"
    transport.makedirs(name)
    yield name
    transport.run(["chmod", "-R", "u+w", "--", name])
    transport.run(["rm", "-rf", "--", name])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_round_trip_64mb_verified_with_progress(transport: SSHTransport, remote_dir: str,
                                                tmp_path: Path) -> None:
    source = tmp_path / "data.bin"
    with source.open("wb") as fh:
        for _ in range(64):
            fh.write(os.urandom(1 << 20))
    seen: list[tuple[int, int]] = []
    transport.put(str(source), f"{remote_dir}/data.bin", verify=True, progress=lambda d, t: seen.append((d, t)))
    size = 64 << 20
    assert len(seen) > 2 and seen[-1] == (size, size)
    assert all(b[0] > a[0] for a, b in itertools.pairwise(seen))
    assert transport.listdir(remote_dir) == ["data.bin"]  # no temporary left behind
    back = tmp_path / "back.bin"
    got: list[tuple[int, int]] = []
    transport.get(f"{remote_dir}/data.bin", str(back), verify=True, progress=lambda d, t: got.append((d, t)))
    assert got[-1] == (size, size) and all(b[0] > a[0] for a, b in itertools.pairwise(got))
    assert _sha(back) == _sha(source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back.bin", "data.bin"]


def test_unicode_and_space_names_and_absolute_paths(transport: SSHTransport, remote_dir: str,
                                                    tmp_path: Path) -> None:
    source = tmp_path / "lokal ñame ✓.txt"
    source.write_text("grüße\n")
    target_dir = f"{transport.home()}/{remote_dir}/dír with space/ünder"
    transport.makedirs(target_dir)
    transport.put(str(source), f"{target_dir}/fïle näme.txt")
    assert transport.listdir(target_dir) == ["fïle näme.txt"]
    back = tmp_path / "zurück ✓.txt"
    transport.get(f"{target_dir}/fïle näme.txt", str(back))
    assert back.read_text() == "grüße\n"


def test_upload_into_unwritable_directory_leaves_nothing(transport: SSHTransport, remote_dir: str,
                                                         tmp_path: Path) -> None:
    source = tmp_path / "f.txt"
    source.write_text("x")
    transport.makedirs(f"{remote_dir}/locked")
    transport.run(["chmod", "555", "--", f"{remote_dir}/locked"])
    with pytest.raises(TransferError) as info:
        transport.put(str(source), f"{remote_dir}/locked/f.txt")
    assert info.value.path and info.value.path.endswith("locked/f.txt")
    assert info.value.transient is False
    assert transport.run(["ls", "-A", "--", f"{remote_dir}/locked"]).stdout == ""


def test_failed_rename_leaves_no_partial_file(transport: SSHTransport, remote_dir: str, tmp_path: Path) -> None:
    source = tmp_path / "f.bin"
    source.write_bytes(os.urandom(3 << 20))
    transport.makedirs(f"{remote_dir}/taken/sub")  # the final name is a non-empty directory
    with pytest.raises(TransferError):
        transport.put(str(source), f"{remote_dir}/taken")
    assert transport.run(["ls", "-A", "--", remote_dir]).stdout == "taken\n"


def test_put_replaces_an_existing_file(transport: SSHTransport, remote_dir: str, tmp_path: Path) -> None:
    source = tmp_path / "f.sh"
    source.write_text("new\n")
    source.chmod(0o750)
    transport.run(["sh", "-c", 'printf "old\\n" > "$1"', "sh", f"{remote_dir}/f.sh"])
    transport.put(str(source), f"{remote_dir}/f.sh")
    assert transport.run(["cat", f"{remote_dir}/f.sh"]).stdout == "new\n"
    assert transport.run(["stat", "-c", "%a", f"{remote_dir}/f.sh"]).stdout.strip() == "750"


def test_missing_remote_file(transport: SSHTransport, remote_dir: str, tmp_path: Path) -> None:
    local = tmp_path / "never.txt"
    with pytest.raises(TransferError) as info:
        transport.get(f"{remote_dir}/missing.txt", str(local))
    assert info.value.path is not None and info.value.path.endswith("missing.txt")
    assert info.value.transient is False and "no such file" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_missing_local_file(transport: SSHTransport, remote_dir: str, tmp_path: Path) -> None:
    with pytest.raises(TransferError) as info:
        transport.put(str(tmp_path / "absent"), f"{remote_dir}/x")
    assert info.value.path == str(tmp_path / "absent")


def test_listdir_regular_files_following_symlinks(transport: SSHTransport, remote_dir: str) -> None:
    transport.makedirs(f"{remote_dir}/real/subdir")
    transport.run(["sh", "-c", 'printf b > "$1/b.txt"; printf a > "$1/a.txt"', "sh", f"{remote_dir}/real"])
    transport.run(["ln", "-s", "a.txt", f"{remote_dir}/real/link-to-a"])
    transport.run(["ln", "-s", "nowhere", f"{remote_dir}/real/dangling"])
    transport.run(["ln", "-s", "real", f"{remote_dir}/linkdir"])
    assert transport.listdir(f"{remote_dir}/real") == ["a.txt", "b.txt", "link-to-a"]
    assert transport.listdir(f"{remote_dir}/linkdir") == ["a.txt", "b.txt", "link-to-a"]
    with pytest.raises(TransferError) as info:
        transport.listdir(f"{remote_dir}/absent")
    assert info.value.path is not None and info.value.path.endswith("absent")


def test_makedirs(transport: SSHTransport, remote_dir: str) -> None:
    transport.makedirs(f"{remote_dir}/x/y/z")
    transport.makedirs(f"{remote_dir}/x/y/z")  # existing: fine
    assert transport.run(["test", "-d", f"{transport.home()}/{remote_dir}/x/y/z"]).exit_status == 0
    transport.run(["touch", f"{remote_dir}/x/y/z/run.sh"])
    with pytest.raises(TransferError):
        transport.makedirs(f"{remote_dir}/x/y/z/run.sh/deeper")


def test_home_is_cached(transport: SSHTransport) -> None:
    first = transport.home()
    calls: list[object] = []
    original = transport.run

    def counting_run(*args: Any, **kwargs: Any) -> CommandResult:
        calls.append(args)
        return original(*args, **kwargs)

    transport.run = counting_run  # type: ignore[method-assign]
    assert transport.home() == first and calls == []


def test_an_interrupted_upload_leaves_no_temporary_file(
    transport: SSHTransport, remote_dir: str, tmp_path: Path, cluster_users: list[dict[str, Any]]
) -> None:
    """The connection is cut (sshd killed) in the middle of an upload: its temporary file
    cannot be removed then, and is removed by the next upload (issue 10, hole 6)."""
    from .conftest import kill_server_side

    source = tmp_path / "data.bin"
    source.write_bytes(os.urandom(16 << 20))
    cut: list[bool] = []

    def cut_once(done: int, total: int) -> None:
        if not cut and done > (1 << 20):
            cut.append(True)
            kill_server_side(transport)

    try:
        transport.put(str(source), f"{remote_dir}/data.bin", progress=cut_once)
    except TransferError:
        transport.put(str(source), f"{remote_dir}/data.bin")  # the retry the caller makes
    assert cut, "the connection was never cut"
    folder = Path(cluster_users[0]["home"]) / remote_dir
    assert sorted(os.listdir(folder)) == ["data.bin"], "a temporary file was left behind"
    assert _sha(folder / "data.bin") == _sha(source)
