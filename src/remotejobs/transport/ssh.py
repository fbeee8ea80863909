"""The SSH transport: commands and files for one user on one host, over paramiko.

Import this module only when SSH is needed; it is the only place (with its private
``_ssh_*``/``_sftp`` helpers) that imports paramiko.

Design (details in docs/ssh.md):

* One connection per (host, port, user) per process, shared by every transport object
  and thread (``_ssh_pool``), TCP_NODELAY set, reopened transparently after a drop.
* Commands run as ``shlex.join(argv)`` lines in a long-lived remote ``/bin/sh``
  (``_ssh_shell.ShellChannel``, no channel per command; cost: docs/benchmarks.md);
  up to four shells serve concurrent threads; exec channels are the fallback.
* After a dropped connection an idempotent operation is repeated once on a fresh
  connection; ``run(..., idempotent=False)`` is not repeated when the command may have
  started: it raises TransportError(transient=True) saying the outcome is unknown.
"""

from __future__ import annotations

import errno
import os
import posixpath
import shlex
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

import paramiko

from remotejobs.errors import OperationTimeoutError, RemoteJobsError, TransferError, TransportError
from remotejobs.transport import _sftp, _stream, _tarstream
from remotejobs.transport._ssh_auth import Credentials, InteractiveHandler, resolve_target
from remotejobs.transport._ssh_errors import ConnectionLost, is_connection_failure, translate_sftp
from remotejobs.transport._ssh_pool import Connection, HostKeySettings, acquire, release
from remotejobs.transport._ssh_shell import MAX_SHELL_STDIN, CommandLost, ShellBroken, exec_once
from remotejobs.transport.base import CommandResult, CommandTransport, ProgressCallback, transfer_progress

__all__ = ["InteractiveHandler", "SSHTransport"]

T = TypeVar("T")
_ATTEMPTS = 3
_LOCAL_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


class SSHTransport(CommandTransport):
    """Runs commands and moves files as one user on one host over SSH.

    Nothing is connected until the first operation (or :meth:`connect`).
    Errors: AuthenticationError (not transient), HostKeyError (not transient),
    OperationTimeoutError (transient), TransportError (transient unless stated),
    TransferError (with ``path``) -- all chained from the paramiko/socket cause.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        key_file: str | None = None,
        known_hosts: str | None = None,
        host_key_policy: Literal["reject", "accept-new"] = "reject",
        ssh_config: str | None = None,
        use_agent: bool = True,
        connect_timeout: float = 15.0,
        command_timeout: float = 120.0,
        passphrase: str | None = None,
        interactive_handler: InteractiveHandler | None = None,
    ) -> None:
        try:
            self._target = resolve_target(host, port, username, ssh_config)
        except (OSError, ValueError) as exc:
            raise TransportError(f"Cannot read the ssh config for {host}: {exc}", transient=False) from exc
        self._creds = Credentials(password=password, key_file=key_file, passphrase=passphrase,
                                  use_agent=use_agent, interactive_handler=interactive_handler)
        self._hostkeys = HostKeySettings(known_hosts, host_key_policy, connect_timeout)
        self.command_timeout = command_timeout
        self.connect_timeout = connect_timeout
        self.user = self._target.user
        self.description = self._target.description
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._home: str | None = None
        self._finalizer: weakref.finalize[..., SSHTransport] | None = None
        #: Temporary files of interrupted uploads, removed by the next upload.
        self._orphans: set[str] = set()

    def __repr__(self) -> str:
        return f"SSHTransport({self.description!r})"

    # -- connection -------------------------------------------------------------------
    def connect(self) -> Connection:
        """Join (or open) the shared connection; idempotent. Raises as described above."""
        with self._lock:
            if self._conn is None:
                conn = acquire(self._target, self._creds, self._hostkeys)
                self._conn = conn
                self._finalizer = weakref.finalize(self, release, conn)
            return self._conn

    def close(self) -> None:
        """Release this object's share of the connection (the last user closes it)."""
        with self._lock:
            if self._finalizer is not None:
                self._finalizer()  # calls release(conn) exactly once
            self._conn, self._finalizer = None, None

    def _with_retry(self, action: str, op: Callable[[Connection], T], *, idempotent: bool = True) -> T:
        last: BaseException | None = None
        for _ in range(_ATTEMPTS):
            conn = self.connect()
            gen = conn.generation
            try:
                return op(conn)
            except CommandLost as exc:
                conn.mark_dead(gen)
                if exc.sent and not idempotent:
                    raise TransportError(
                        f"The connection to {self.description} was lost while {action}; "
                        "the outcome is unknown",
                        user=self.user,
                        hint="Check whether it took effect before trying again",
                    ) from exc
                last = exc
            except ConnectionLost as exc:
                conn.mark_dead(gen)
                last = exc
            except RemoteJobsError:
                raise
            except Exception as exc:
                transport = conn.paramiko_transport
                dead = transport is None or not transport.is_active()
                if not idempotent or not (dead or is_connection_failure(exc)):
                    raise
                conn.mark_dead(gen)
                last = exc
        raise TransportError(f"The connection to {self.description} kept failing while {action}",
                             user=self.user) from last

    # -- commands -----------------------------------------------------------------------
    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: str | None = None,
        timeout: float | None = None,
        idempotent: bool = True,
    ) -> CommandResult:
        """Run ``argv`` remotely (items quoted with shlex, never shell-interpreted).

        Returns the result for any exit status. Raises OperationTimeoutError after
        ``timeout`` (default ``command_timeout``) seconds, TransportError (transient) when
        the connection fails; see the module docstring for the retry rule.
        """
        args = tuple(str(a) for a in argv)
        if not args:
            raise TransportError("Cannot run an empty command", transient=False)
        line = shlex.join(args)
        data = stdin.encode() if stdin is not None else None
        limit = timeout if timeout is not None else self.command_timeout

        def attempt(conn: Connection) -> tuple[int, bytes, bytes]:
            if conn.shell_works and (data is None or len(data) <= MAX_SHELL_STDIN):
                try:
                    with conn.shell(min(limit, self.connect_timeout)) as shell:
                        if data is None or shell.has_base64:
                            return shell.execute(line, data, limit)
                except ShellBroken as exc:
                    if exc.sent and not idempotent:
                        raise CommandLost(str(exc), sent=True) from exc
                    conn.shell_works = False
            return exec_once(conn.transport(), line, data, limit)

        try:
            status, out, err = self._with_retry(f"running {args[0]!r}", attempt, idempotent=idempotent)
        except OperationTimeoutError as exc:
            raise OperationTimeoutError(
                f"Command {args[0]!r} on {self.description} timed out after {limit} s",
                user=self.user, hint="Raise the timeout, or check the remote host's load",
            ) from exc
        return CommandResult(argv=args, exit_status=status, stdout=out.decode(errors="replace"),
                             stderr=err.decode(errors="replace"))

    def home(self) -> str:
        """The remote home directory (asked once, then cached)."""
        if self._home is None:
            home = super().home()
            if not home.startswith("/"):
                home = self._sftp("resolving the home directory", "~", lambda c: c.normalize("."))
            self._home = home
        return self._home

    def _abs(self, path: str) -> str:
        if path.startswith("/"):
            return path
        if path == "~" or path.startswith("~/"):
            path = path[2:]
        return posixpath.join(self.home(), path)

    # -- files --------------------------------------------------------------------------
    def _sftp(self, action: str, path: str, op: Callable[[paramiko.SFTPClient], T]) -> T:
        return self._transfer(action, path, lambda client, _streams: op(client))

    def _transfer(self, action: str, path: str,
                  op: Callable[[paramiko.SFTPClient, _stream.Streams | None], T]) -> T:
        """Run ``op`` with an SFTP session and (where the remote side can run it) the stream
        route of the same connection; errors translated into TransferError."""
        def attempt(conn: Connection) -> T:
            with conn.sftp() as client:
                streams = None
                if conn.stream_works:
                    streams = _stream.Streams(conn.transport(), self.command_timeout,
                                              lambda: setattr(conn, "stream_works", False))
                return op(client, streams)

        try:
            return self._with_retry(f"{action} {path}", attempt)
        except TransferError as exc:
            if exc.user is not None:
                raise
            raise TransferError(f"Cannot {action} {path} on {self.description}: {exc.message}",
                                path=path, user=self.user, transient=exc.transient, hint=exc.hint) from exc
        except TransportError as exc:
            raise TransferError(f"Cannot {action} {path} on {self.description}: {exc.message}",
                                path=path, user=self.user, transient=exc.transient) from exc
        except Exception as exc:
            raise translate_sftp(exc, action, path, self.description, self.user) from exc

    def _remote_sha256(self, path: str) -> str:
        result = self.run(["sha256sum", "--", path])
        if result.exit_status != 0:
            raise TransferError(f"Cannot checksum {path} on {self.description}: {result.output}",
                                path=path, user=self.user)
        return result.stdout.split(" ", 1)[0].lstrip("\\")

    def put(self, local_path: str, remote_path: str, *, progress: ProgressCallback | None = None,
            verify: bool = False) -> None:
        """Upload atomically (temporary name, then rename); ``verify`` compares sha256 sums.

        :raises TransferError: with ``path`` (local file unreadable, remote not writable,
            checksum mismatch, connection lost -- then transient).
        """
        target = self._abs(remote_path)
        checker = self._remote_sha256 if verify else None
        progress = progress or transfer_progress.get()
        try:
            with open(local_path, "rb"):
                pass
        except OSError as exc:
            raise TransferError(f"Cannot read {local_path}: {exc.strerror or exc}", path=local_path,
                                user=self.user) from exc
        def op(client: paramiko.SFTPClient, streams: _stream.Streams | None) -> None:
            _sftp.remove_orphans(client, self._orphans)
            _sftp.upload(client, local_path, target, progress, checker, self._orphans, streams)

        self._transfer("upload to", target, op)

    def get(self, remote_path: str, local_path: str, *, progress: ProgressCallback | None = None,
            verify: bool = False) -> None:
        """Download atomically (temporary local name, then rename); see :meth:`put`."""
        source = self._abs(remote_path)
        checker = (lambda: self._remote_sha256(source)) if verify else None
        progress = progress or transfer_progress.get()

        def op(client: paramiko.SFTPClient, streams: _stream.Streams | None) -> None:
            try:
                _sftp.download(client, source, local_path, progress, checker, streams)
            except OSError as exc:
                # local side: an error naming a file, or one only a local write gives (paramiko
                # maps no SFTP status to these): a full disk is no reason to retry
                if exc.filename is not None or exc.filename2 is not None or exc.errno in _LOCAL_WRITE_ERRNOS:
                    raise TransferError(f"Cannot write {local_path}: {exc.strerror or exc}",
                                        path=local_path, user=self.user,
                                        hint="Free space on the local disk or download somewhere else"
                                        if exc.errno in _LOCAL_WRITE_ERRNOS else None) from exc
                raise

        self._transfer("download", source, op)

    def put_many(self, local_paths: Sequence[str], remote_dir: str) -> list[str]:
        """Upload the files into ``remote_dir`` in ONE round trip: a tar stream through one
        channel (see :mod:`remotejobs.transport._tarstream`); each file appears whole or
        not at all.

        :raises TransferError: a local file unreadable or not a regular file, two with the
            same base name, or the remote ``tar`` failed (its message).
        """
        target = self._abs(remote_dir)
        for path in local_paths:
            if not os.path.isfile(path):
                raise TransferError(f"Cannot read {path}: not a regular file", path=path, user=self.user)
        progress = transfer_progress.get()
        return self._files("upload to", target, lambda t: _tarstream.upload_files(
            t, local_paths, target, self.command_timeout, progress))

    def get_many(self, remote_dir: str, names: Sequence[str], local_dir: str) -> list[str]:
        """Download the named files of ``remote_dir`` in ONE round trip (a tar stream, each
        member checked and extracted with tarfile's ``data`` filter; see
        :mod:`remotejobs.transport._tarstream`). Each file appears under its final name
        only once the whole archive arrived.

        :raises TransferError: a name that is not a plain file name, a missing file, or an
            archive holding anything but the regular files asked for.
        """
        source = self._abs(remote_dir)
        progress = transfer_progress.get()
        paths = self._files("download", source, lambda t: _tarstream.download_files(
            t, source, names, local_dir, self.command_timeout, progress))
        return [str(p) for p in paths]

    def _files(self, action: str, path: str, op: Callable[[paramiko.Transport], T]) -> T:
        try:
            return self._with_retry(f"{action} {path}", lambda conn: op(conn.transport()))
        except TransferError as exc:
            if exc.user is not None:
                raise
            raise TransferError(f"Cannot {action} {path} on {self.description}: {exc.message}",
                                path=exc.path or path, user=self.user, transient=exc.transient,
                                hint=exc.hint) from exc
        except TransportError as exc:
            raise TransferError(f"Cannot {action} {path} on {self.description}: {exc.message}",
                                path=path, user=self.user, transient=exc.transient) from exc
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise TransferError(f"Cannot {action} {path} on {self.description}: {exc}", path=path,
                                user=self.user, transient=True) from exc

    def listdir(self, remote_dir: str) -> list[str]:
        """Sorted names of the regular files in ``remote_dir`` (symlinks followed)."""
        path = self._abs(remote_dir)
        return self._sftp("list", path, lambda c: _sftp.listdir(c, path))

    def makedirs(self, remote_dir: str) -> None:
        """``mkdir -p`` over SFTP."""
        path = self._abs(remote_dir)
        self._sftp("create directory", path, lambda c: _sftp.makedirs(c, path))
