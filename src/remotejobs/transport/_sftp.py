"""SFTP file operations for the SSH transport (internals).

Contract: :func:`upload` and :func:`download` write to a temporary name in the target's
directory and rename it over the final name only after all bytes arrived (and, with
``expected_sha256``, after the checksum matched), so a failure never leaves a partial file
under the final name; the temporary file is removed on failure. paramiko/OS errors
propagate to the caller, which translates them (``_ssh_errors.translate_sftp``).

Speed: files of at least ``_stream.STREAM_MIN`` bytes move as a plain stream over an exec
channel when the caller passes ``streams`` (about half the client CPU of SFTP; see
:mod:`remotejobs.transport._stream`), with SFTP only for the file operations around it.
Otherwise uploads are pipelined (writes are not acknowledged one by one) and downloads
prefetched with many requests in flight; with OpenSSH's sftp-server (which accepts
256 KiB messages) requests carry 255 KiB instead of paramiko's 32 KiB.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import posixpath
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import paramiko

from remotejobs.errors import TransferError
from remotejobs.transport._stream import STREAM_MIN, Digest, Streams

__all__ = ["download", "listdir", "makedirs", "upload"]

Progress = Callable[[int, int], None] | None

#: Request size for OpenSSH servers (their limit is 256 KiB per message, headers included).
_BIG_REQUEST = 255 * 1024
_PREFETCH_REQUESTS = 64


def _tune(fh: paramiko.SFTPFile, client: paramiko.SFTPClient) -> int:
    """Set the request size of ``fh``; returns it. Reads and writes are done in blocks of
    exactly this size: paramiko splits larger ones by copying the remainder each time."""
    if _is_openssh(client):
        fh.MAX_REQUEST_SIZE = _BIG_REQUEST
    return int(fh.MAX_REQUEST_SIZE)


def _is_openssh(client: paramiko.SFTPClient) -> bool:
    cached = getattr(client, "_rj_openssh", None)
    if cached is None:
        # OpenSSH's sftp-server accepts messages up to 256 KiB; others may not.
        cached = False
        channel = client.get_channel()
        transport = channel.get_transport() if channel is not None else None
        if transport is not None:
            cached = "OpenSSH" in (transport.remote_version or "")
        client._rj_openssh = cached  # type: ignore[attr-defined]
    return bool(cached)


def _temp_name(final: str) -> str:
    head, name = posixpath.split(final)
    return posixpath.join(head, f".{name}.part-{secrets.token_hex(6)}")


def _rename(client: paramiko.SFTPClient, src: str, dst: str) -> None:
    try:
        client.posix_rename(src, dst)
    except OSError:
        # servers without the posix-rename extension: plain rename refuses to overwrite
        with contextlib.suppress(FileNotFoundError):
            client.remove(dst)
        client.rename(src, dst)


def upload(
    client: paramiko.SFTPClient,
    local_path: str,
    remote_path: str,
    progress: Progress,
    expected_sha256: Callable[[str], str] | None = None,
    orphans: set[str] | None = None,
    streams: Streams | None = None,
) -> None:
    """Copy ``local_path`` to ``remote_path`` (absolute) atomically.

    ``expected_sha256(tmp_path)`` -- when given -- returns the remote digest of the temporary
    file; it must equal the local digest or TransferError (not transient) is raised.
    ``orphans`` collects the temporary file when a failure (a cut connection) also
    prevents removing it; :func:`remove_orphans` removes them on a later connection.
    With ``streams``, a file of at least ``STREAM_MIN`` bytes travels as a plain stream
    (:mod:`remotejobs.transport._stream`); everything else here is the same for both.
    """
    tmp = _temp_name(remote_path)
    with open(local_path, "rb") as src:
        size = os.fstat(src.fileno()).st_size
        mode = os.fstat(src.fileno()).st_mode & 0o777
        try:
            digest = hashlib.sha256() if expected_sha256 else None
            if not (streams is not None and size >= STREAM_MIN and streams.send(src, tmp, size, progress, digest)):
                src.seek(0)
                digest = hashlib.sha256() if expected_sha256 else None
                _write(client, src, tmp, size, progress, digest)
            if client.stat(tmp).st_size != size:
                raise TransferError(f"Upload of {local_path} to {remote_path} was incomplete",
                                    path=remote_path, transient=True)
            client.chmod(tmp, mode)
            if digest is not None and expected_sha256 is not None:
                remote = expected_sha256(tmp)
                if remote != digest.hexdigest():
                    raise TransferError(
                        f"Checksum mismatch uploading {local_path} to {remote_path} "
                        f"(local sha256 {digest.hexdigest()}, remote {remote})",
                        path=remote_path, transient=True)
            _rename(client, tmp, remote_path)
            if progress is not None and size == 0:
                progress(0, 0)
        except BaseException:
            try:
                client.remove(tmp)
            except FileNotFoundError:
                pass
            except Exception:  # noqa: BLE001 - the connection is gone: remove it next time
                if orphans is not None:
                    orphans.add(tmp)
            raise


def _write(client: paramiko.SFTPClient, src: io.BufferedIOBase, tmp: str, size: int, progress: Progress,
           digest: Digest | None) -> None:
    """The SFTP data path of :func:`upload`: pipelined writes of the server's largest request."""
    with client.open(tmp, "wb") as dst:
        block_size = _tune(dst, client)
        dst.set_pipelined(True)
        done = 0
        while block := src.read(block_size):
            dst.write(block)
            if digest is not None:
                digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done, size)


def remove_orphans(client: paramiko.SFTPClient, orphans: set[str]) -> None:
    """Remove the temporary files of earlier interrupted uploads (see :func:`upload`)."""
    for tmp in list(orphans):
        try:
            client.remove(tmp)
        except FileNotFoundError:
            pass
        except OSError:
            continue  # still unreachable or not ours to remove: try again next time
        orphans.discard(tmp)


def download(
    client: paramiko.SFTPClient,
    remote_path: str,
    local_path: str,
    progress: Progress,
    expected_sha256: Callable[[], str] | None = None,
    streams: Streams | None = None,
) -> None:
    """Copy ``remote_path`` (absolute) to ``local_path`` atomically (see :func:`upload`);
    a regular file of at least ``STREAM_MIN`` bytes travels as a plain stream."""
    target = Path(local_path)
    tmp = target.with_name(f".{target.name}.part-{secrets.token_hex(6)}")
    try:
        # created here, private (0600) and new (O_EXCL: never through a planted link); the
        # remote mode is applied only once all bytes arrived
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as dst:
            attrs = client.stat(remote_path)
            size = attrs.st_size or 0
            digest = hashlib.sha256() if expected_sha256 else None
            streamed = (streams is not None and size >= STREAM_MIN and stat.S_ISREG(attrs.st_mode or 0)
                        and streams.receive(remote_path, dst, size, progress, digest))
            if not streamed:
                digest = hashlib.sha256() if expected_sha256 else None
                size, attrs = _read(client, remote_path, dst, progress, digest)
        if attrs.st_mode is not None:
            os.chmod(tmp, stat.S_IMODE(attrs.st_mode))
        if digest is not None and expected_sha256 is not None:
            remote = expected_sha256()
            if remote != digest.hexdigest():
                raise TransferError(
                    f"Checksum mismatch downloading {remote_path} (remote sha256 {remote}, "
                    f"local {digest.hexdigest()})", path=remote_path, transient=True)
        os.replace(tmp, target)
        if progress is not None and size == 0:
            progress(0, 0)
    finally:
        tmp.unlink(missing_ok=True)


def _read(client: paramiko.SFTPClient, remote_path: str, dst: BinaryIO, progress: Progress,
          digest: Digest | None) -> tuple[int, paramiko.SFTPAttributes]:
    """The SFTP data path of :func:`download` (prefetched reads into ``dst``, from its
    start); the size and attributes."""
    dst.seek(0)
    dst.truncate()
    with client.open(remote_path, "rb") as src:
        block_size = _tune(src, client)
        attrs = src.stat()
        size = attrs.st_size or 0
        src.prefetch(size, max_concurrent_requests=_PREFETCH_REQUESTS)
        done = 0
        while done < size and (block := src.read(min(block_size, size - done))):
            dst.write(block)
            if digest is not None:
                digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done, size)
    if done != size:
        raise TransferError(f"Download of {remote_path} was incomplete ({done} of {size} bytes)",
                            path=remote_path, transient=True)
    return size, attrs


def listdir(client: paramiko.SFTPClient, remote_dir: str) -> list[str]:
    """Sorted names of regular files in ``remote_dir`` (symlinks followed)."""
    names = []
    for attr in client.listdir_attr(remote_dir):
        mode = attr.st_mode or 0
        if stat.S_ISLNK(mode):
            try:
                mode = client.stat(posixpath.join(remote_dir, attr.filename)).st_mode or 0
            except OSError:
                continue  # dangling link
        if stat.S_ISREG(mode):
            names.append(attr.filename)
    return sorted(names)


def makedirs(client: paramiko.SFTPClient, remote_dir: str) -> None:
    """``mkdir -p``: create missing components; an existing non-directory raises OSError."""
    missing: list[str] = []
    path = posixpath.normpath(remote_dir)
    while path not in ("/", "", "."):
        try:
            mode = client.stat(path).st_mode or 0
        except FileNotFoundError:
            missing.append(path)
            path = posixpath.dirname(path)
            continue
        if not stat.S_ISDIR(mode):
            raise NotADirectoryError(errno.ENOTDIR, f"{path} exists and is not a directory")
        break
    for component in reversed(missing):
        try:
            client.mkdir(component)
        except OSError:
            # a concurrent creator won the race: fine if it is a directory now
            if not stat.S_ISDIR(client.stat(component).st_mode or 0):
                raise
