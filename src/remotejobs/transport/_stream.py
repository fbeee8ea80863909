"""Big files as a plain byte stream over one SSH exec channel (internals of the SSH transport).

Why: with paramiko, the client's cost of a transfer is its per-packet work in Python, and
SFTP adds its own framing and copies on top of the SSH packets. A plain stream -- the
remote side runs ``cat`` -- moves the same bytes with about half the client CPU of the
SFTP path (measured in docs/benchmarks.md, "Transfers"). :func:`send` and :func:`receive`
move the bytes only; :mod:`remotejobs.transport._sftp` keeps everything that makes a
transfer safe (temporary name, size check, mode, checksum, rename, cleanup, orphans).

Safety of the stream itself:

* The command is built from an argv list quoted with :func:`shlex.join`; the path is a
  positional parameter of a fixed ``sh -c`` script, never part of the script.
* Upload: the temporary file is created by the remote shell with ``umask 077`` (mode
  0600) and ``set -C`` (noclobber: an existing file or a planted link is not written
  through); a failure of ``cat`` (disk full, permission) is a TransferError carrying its
  message, not transient.
* Download: exactly the size the caller stat-ed is accepted; fewer bytes (the file
  shrank, the connection was cut) or more (it grew) fail the transfer.
* A remote side where the stream cannot run (no ``sh``/``cat``: exit status 126 or 127)
  raises :class:`StreamUnavailable`, and the caller falls back to SFTP.
"""

from __future__ import annotations

import io
import shlex
from collections.abc import Callable
from typing import BinaryIO, Protocol

import paramiko

from remotejobs.errors import TransferError
from remotejobs.transport._ssh_errors import ConnectionLost

__all__ = ["STREAM_MIN", "Digest", "StreamUnavailable", "Streams", "receive", "send", "stderr_text"]

#: Files of at least this size are streamed; smaller ones go through SFTP (no process
#: is started on the remote side for them).
STREAM_MIN = 1 << 20
#: Bytes read from the local file (upload) or asked of the channel (download) at a time.
_BLOCK = 1 << 20
_RECEIVE = 'umask 077 && set -C && exec cat > "$1"'
#: Bytes of the remote command's stderr kept for an error message.
_STDERR_MAX = 4096
_NOT_RUNNABLE = frozenset({126, 127})

Progress = Callable[[int, int], None] | None


class Digest(Protocol):
    """What a running checksum (``hashlib.sha256()``) offers."""

    def update(self, data: bytes | memoryview, /) -> None: ...


class StreamUnavailable(Exception):
    """The remote side cannot run the stream command; use SFTP instead."""


def _open(transport: paramiko.Transport, argv: list[str], timeout: float) -> paramiko.Channel:
    chan = transport.open_session(timeout=timeout)
    chan.settimeout(timeout)
    chan.exec_command(shlex.join(argv))
    return chan


def _status(chan: paramiko.Channel, timeout: float) -> tuple[int, str]:
    """The remote command's exit status and stderr. :raises ConnectionLost: none came."""
    if not chan.status_event.wait(timeout):
        raise ConnectionLost(f"no exit status from the remote side within {timeout} s")
    status = chan.recv_exit_status()
    if status == -1:  # paramiko's "closed without one": the connection was cut
        raise ConnectionLost("the channel closed without an exit status")
    return status, stderr_text(chan)


def stderr_text(chan: paramiko.Channel) -> str:
    """The remote command's stderr for an error message: read up to its end (it may come
    after the exit status) but at most ``_STDERR_MAX`` bytes (a hostile server's endless
    stderr is not all read); its first 500 characters."""
    err = bytearray()
    while len(err) < _STDERR_MAX and (data := chan.recv_stderr(_STDERR_MAX - len(err))):
        err += data
    return err.decode(errors="replace").strip()[:500]


def send(transport: paramiko.Transport, source: io.BufferedIOBase, remote_tmp: str, size: int,
         progress: Progress, digest: Digest | None, timeout: float) -> None:
    """Write ``source`` (from its current position) to the new file ``remote_tmp``.

    :raises StreamUnavailable: the remote side cannot run ``sh``/``cat``.
    :raises TransferError: the remote ``cat`` failed (its message; not transient).
    :raises ConnectionLost: (or a paramiko/socket error) the connection failed.
    """
    chan = _open(transport, ["sh", "-c", _RECEIVE, "sh", remote_tmp], timeout)
    try:
        buf = bytearray(_BLOCK)
        view = memoryview(buf)
        done = 0
        try:
            while n := source.readinto(buf):
                chunk = view[:n]
                # a memoryview: paramiko (Message.add_string) takes it as is and slices it
                # without copying, where bytes would be copied for every packet
                chan.sendall(chunk)  # type: ignore[arg-type]
                if digest is not None:
                    digest.update(chunk)
                done += n
                if progress is not None:
                    progress(done, size)
            chan.shutdown_write()
        except OSError:
            if not chan.exit_status_ready():
                raise
            # the remote side stopped reading: its exit status says why
        status, err = _status(chan, timeout)
        if status in _NOT_RUNNABLE:
            raise StreamUnavailable(err or f"exit status {status}")
        if status != 0:
            raise TransferError(f"Writing {remote_tmp} failed (exit status {status}): {err}",
                                path=remote_tmp, transient=False,
                                hint="Free space on the remote file system" if "space" in err.lower() else None)
        if done != size:
            raise TransferError(f"The local file changed size while it was uploaded ({done} of {size} bytes)",
                                path=remote_tmp, transient=True)
    finally:
        chan.close()


def receive(transport: paramiko.Transport, remote_path: str, target: BinaryIO, size: int,
            progress: Progress, digest: Digest | None, timeout: float) -> None:
    """Write the ``size`` bytes of the remote regular file ``remote_path`` to ``target``.

    :raises StreamUnavailable: the remote side cannot run ``cat``.
    :raises TransferError: ``cat`` failed (its message), or the file changed size.
    :raises ConnectionLost: the connection failed before all bytes came (retry).
    """
    chan = _open(transport, ["cat", "--", remote_path], timeout)
    try:
        chan.shutdown_write()
        done = 0
        # Ask for all that is left: paramiko's channel buffer hands out everything it holds
        # without moving it, while a smaller read shifts the rest of its (up to window-sized)
        # buffer each time -- quadratic when the reader falls behind.
        while data := chan.recv(max(size - done, _BLOCK)):
            keep = min(len(data), size - done)
            if keep < len(data):
                # more than the file held when it was stat-ed (it grew, or the server sends
                # without end): refused at once, nothing more is read
                raise TransferError(f"{remote_path} changed size while it was downloaded "
                                    f"(more than the {size} bytes expected)", path=remote_path, transient=True)
            target.write(data)
            if digest is not None:
                digest.update(data)
            done += keep
            if progress is not None:
                progress(done, size)
        active = transport.is_active()
        if done < size and not active:
            raise ConnectionLost(f"the connection closed after {done} of {size} bytes")
        status, err = _status(chan, timeout)
        if status in _NOT_RUNNABLE:
            raise StreamUnavailable(err or f"exit status {status}")
        if status != 0:
            raise TransferError(f"Reading {remote_path} failed (exit status {status}): {err}",
                                path=remote_path, transient=False)
        if done != size:
            raise TransferError(f"{remote_path} changed size while it was downloaded "
                                f"({done} bytes, {size} expected)", path=remote_path, transient=True)
    finally:
        chan.close()


class Streams:
    """The stream route of one connection for :mod:`remotejobs.transport._sftp`.

    ``send``/``receive`` return False (and call ``disable`` once) when the remote side
    cannot run the stream, so that the caller moves the file over SFTP instead.
    """

    def __init__(self, transport: paramiko.Transport, timeout: float, disable: Callable[[], None]) -> None:
        self.transport, self.timeout, self._disable = transport, timeout, disable

    def send(self, source: io.BufferedIOBase, remote_tmp: str, size: int, progress: Progress,
             digest: Digest | None) -> bool:
        """:func:`send`; False when the stream cannot run there."""
        try:
            send(self.transport, source, remote_tmp, size, progress, digest, self.timeout)
        except StreamUnavailable:
            self._disable()
            return False
        return True

    def receive(self, remote_path: str, target: BinaryIO, size: int, progress: Progress,
                digest: Digest | None) -> bool:
        """:func:`receive`; False when the stream cannot run there (``target`` is rewound)."""
        try:
            receive(self.transport, remote_path, target, size, progress, digest, self.timeout)
        except StreamUnavailable:
            self._disable()
            target.seek(0)
            target.truncate()
            return False
        return True
