"""Command execution over SSH channels (SSH transport internals).

Two ways to run one quoted command line (``shlex.join(argv)``):

* :class:`ShellChannel` -- a long-lived ``/bin/sh`` on its own session channel. Each
  command is written as ``( LINE ) </dev/null`` (a subshell, so ``exit``/``cd``/``exec``
  behave as under ``sh -c``), or, with stdin, ``printf %s 'BASE64' | base64 -d | ( LINE )``
  (so stdin is delivered byte for byte and can never be read as shell input; a
  here-document was measured 10x slower in dash). Then the shell prints
  a fresh random end marker on stderr and ``marker status`` on stdout; the reader splits
  the two streams at those markers. No channel is opened per command.
* :func:`exec_once` -- the fallback: one ``exec`` channel per command (slower; the cost
  of the default is measured in docs/benchmarks.md, the reasons are in docs/ssh.md).

Contract of both: return ``(exit_status, stdout_bytes, stderr_bytes)``; raise
:class:`OperationTimeoutError` when the deadline passes (a ShellChannel is then
closed and must not be reused), :class:`ShellBroken` when the channel misbehaves while
the connection looks alive, and :class:`ConnectionLost` (``sent`` says whether the
command may have started) when the connection is gone.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import select
import time

import paramiko

from remotejobs.errors import OperationTimeoutError
from remotejobs.transport._ssh_errors import ConnectionLost

__all__ = ["CommandLost", "ShellBroken", "ShellChannel", "exec_once"]

_READ = 1 << 16
#: stdin larger than this goes through an exec channel (base64 on the command line
#: costs 4/3 of the size in the shell's memory).
MAX_SHELL_STDIN = 1 << 20


class CommandLost(ConnectionLost):
    """The connection died; ``sent`` is True when the command may have reached the server."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class ShellBroken(Exception):
    """The long-lived shell did not follow the protocol (closed, garbage, missing tool)."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


def _remaining(deadline: float, what: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise OperationTimeoutError(f"{what} timed out")
    return left


class ShellChannel:
    """One long-lived remote ``/bin/sh`` (not thread-safe: one user at a time).

    ``generation`` tags the connection it was opened on; ``usable`` turns False after a
    timeout or protocol error, and the owner must then :meth:`close` it.
    """

    def __init__(self, channel: paramiko.Channel, generation: int) -> None:
        self._chan = channel
        self._fd = channel.fileno()  # a pipe set readable when stdout or stderr has data
        self.generation = generation
        self.usable = True
        self.has_base64 = False

    @classmethod
    def open(cls, transport: paramiko.Transport, generation: int, timeout: float) -> ShellChannel:
        """Open the channel and check that the shell answers. Raises ConnectionLost/ShellBroken."""
        try:
            chan = transport.open_session(timeout=timeout)
            chan.exec_command("exec /bin/sh")
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise CommandLost(f"could not open a shell channel: {exc}", sent=False) from exc
        shell = cls(chan, generation)
        status, _, _ = shell.execute("command -v base64 >/dev/null 2>&1", None, timeout, probe=True)
        shell.has_base64 = status == 0
        return shell

    def execute(
        self, line: str, stdin: bytes | None, timeout: float, *, probe: bool = False
    ) -> tuple[int, bytes, bytes]:
        """Run one quoted command line; see the module contract."""
        token = secrets.token_hex(16)
        out_mark, err_mark = f"RJO{token}".encode(), f"RJE{token}".encode()
        body = line if probe else f"( {line} )"
        if stdin is None:
            script = f"{body} </dev/null\n"
        else:
            if not self.has_base64:
                raise ShellBroken("base64 is not available on the remote side", sent=False)
            # printf is a shell builtin (no argument-size limit); base64 text has no quote
            script = f"printf %s '{base64.b64encode(stdin).decode()}' | base64 -d | {body}\n"
        script += (
            f"__rj_status=$?; printf '\\n%s\\n' {err_mark.decode()} >&2; "
            f"printf '\\n%s %s\\n' {out_mark.decode()} \"$__rj_status\"\n"
        )
        deadline = time.monotonic() + timeout
        try:
            self._chan.settimeout(timeout)
            self._chan.sendall(script.encode())
        except TimeoutError as exc:
            self.usable = False
            raise OperationTimeoutError(f"Sending the command timed out after {timeout} s") from exc
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.usable = False
            raise CommandLost(f"connection lost while sending the command: {exc}", sent=True) from exc
        try:
            return self._collect(out_mark, err_mark, deadline, timeout)
        except BaseException:
            self.usable = False
            raise

    def _collect(
        self, out_mark: bytes, err_mark: bytes, deadline: float, timeout: float
    ) -> tuple[int, bytes, bytes]:
        out, err = bytearray(), bytearray()
        out_end = err_end = -1
        out_pat, err_pat = b"\n" + out_mark + b" ", b"\n" + err_mark + b"\n"
        chan = self._chan
        while True:
            ended = chan.closed or chan.eof_received
            if err_end < 0:
                while chan.recv_stderr_ready():
                    err += chan.recv_stderr(_READ)
                err_end = err.find(err_pat)
            while chan.recv_ready():
                out += chan.recv(_READ)
            if out_end < 0:
                out_end = out.find(out_pat)
            if out_end >= 0 and err_end >= 0 and out.find(b"\n", out_end + len(out_pat)) >= 0:
                break
            if ended:
                transport = chan.get_transport()
                if transport is None or not transport.is_active():
                    raise CommandLost("the connection closed while the command ran", sent=True)
                raise ShellBroken("the remote shell exited unexpectedly", sent=True)
            left = deadline - time.monotonic()
            if left <= 0:
                raise OperationTimeoutError(f"Command timed out after {timeout} s")
            select.select([self._fd], [], [], min(left, 1.0))
        tail = bytes(out[out_end + len(out_pat):]).split(b"\n", 1)
        if len(tail) != 2 or tail[1] or bytes(err[err_end + len(err_pat):]):
            # output after the marker: a background process still writes here
            self.usable = False
        try:
            status = int(tail[0])
        except ValueError as exc:
            raise ShellBroken(f"unreadable exit status {tail[0]!r}", sent=True) from exc
        return status, bytes(out[:out_end]), bytes(err[:err_end])

    def close(self) -> None:
        """Close the channel (idempotent)."""
        self.usable = False
        with contextlib.suppress(paramiko.SSHException, EOFError, OSError):
            self._chan.close()


def exec_once(
    transport: paramiko.Transport, line: str, stdin: bytes | None, timeout: float
) -> tuple[int, bytes, bytes]:
    """Run one command line on a fresh exec channel; see the module contract."""
    deadline = time.monotonic() + timeout
    try:
        chan = transport.open_session(timeout=timeout)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise CommandLost(f"could not open a channel: {exc}", sent=False) from exc
    try:
        fd = chan.fileno()
        try:
            chan.settimeout(timeout)
            chan.exec_command(line)
            if stdin:
                chan.sendall(stdin)
            chan.shutdown_write()
        except TimeoutError as exc:
            raise OperationTimeoutError(f"Sending the command timed out after {timeout} s") from exc
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise CommandLost(f"connection lost while starting the command: {exc}", sent=True) from exc
        out, err = bytearray(), bytearray()
        while True:
            ended = chan.closed
            while chan.recv_stderr_ready():
                err += chan.recv_stderr(_READ)
            while chan.recv_ready():
                out += chan.recv(_READ)
            if ended:
                if not chan.exit_status_ready() and not transport.is_active():
                    raise CommandLost("the connection closed while the command ran", sent=True)
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise OperationTimeoutError(f"Command timed out after {timeout} s")
            select.select([fd], [], [], min(left, 1.0))
        return (chan.recv_exit_status() if chan.exit_status_ready() else -1), bytes(out), bytes(err)
    finally:
        chan.close()
