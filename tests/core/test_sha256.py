"""The one local-file SHA-256 (remotejobs.transport.base.sha256_of): what the local
transport's verified copy and the workflow journal's input facts compare."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from remotejobs.transport.base import sha256_of
from remotejobs.transport.local import LocalTransport
from remotejobs.workflow import transfers


def test_digest_of_a_file_longer_than_one_chunk(tmp_path: Path) -> None:
    data = os.urandom((1 << 20) * 2 + 123)  # three 1 MiB reads, the last one short
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()
    assert sha256_of(tmp_path / "data.bin") != sha256_of(_written(tmp_path / "other", data[:-1]))


def test_the_workflow_module_keeps_its_import_path() -> None:
    assert transfers.sha256_of is sha256_of


def test_local_verified_copy_arrives_whole(tmp_path: Path) -> None:
    data = os.urandom(3 << 19)
    source = _written(tmp_path / "in.bin", data)
    target = tmp_path / "sub" / "out.bin"
    LocalTransport().put(str(source), str(target), verify=True)
    assert target.read_bytes() == data
    back = tmp_path / "back.bin"
    LocalTransport().get(str(target), str(back), verify=True)
    assert back.read_bytes() == data
    assert not [p for p in target.parent.iterdir() if ".part-" in p.name]


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
