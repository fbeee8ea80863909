"""The local transport: commands run as subprocesses of this process, files are copied."""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from remotejobs.errors import AuthenticationError, OperationTimeoutError, TransferError, TransportError
from remotejobs.transport.base import (
    CommandResult,
    CommandTransport,
    ProgressCallback,
    sha256_of,
    transfer_progress,
)

__all__ = ["LocalTransport"]


class LocalTransport(CommandTransport):
    """Runs argv lists with :mod:`subprocess` (no shell) as the current OS user.

    :raises AuthenticationError: a ``user`` other than the current OS user was asked for.
    """

    def __init__(self, user: str | None = None, *, command_timeout: float | None = 120.0) -> None:
        me = getpass.getuser()
        if user is not None and user != me:
            raise AuthenticationError(
                f"The local transport runs as {me!r} and cannot act as {user!r}",
                user=user,
                hint="Configure a host to reach the cluster over SSH as another user",
            )
        self.user = me
        self.command_timeout = command_timeout
        self.description = f"{me}@localhost"

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: str | None = None,
        timeout: float | None = None,
        idempotent: bool = True,
        umask: int | None = None,
    ) -> CommandResult:
        """As :meth:`CommandTransport.run`; ``umask``: the process's file mode creation
        mask (set in the child only, so other threads of this process are unaffected)."""
        argv = list(argv)
        limit = timeout if timeout is not None else self.command_timeout
        try:
            done = subprocess.run(
                argv,
                input=stdin if stdin is not None else "",
                capture_output=True,
                text=True,
                timeout=limit,
                cwd=os.path.expanduser("~"),
                check=False,
                umask=-1 if umask is None else umask,
            )
        except subprocess.TimeoutExpired as exc:
            raise OperationTimeoutError(f"Command {argv[0]!r} timed out after {limit} s") from exc
        except FileNotFoundError as exc:
            return CommandResult(argv=tuple(argv), exit_status=127, stdout="",
                                 stderr=f"{argv[0]}: command not found ({exc.strerror})")
        except OSError as exc:
            raise TransportError(f"Could not run {argv[0]!r}: {exc}") from exc
        return CommandResult(
            argv=tuple(argv), exit_status=done.returncode, stdout=done.stdout, stderr=done.stderr
        )

    def _copy(self, src: str, dst: str, progress: ProgressCallback | None, verify: bool) -> None:
        source, target = _local(src), _local(dst)
        tmp = target.with_name(f".{target.name}.part-{os.getpid()}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, tmp)
            if verify and sha256_of(source) != sha256_of(tmp):
                raise TransferError(f"Checksum mismatch copying {src} to {dst}", path=dst)
            os.replace(tmp, target)
        except OSError as exc:
            raise TransferError(f"Could not copy {src} to {dst}: {exc.strerror or exc}", path=src) from exc
        finally:
            tmp.unlink(missing_ok=True)
        progress = progress or transfer_progress.get()
        if progress is not None:
            size = target.stat().st_size
            progress(size, size)

    def put(self, local_path: str, remote_path: str, *, progress: ProgressCallback | None = None,
            verify: bool = False) -> None:
        self._copy(local_path, remote_path, progress, verify)

    def get(self, remote_path: str, local_path: str, *, progress: ProgressCallback | None = None,
            verify: bool = False) -> None:
        self._copy(remote_path, local_path, progress, verify)

    def listdir(self, remote_dir: str) -> list[str]:
        try:
            folder = _local(remote_dir)
            return sorted(p.name for p in folder.iterdir() if p.is_file())
        except OSError as exc:
            raise TransferError(f"Cannot list {remote_dir}: {exc.strerror or exc}", path=remote_dir) from exc

    def makedirs(self, remote_dir: str) -> None:
        try:
            _local(remote_dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransferError(f"Cannot create {remote_dir}: {exc.strerror or exc}", path=remote_dir) from exc

    def home(self) -> str:
        return os.path.expanduser("~")


def _local(path: str) -> Path:
    p = Path(os.path.expanduser(path))
    return p if p.is_absolute() else Path.home() / p
