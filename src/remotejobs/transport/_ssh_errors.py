"""Translation of paramiko and socket failures into remotejobs errors (SSH transport internals).

Contract: every function here returns (never raises) a :class:`~remotejobs.errors.RemoteJobsError`
for the caller to ``raise ... from exc``. Messages name the action, the remote side
(``user@host:port``) and what to do next; they never contain a password or passphrase
(callers pass only descriptions, never credentials).
"""

from __future__ import annotations

import socket

import paramiko

from remotejobs.errors import (
    AuthenticationError,
    OperationTimeoutError,
    RemoteJobsError,
    TransferError,
    TransportError,
)

__all__ = ["ConnectionLost", "is_connection_failure", "translate", "translate_sftp"]


class ConnectionLost(Exception):
    """Internal: the SSH connection (or the channel's transport) died during an operation.

    Raised inside the SSH modules only; :class:`~remotejobs.transport.ssh.SSHTransport`
    turns it into a retry (idempotent operations) or a transient TransportError.
    """


def is_connection_failure(exc: BaseException) -> bool:
    """True when ``exc`` means the connection itself is gone (worth a reconnect)."""
    return isinstance(
        exc, ConnectionLost | EOFError | ConnectionError | paramiko.SSHException
    ) and not isinstance(exc, paramiko.AuthenticationException | paramiko.BadHostKeyException)


def translate(exc: BaseException, action: str, where: str, user: str | None) -> RemoteJobsError:
    """Map a failure while ``action`` (e.g. "connecting") on ``where`` to a remotejobs error.

    socket timeouts -> OperationTimeoutError (transient); authentication failures ->
    AuthenticationError (not transient); DNS and refused connections -> TransportError
    (transient); anything else from paramiko/socket -> TransportError (transient).
    """
    if isinstance(exc, RemoteJobsError):
        return exc
    if isinstance(exc, TimeoutError | socket.timeout):
        return OperationTimeoutError(f"Timed out {action} {where}", user=user)
    if isinstance(exc, paramiko.AuthenticationException):
        return AuthenticationError(
            f"SSH authentication failed {action} {where}: {_safe(exc)}",
            user=user,
            hint="Check the user name, key file, password or ssh-agent",
        )
    if isinstance(exc, socket.gaierror):
        return TransportError(
            f"Cannot resolve the host name {action} {where}: {exc.strerror or exc}",
            user=user,
            transient=False,
            hint="Check the host setting (and HostName in the ssh config)",
        )
    if isinstance(exc, ConnectionRefusedError):
        return TransportError(
            f"Connection refused {action} {where}",
            user=user,
            hint="Check the host and port, and that sshd runs there; then retry",
        )
    if isinstance(exc, OSError) and not isinstance(exc, paramiko.SSHException):
        return TransportError(f"Network error {action} {where}: {exc.strerror or exc}", user=user)
    return TransportError(f"SSH failure {action} {where}: {_safe(exc)}", user=user)


def translate_sftp(exc: BaseException, action: str, path: str, where: str, user: str | None) -> RemoteJobsError:
    """Map a failure of a file operation on ``path`` to TransferError (or a connection error).

    Missing files and permission problems are not transient; connection losses map
    through :func:`translate` (transient TransportError).
    """
    if isinstance(exc, RemoteJobsError):
        return exc
    if isinstance(exc, FileNotFoundError):
        return TransferError(f"Cannot {action} {path} on {where}: no such file or directory",
                             path=path, user=user, transient=False)
    if isinstance(exc, PermissionError):
        return TransferError(f"Cannot {action} {path} on {where}: permission denied",
                             path=path, user=user, transient=False,
                             hint="Check the permissions of the file and its directory")
    if isinstance(exc, ConnectionLost | ConnectionError | EOFError | TimeoutError | paramiko.SSHException):
        inner = translate(exc, f"while {action} {path} on", where, user)
        if isinstance(inner, OperationTimeoutError):
            return inner
        return TransferError(f"Connection lost while {action} {path} on {where}: {_safe(exc)}",
                             path=path, user=user, transient=True)
    if isinstance(exc, OSError) and exc.errno is not None:
        return TransferError(f"Cannot {action} {path} on {where}: {exc.strerror or exc}",
                             path=path, user=user, transient=False)
    return TransferError(f"Cannot {action} {path} on {where}: {_safe(exc)}", path=path, user=user)


def _safe(exc: BaseException) -> str:
    """Text of a third-party exception (paramiko never puts credentials in its messages)."""
    text = str(exc).strip()
    return text or type(exc).__name__
