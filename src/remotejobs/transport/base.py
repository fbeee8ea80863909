"""The transport extension point: how commands run and files move.

A transport runs argv lists (never shell strings) and copies files. It knows nothing of
schedulers; a :class:`~remotejobs.scheduler.BatchResource` composes one with a dialect.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from pathlib import Path
from types import TracebackType

from pydantic import BaseModel, ConfigDict

__all__ = ["CommandResult", "CommandTransport", "InteractiveHandler", "ProgressCallback", "is_plain_file_name",
           "sha256_of",
           "transfer_progress"]

#: Called with (bytes done, bytes total) while a file moves.
ProgressCallback = Callable[[int, int], None]

#: The progress callback of the transfers made in this context when a caller passes none
#: (how the command line draws progress bars for ``upload``/``download`` without every
#: resource method taking a callback). Transports use ``progress or transfer_progress.get()``.
transfer_progress: ContextVar[ProgressCallback | None] = ContextVar("transfer_progress", default=None)

#: Answers a login's prompts: (title, instructions, [(prompt, echo), ...]) -> one answer per
#: prompt. Asked for keyboard-interactive prompts (2FA codes) and for the passphrase of an
#: encrypted key file given without one; ``echo`` False means "do not show what is typed".
InteractiveHandler = Callable[[str, str, list[tuple[str, bool]]], list[str]]


def sha256_of(path: Path) -> str:
    """The SHA-256 (hex) of a local file, read in 1 MiB chunks. :raises OSError: unreadable."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_plain_file_name(name: str) -> bool:
    """True for a name :meth:`CommandTransport.get_many`/``put_many`` accept: one path
    component (no ``/``, not ``.`` or ``..``), without NUL or newline."""
    return bool(name) and "/" not in name and name not in (".", "..") and "\0" not in name and "\n" not in name


class CommandResult(BaseModel):
    """Outcome of one command. ``exit_status`` is the program's exit status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    argv: tuple[str, ...]
    exit_status: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr together, for error messages."""
        return (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr).strip()


class CommandTransport(ABC):
    """Runs commands and moves files for one user on one host.

    The extension point for "how": a :class:`~remotejobs.scheduler.BatchResource` takes
    one built from its settings (:class:`~remotejobs.transport.local.LocalTransport`, or
    :class:`~remotejobs.transport.ssh.SSHTransport` when ``host`` is set), or the instance
    a caller passes (``BatchResource(settings, name=..., transport=...)`` or
    ``open_resource(..., transport=...)``), as an httpx client takes a custom transport.

    Contract for implementations:

    - ``run`` executes ``argv`` with no shell interpretation of its items (remote
      transports quote every item with :func:`shlex.quote`), returns the result whatever
      the exit status, and raises :class:`~remotejobs.errors.TransportError` (transient)
      when the command could not be run or its outcome is unknown, or
      :class:`~remotejobs.errors.OperationTimeoutError` after ``timeout`` seconds.
    - ``idempotent=False`` tells the transport not to reconnect-and-retry the command
      after a dropped connection (a submit must never run twice).
    - ``put``/``get`` never leave a partial file under the final name; failures raise
      :class:`~remotejobs.errors.TransferError`.
    - Relative remote paths are relative to the user's home directory.
    """

    #: Short description for messages, e.g. ``alice@cluster:22``.
    description: str = "local"
    #: The login name commands run as (after ssh config and defaults are applied).
    user: str

    @abstractmethod
    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: str | None = None,
        timeout: float | None = None,
        idempotent: bool = True,
    ) -> CommandResult:
        """Run ``argv`` and return its result (any exit status)."""

    @abstractmethod
    def put(
        self,
        local_path: str,
        remote_path: str,
        *,
        progress: ProgressCallback | None = None,
        verify: bool = False,
    ) -> None:
        """Copy a local file to ``remote_path`` (atomically: temporary name, then rename)."""

    @abstractmethod
    def get(
        self,
        remote_path: str,
        local_path: str,
        *,
        progress: ProgressCallback | None = None,
        verify: bool = False,
    ) -> None:
        """Copy a remote file to ``local_path`` (atomically)."""

    def put_many(self, local_paths: Sequence[str], remote_dir: str) -> list[str]:
        """Copy local files into ``remote_dir`` (created if missing) under their base
        names; the remote paths. Transports that can do it in one round trip override this
        (SSH: one tar stream); this default copies them one by one with :meth:`put`."""
        self.makedirs(remote_dir)
        out = []
        for path in local_paths:
            target = f"{remote_dir.rstrip('/')}/{os.path.basename(path)}"
            self.put(path, target)
            out.append(target)
        return out

    def get_many(self, remote_dir: str, names: Sequence[str], local_dir: str) -> list[str]:
        """Copy the named files of ``remote_dir`` into ``local_dir``; the local paths.
        Overridden where one round trip can do it (SSH); by default one :meth:`get` each."""
        out = []
        for name in names:
            target = os.path.join(local_dir, name)
            self.get(f"{remote_dir.rstrip('/')}/{name}", target)
            out.append(target)
        return out

    @abstractmethod
    def listdir(self, remote_dir: str) -> list[str]:
        """Names of the regular files in ``remote_dir`` (sorted). Missing dir: TransferError."""

    @abstractmethod
    def makedirs(self, remote_dir: str) -> None:
        """Create ``remote_dir`` and its parents if missing."""

    def home(self) -> str:
        """Absolute path of the user's home directory on the remote side."""
        result = self.run(["printenv", "HOME"])
        return result.stdout.strip()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections. Idempotent."""

    def __enter__(self) -> CommandTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
