"""Shared SSH connections: one per (host, port, user[, jump path]) per process (internals).

:func:`acquire` returns the pooled :class:`Connection` for a target (opening it on first
use) and counts a reference; :func:`release` drops it, and the last release closes the
connection. A Connection reopens its paramiko Transport transparently when the old one
died (:meth:`Connection.transport`); whether an interrupted *operation* may be repeated
is the caller's decision.

Sharing never weakens checks: every acquirer's host key policy is applied to the
server's key, and an acquirer whose credentials differ from those already verified is
authenticated on a separate, short-lived connection first (so a wrong password fails even
when the user already has a connection).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import paramiko

from remotejobs.errors import TransportError
from remotejobs.transport._ssh_auth import Credentials, Target, authenticate
from remotejobs.transport._ssh_errors import ConnectionLost, translate
from remotejobs.transport._ssh_hostkeys import HostKeyPolicy, check_host_key, preferred_key_types
from remotejobs.transport._ssh_shell import ShellChannel

__all__ = ["Connection", "HostKeySettings", "acquire", "release"]

#: Flow-control window and largest packet we accept: big enough that loopback transfers
#: are not throttled by window updates (paramiko's defaults are 2 MB / 32 KB).
WINDOW_SIZE = 64 << 20
MAX_PACKET = 1 << 18
#: Ciphers offered first, where the server supports them: AES-GCM (RFC 5647, OpenSSH's
#: ``aes128-gcm@openssh.com``, part of its default cipher list, see ssh_config(5) Ciphers)
#: authenticates inside the cipher, so no separate HMAC runs over every packet -- the
#: largest per-packet cost of paramiko's AES-CTR + hmac-sha2-256 on this path (measured in
#: docs/benchmarks.md, "Transfers"). The rest of paramiko's list follows unchanged.
AEAD_FIRST = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
MAX_SHELLS = 4
MAX_SFTP = 4
KEEPALIVE_S = 30


@dataclass(frozen=True)
class HostKeySettings:
    known_hosts: str | None
    policy: HostKeyPolicy
    connect_timeout: float


def cipher_order(available: tuple[str, ...]) -> tuple[str, ...]:
    """``available`` (paramiko's ciphers) with those of :data:`AEAD_FIRST` it has first."""
    first = tuple(c for c in AEAD_FIRST if c in available)
    return first + tuple(c for c in available if c not in first)


def _open_transport(
    target: Target, creds: Credentials, hk: HostKeySettings, jump: Connection | None
) -> paramiko.Transport:
    """Connect, check the host key (before any credential is sent), authenticate."""
    where = f"{target.hostname}:{target.port}"
    timeout = hk.connect_timeout
    sock: socket.socket | paramiko.Channel
    try:
        if jump is not None:
            sock = jump.transport().open_channel(
                "direct-tcpip", (target.hostname, target.port), ("127.0.0.1", 0), timeout=timeout
            )
        else:
            sock = socket.create_connection((target.hostname, target.port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, paramiko.SSHException, EOFError, ConnectionLost) as exc:
        raise translate(exc, "connecting to", where, target.user) from exc
    t = paramiko.Transport(sock, default_window_size=WINDOW_SIZE, default_max_packet_size=MAX_PACKET)
    try:
        t.banner_timeout = timeout
        t.handshake_timeout = timeout
        t.auth_timeout = max(timeout, 120.0) if creds.interactive_handler else timeout
        opts = t.get_security_options()
        opts.key_types = preferred_key_types(target.known_hosts_name, hk.known_hosts, tuple(opts.key_types))
        opts.ciphers = cipher_order(tuple(opts.ciphers))
        t.start_client(timeout=timeout)
        check_host_key(t.get_remote_server_key(), target.known_hosts_name, target.hostname,
                       target.port, hk.known_hosts, hk.policy)
        authenticate(t, target, creds)
        t.set_keepalive(KEEPALIVE_S)
    except BaseException as exc:
        t.close()
        if isinstance(exc, Exception):
            raise translate(exc, "connecting to", where, target.user) from exc
        raise
    return t


class Connection:
    """One shared SSH connection and its idle shell and SFTP channels (thread-safe)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.refs = 0
        self.generation = 0
        self._lock = threading.RLock()  # (re)connecting
        self._cond = threading.Condition()  # channel pools
        self._transport: paramiko.Transport | None = None
        self._creds: Credentials | None = None
        self._hostkeys: HostKeySettings | None = None
        self._verified: set[tuple[bytes, tuple[str, ...]]] = set()  # (credentials, identity files)
        self._jump: Connection | None = None
        self._shells: list[ShellChannel] = []
        self._shell_count = 0
        self._sftps: list[tuple[int, paramiko.SFTPClient]] = []
        self._sftp_count = 0
        self.shell_works = True
        #: False once the remote side could not run the byte stream of big transfers
        #: (``_stream``): they then go through SFTP.
        self.stream_works = True
        self.closed = False

    # -- connecting ---------------------------------------------------------------
    def admit(self, creds: Credentials, hk: HostKeySettings, target: Target | None = None) -> None:
        """Connect if needed, apply ``hk`` to the server key, verify ``creds``. Raises RemoteJobsError.

        ``target`` is the caller's own view of the host (same pool key, but its own
        ``identity_files`` and jumps from its ssh_config): credentials are verified with it,
        not with whatever the connection's first user had configured. A connection that died
        while others held it is reopened (as :meth:`transport` does) before the check."""
        with self._lock:
            if self._transport is None:
                self._creds, self._hostkeys = creds, hk
                self._connect()
                self._verified.add((creds.fingerprint(), self.target.identity_files))
                return
            t = self.transport()  # a connection that died meanwhile is reopened first
            target = target or self.target
            check_host_key(t.get_remote_server_key(), target.known_hosts_name, target.hostname,
                           target.port, hk.known_hosts, hk.policy)
            fingerprint = (creds.fingerprint(), target.identity_files)
            if fingerprint not in self._verified:
                jump = acquire(target.jumps[-1], creds.for_jump_host(), hk) if target.jumps else None
                try:
                    _open_transport(target, creds, hk, jump).close()
                finally:
                    if jump is not None:
                        release(jump)
                self._verified.add(fingerprint)

    def _connect(self) -> None:
        assert self._creds is not None and self._hostkeys is not None
        target = self.target
        if target.jumps and self._jump is None:
            self._jump = acquire(target.jumps[-1], self._creds.for_jump_host(), self._hostkeys)
        self._transport = _open_transport(target, self._creds, self._hostkeys, self._jump)
        self.generation += 1

    def transport(self) -> paramiko.Transport:
        """The live paramiko Transport, reconnecting if the previous one died.

        :raises TransportError: (or a subclass) when reconnecting fails.
        """
        with self._lock:
            if self.closed:
                raise TransportError(f"The connection to {self.target.description} is closed",
                                     transient=False, hint="Log in again")
            t = self._transport
            if t is not None and t.is_active():
                return t
            if t is not None:
                t.close()
            self._drop_channels()
            self._connect()
            assert self._transport is not None
            return self._transport

    def mark_dead(self, generation: int) -> None:
        """The caller saw the connection of ``generation`` fail: reconnect on next use."""
        with self._lock:
            if self.generation == generation and self._transport is not None:
                self._transport.close()

    @property
    def paramiko_transport(self) -> paramiko.Transport | None:
        """The current paramiko Transport (no reconnect), for diagnostics and tests."""
        return self._transport

    # -- channel pools --------------------------------------------------------------
    @contextlib.contextmanager
    def shell(self, timeout: float) -> Iterator[ShellChannel]:
        """Check out a long-lived shell (opening one if fewer than MAX_SHELLS exist)."""
        t = self.transport()
        gen = self.generation
        shell: ShellChannel | None = None
        with self._cond:
            while shell is None:
                while self._shells:
                    candidate = self._shells.pop()
                    if candidate.generation == gen and candidate.usable:
                        shell = candidate
                        break
                    candidate.close()
                    self._shell_count -= 1
                if shell is None and self._shell_count < MAX_SHELLS:
                    self._shell_count += 1
                    break
                if shell is None and not self._cond.wait(timeout):
                    raise TransportError(f"No free shell channel to {self.target.description}")
        if shell is None:
            try:
                shell = ShellChannel.open(t, gen, timeout)
            except BaseException:
                with self._cond:
                    self._shell_count -= 1
                    self._cond.notify()
                raise
        try:
            yield shell
        finally:
            with self._cond:
                if shell.usable and shell.generation == self.generation and not self.closed:
                    self._shells.append(shell)
                else:
                    shell.close()
                    self._shell_count -= 1
                self._cond.notify()

    @contextlib.contextmanager
    def sftp(self) -> Iterator[paramiko.SFTPClient]:
        """Check out an SFTP session (one per concurrent user, at most MAX_SFTP kept idle)."""
        t = self.transport()
        gen = self.generation
        client: paramiko.SFTPClient | None = None
        with self._cond:
            while self._sftps and client is None:
                cgen, candidate = self._sftps.pop()
                if cgen == gen and not candidate.sock.closed:
                    client = candidate
                else:
                    candidate.close()
        if client is None:
            client = paramiko.SFTPClient.from_transport(
                t, window_size=WINDOW_SIZE, max_packet_size=MAX_PACKET
            )
            if client is None:
                raise ConnectionLost("could not open an SFTP session")
        healthy = False
        try:
            yield client
            healthy = True
        finally:
            with self._cond:
                keep = healthy and gen == self.generation and not self.closed
                if keep and len(self._sftps) < MAX_SFTP:
                    self._sftps.append((gen, client))
                else:
                    client.close()

    def _drop_channels(self) -> None:
        with self._cond:
            for shell in self._shells:
                shell.close()
            self._shell_count -= len(self._shells)
            self._shells.clear()
            for _, client in self._sftps:
                client.close()
            self._sftps.clear()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._drop_channels()
            if self._transport is not None:
                self._transport.close()
                self._transport = None
            if self._jump is not None:
                release(self._jump)
                self._jump = None


_POOL: dict[tuple[object, ...], Connection] = {}
_POOL_LOCK = threading.Lock()


def acquire(target: Target, creds: Credentials, hk: HostKeySettings) -> Connection:
    """The shared connection for ``target`` (connected, checked, credentials verified).

    :raises HostKeyError, AuthenticationError, TransportError: as in :func:`_open_transport`.
    """
    with _POOL_LOCK:
        conn = _POOL.get(target.pool_key)
        if conn is None:
            conn = _POOL[target.pool_key] = Connection(target)
        conn.refs += 1
    try:
        conn.admit(creds, hk, target)
    except BaseException:
        release(conn)
        raise
    return conn


def release(conn: Connection) -> None:
    """Drop one reference; the last one closes the connection."""
    with _POOL_LOCK:
        conn.refs -= 1
        last = conn.refs <= 0
        if last and _POOL.get(conn.target.pool_key) is conn:
            del _POOL[conn.target.pool_key]
    if last:
        conn.close()
