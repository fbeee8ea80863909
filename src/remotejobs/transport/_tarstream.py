"""Many files in one round trip: a tar stream over one SSH exec channel (internals).

Copying 1,000 small files one by one costs 1,000 SFTP open/write/close/rename exchanges;
here they travel as one POSIX tar stream through one channel: ``tar -x`` reads it on the
remote side (upload), ``tar -c`` writes it there (download).

Safety of a download (the archive comes from the server, which the SDK does not trust):
each member must be a regular file whose name is one of the names asked for (a plain file
name: no ``/``, not ``.`` or ``..``), and is extracted with tarfile's ``data`` filter
(https://docs.python.org/3/library/tarfile.html#tarfile.data_filter: no absolute paths,
no ``..``, no links, no devices, no set-uid bits) into a fresh private directory inside
the target, then renamed into place; anything else fails the whole download with a
TransferError and leaves no file of it behind. Uploads send only the local regular files
given, under their base names, with owner and group cleared (the remote ``tar`` runs with
``--no-same-owner``), extracted into a fresh private directory and moved into place only
once the whole archive arrived (so each file is whole or absent).
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

import paramiko

from remotejobs.errors import TransferError
from remotejobs.transport._stream import stderr_text
from remotejobs.transport.base import is_plain_file_name

__all__ = ["check_name", "download_files", "upload_files"]

#: Upload: extract into a fresh private staging directory inside the target ($2 is a random
#: name), then move the files into place in one ``mv`` (GNU ``-t``: a file never goes into
#: a directory of its name), so that each file appears whole or not at all; the staging
#: directory is removed on every exit.
#: Called with (bytes done, bytes total) of each file: at its start and at its end.
Progress = Callable[[int, int], None] | None

_UNTAR = (
    'mkdir -p -- "$1" && stage="$1/$2" && mkdir -m 700 -- "$stage" || exit 1\n'
    'trap \'rm -rf -- "$stage"\' EXIT\n'
    'trap \'exit 1\' HUP INT PIPE TERM\n'
    'tar -x --no-same-owner -m -C "$stage" -f - || exit 1\n'
    'find "$stage" -mindepth 1 -maxdepth 1 -exec mv -f -t "$1" -- {} + || exit 1\n'
)
#: Bytes gathered before one write to the channel (tarfile writes 10 KiB records).
_SEND_BUFFER = 1 << 20


def check_name(name: str) -> str:
    """``name`` if it is a plain file name. :raises TransferError: anything else."""
    if not is_plain_file_name(name):
        raise TransferError(f"{name[:100]!r} is not a plain file name", path=name)
    return name


class _ChannelWriter:
    """The file-like sink ``tarfile`` writes a stream into (``write``, then ``flush``):
    gathers its small records into large channel writes (full SSH packets)."""

    def __init__(self, chan: paramiko.Channel) -> None:
        self.chan = chan
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= _SEND_BUFFER:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.buffer:
            self.chan.sendall(bytes(self.buffer))
            self.buffer.clear()


def _finish(chan: paramiko.Channel, what: str, where: str) -> None:
    err = stderr_text(chan)
    status = chan.recv_exit_status()
    if status != 0:
        raise TransferError(f"{what} failed on {where} (exit status {status}): {err}", path=where)


def _failed_tar(chan: paramiko.Channel, where: str, timeout: float) -> None:
    """After an unreadable archive: raise tar's own failure (exit status, message) if it
    reports one within ``timeout``; return otherwise (the archive itself is to blame)."""
    if not chan.status_event.wait(timeout) or chan.recv_exit_status() in (0, -1):
        return
    try:
        err = stderr_text(chan)
    except OSError:
        err = ""
    raise TransferError(f"tar -c failed on {where} (exit status {chan.recv_exit_status()}): {err}", path=where)


def upload_files(transport: paramiko.Transport, local_paths: Sequence[str], remote_dir: str,
                 timeout: float, progress: Progress = None) -> list[str]:
    """Copy the local files into ``remote_dir`` (created if missing) in one stream; the
    remote paths. Each file appears whole under its name or not at all; a failure may
    leave the files moved before it (all are moved once the whole archive arrived)."""
    names = [check_name(os.path.basename(p)) for p in local_paths]
    if len(set(names)) != len(names):
        raise TransferError("Two of the files to upload have the same name", path=remote_dir)
    chan = transport.open_session(timeout=timeout)
    try:
        chan.settimeout(timeout)
        chan.exec_command(shlex.join(["sh", "-c", _UNTAR, "sh", remote_dir, f".rj-tar-{secrets.token_hex(8)}"]))
        sink = _ChannelWriter(chan)
        with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
            for path, name in zip(local_paths, names, strict=True):
                with open(path, "rb") as src:
                    info = tar.gettarinfo(fileobj=src, arcname=name)
                    if not info.isfile():
                        raise TransferError(f"{path} is not a regular file", path=path)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    if progress is not None:
                        progress(0, info.size)
                    tar.addfile(info, src)
                    if progress is not None:
                        progress(info.size, info.size)
        sink.flush()
        chan.shutdown_write()
        _finish(chan, "tar -x", remote_dir)
    finally:
        chan.close()
    return [f"{remote_dir.rstrip('/')}/{name}" for name in names]


def download_files(transport: paramiko.Transport, remote_dir: str, names: Sequence[str], local_dir: str,
                   timeout: float, progress: Progress = None) -> list[Path]:
    """Copy the named files of ``remote_dir`` into ``local_dir`` in one stream (see the
    module doc for what is refused); the local paths, in the order of ``names``."""
    wanted = {check_name(n) for n in names}
    target = Path(local_dir)
    staging = Path(tempfile.mkdtemp(dir=target, prefix=".rj-tar-"))
    chan = transport.open_session(timeout=timeout)
    try:
        chan.settimeout(timeout)
        chan.exec_command(shlex.join(["tar", "-c", "-C", remote_dir, "-f", "-", "--", *names]))
        chan.shutdown_write()
        stream: BinaryIO = chan.makefile("rb")  # type: ignore[assignment]
        seen: set[str] = set()
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    if not member.isfile() or member.name not in wanted or member.name in seen:
                        raise TransferError(f"The archive from {remote_dir} holds {member.name[:100]!r}, "
                                            "which was not asked for (or is not a regular file)",
                                            path=remote_dir)
                    seen.add(member.name)
                    if progress is not None:
                        progress(0, member.size)
                    tar.extract(member, staging, filter="data")
                    if progress is not None:
                        progress(member.size, member.size)
        except tarfile.TarError as exc:
            _failed_tar(chan, remote_dir, timeout)  # a failed tar (no such directory...) says why
            raise TransferError(f"The archive from {remote_dir} is unreadable: {exc}", path=remote_dir) from exc
        _finish(chan, "tar -c", remote_dir)
        if seen != wanted:
            raise TransferError(f"The archive from {remote_dir} lacks {sorted(wanted - seen)[:5]}", path=remote_dir)
        out = []
        for name in names:
            os.replace(staging / name, target / name)
            out.append(target / name)
        return out
    finally:
        chan.close()
        shutil.rmtree(staging, ignore_errors=True)
