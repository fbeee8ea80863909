"""The ``local`` backend: each job is a local process group in its own directory.

State is on disk (see :mod:`remotejobs.local._store`), so a new Python process sees, and
can cancel, jobs an earlier one submitted. "Users" are separate namespaces under the
state directory: two sessions with different user names do not see each other's jobs.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import platformdirs

from remotejobs.errors import (
    AuthenticationError,
    InvalidJobSpecError,
    JobNotFoundError,
    SubmissionError,
    TransferError,
)
from remotejobs.local._store import CANCEL, RESULT, SPEC, STARTED, SUPERVISOR, Store, read_json, write_json
from remotejobs.models import Capability, JobInfo, JobSpec, JobState
from remotejobs.resource import BackendSettings, ComputeResource
from remotejobs.transport.local import LocalTransport

if TYPE_CHECKING:
    from remotejobs.launchers import Launcher

__all__ = ["LocalResource", "LocalSettings"]

_SRC = str(Path(__file__).resolve().parents[2])


class LocalSettings(BackendSettings):
    """``state_dir``: where jobs live (default ``$REMOTEJOBS_STATE_DIR`` or the user state
    directory, e.g. ``~/.local/state/remotejobs/local``)."""

    #: Where jobs live; default ``$REMOTEJOBS_STATE_DIR/local`` or the user state directory
    #: (``~/.local/state/remotejobs/local``).
    state_dir: str | None = None


def _default_state_dir() -> Path:
    env = os.environ.get("REMOTEJOBS_STATE_DIR")
    if env:
        return Path(env).expanduser() / "local"
    return Path(platformdirs.user_state_dir("remotejobs")) / "local"


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if isinstance(value, int | float) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return True


class LocalResource(ComputeResource[LocalSettings]):
    """Jobs as local processes, on one node (``nodes`` must be 1).

    Refuses ``queue`` (there are no queues here) and ``memory_mb`` (nothing here limits a
    job's memory as a scheduler's ``--mem`` does; an address-space rlimit would count
    virtual memory of each process, not the job's) with an
    :class:`~remotejobs.errors.InvalidJobSpecError` naming the field, before a job is made.
    Honours ``environment``, ``stdin`` (a file, relative to the working directory, fed to
    every copy), ``begin`` (the job waits, QUEUED, until then; a naive time is this
    machine's local time) and the ``multiple`` launcher (``processes_per_node`` copies in
    one process group, each with ``REMOTEJOBS_PROCESS_INDEX``/``REMOTEJOBS_PROCESS_COUNT``;
    the job's exit code is the first non-zero one in start order). Every other site field,
    launcher and ``pre_launch``/``post_launch`` is refused with an
    :class:`~remotejobs.errors.UnsupportedOperationError` naming it."""

    backend_name: ClassVar[str] = "local"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.FILE_TRANSFER, Capability.WALLTIME}
    )
    spec_fields: ClassVar[frozenset[str]] = frozenset({"stdin", "begin"})
    #: Ids are the store's counter (:meth:`Store.new_id`).
    job_id_pattern: ClassVar[re.Pattern[str]] = re.compile(r"[1-9][0-9]{0,18}")

    def __init__(self, settings: LocalSettings, *, name: str) -> None:
        super().__init__(settings, name=name)
        root = Path(settings.state_dir).expanduser() if settings.state_dir else _default_state_dir()
        self.store = Store(root)
        self._files = LocalTransport()

    # -- session --------------------------------------------------------------------
    def _login(self, username: str | None, password: str | None) -> str:
        user = username or getpass.getuser()
        if not Store.valid_user(user):
            raise AuthenticationError(
                f"Invalid user name {user!r} for the local backend",
                hint="Use letters, digits, '_', '-', '.', '@' (at most 64 characters)",
            )
        return user

    def _ping(self) -> bool:
        return True

    def supports_launcher(self, launcher: Launcher) -> bool:
        """``multiple`` only: the supervisor starts the copies itself."""
        return launcher.name == "multiple"

    @property
    def _me(self) -> str:
        assert self._user is not None
        return self._user

    # -- jobs -----------------------------------------------------------------------
    def _check_spec(self, spec: JobSpec) -> None:
        """Also refuses ``nodes`` other than 1, ``queue`` and ``memory_mb`` (naming the field,
        this resource and what to do) before a job is made."""
        super()._check_spec(spec)
        why = {"nodes": (spec.nodes != 1, f"runs on one node; nodes={spec.nodes} asked",
                         "Use nodes=1 (processes_per_node copies with launcher='multiple')"),
               "queue": (spec.queue is not None, "has no queues", "Leave queue unset for this resource"),
               "memory_mb": (spec.memory_mb is not None, "cannot limit a job's memory",
                             "Leave memory_mb unset for this resource, or submit to a cluster resource")}
        for field, (asked, what, hint) in why.items():
            if asked:
                raise InvalidJobSpecError(
                    f"JobSpec field {field} cannot be honoured: backend {self.backend_name!r} {what}",
                    resource=self.name, user=self._user, hint=hint)

    def _submit(self, spec: JobSpec) -> str:
        job_id = self.store.new_id()
        job_dir = self.store.jobs_dir(self._me) / job_id
        job_dir.mkdir(parents=True, mode=0o700)
        workdir = self._home_path(spec.directory) if spec.directory else job_dir
        if not workdir.is_dir():
            raise SubmissionError(f"Working directory {str(workdir)!r} does not exist")

        def out(path: str | None, default: str) -> str:
            return str(workdir / path) if path else str(job_dir / default)

        record = {
            "executable": spec.executable,
            "arguments": list(spec.arguments),
            "environment": spec.environment,
            "workdir": str(workdir),
            "stdout": out(spec.stdout, "stdout"),
            "stderr": out(spec.stderr, "stderr"),
            "walltime": spec.walltime.total_seconds() if spec.walltime else None,
            "copies": spec.nodes * spec.processes_per_node if spec.launcher == "multiple" else None,
            "stdin": str(workdir / spec.stdin) if spec.stdin is not None else None,
            "begin": spec.begin.timestamp() if spec.begin is not None else None,
            "name": spec.name,
            "submit_time": datetime.now(UTC).timestamp(),
        }
        write_json(job_dir / SPEC, record)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_SRC, os.environ.get("PYTHONPATH")]))}
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "remotejobs.local._supervisor", str(job_dir)],
                start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=env, close_fds=True,
            )
        except OSError as exc:
            write_json(job_dir / RESULT, {"state": "FAILED", "reason": f"Could not start: {exc}"})
            raise SubmissionError(f"Could not start the job supervisor: {exc}") from exc
        threading.Thread(target=proc.wait, daemon=True).start()  # reap it when it ends
        # Until .started.json exists (the begin wait), its pid tells a waiting job from one
        # whose supervisor died (killed, machine restarted): the latter never starts.
        write_json(job_dir / SUPERVISOR, {"pid": proc.pid})
        return job_id

    def _info(self, job_id: str, *, again: bool = True) -> JobInfo | None:
        job_dir = self.store.job_dir(self._me, job_id)
        if job_dir is None:
            return None
        spec = read_json(job_dir / SPEC) or {}
        started = read_json(job_dir / STARTED)
        result = read_json(job_dir / RESULT)
        common: dict[str, Any] = {
            "id": job_id,
            "name": spec.get("name"),
            "command": shlex.join([spec.get("executable", ""), *spec.get("arguments", [])]),
            "submit_time": _time(spec.get("submit_time")),
            "start_time": _time(started.get("start_time")) if started else None,
            "owner": self._me,
        }
        if result is not None:
            state = JobState(result["state"])
            return JobInfo(state=state, native_state=state.value, exit_code=result.get("exit_code"),
                           end_time=_time(result.get("end_time")), reason=result.get("reason"), **common)
        if started is None:
            supervisor = read_json(job_dir / SUPERVISOR)
            if supervisor is not None and not _alive(int(supervisor["pid"])):
                if again:  # it may have written its records after they were read above
                    return self._info(job_id, again=False)
                return JobInfo(state=JobState.FAILED, native_state=None,
                               reason="The job's supervisor process ended before the program started "
                               "(killed, or the machine restarted); the program never ran", **common)
            begin = spec.get("begin")
            if isinstance(begin, int | float) and begin > datetime.now(UTC).timestamp():
                return JobInfo(state=JobState.QUEUED, native_state="BEGIN", reason="Waits for its begin time "
                               f"{_time(begin)}", **common)
            return JobInfo(state=JobState.QUEUED, native_state="STARTING", **common)
        if not _alive(int(started["pid"])):
            return JobInfo(state=JobState.UNKNOWN, native_state=None,
                           reason="The job's supervisor process ended without recording a result "
                           "(machine restarted or process killed)", **common)
        return JobInfo(state=JobState.RUNNING, native_state="RUNNING", **common)

    def _status_many(self, ids: Sequence[str]) -> dict[str, JobInfo]:
        infos = {i: self._info(i) for i in ids}
        return {k: v for k, v in infos.items() if v is not None}

    def _jobs(self) -> list[JobInfo]:
        return list(self._status_many(self.store.job_ids(self._me)).values())

    def _cancel(self, job_id: str) -> None:
        job_dir = self.store.job_dir(self._me, job_id)
        if job_dir is None:
            raise JobNotFoundError(job_id)
        if (job_dir / RESULT).exists():
            return
        (job_dir / CANCEL).touch()
        started = read_json(job_dir / STARTED)
        if started is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(started["pgid"]), signal.SIGTERM)

    # -- files ----------------------------------------------------------------------
    def _home_path(self, path: str) -> Path:
        """The rule for relative paths (a job's ``directory``, upload targets): relative to
        this user's home here, ``<state_dir>/users/<user>/files`` (``~/`` means the same),
        so that a job can run in the directory a file was uploaded to."""
        home = self.store.user_dir(self._me) / "files"
        if path == "~" or path.startswith("~/"):
            path = path[2:]
        return home / path

    def _upload(self, local_path: Path, remote_dir: str) -> str:
        target = self._home_path(remote_dir) / local_path.name
        self._files.put(str(local_path), str(target))
        return str(target)

    def _download(self, job_id: str, local_dir: Path, name: str | None) -> list[Path]:
        job_dir = self.store.job_dir(self._me, job_id)
        if job_dir is None:
            raise JobNotFoundError(job_id)
        names = sorted(p.name for p in job_dir.iterdir() if p.is_file() and not p.name.startswith("."))
        if name is not None:
            if name not in names:
                raise TransferError(
                    f"Job {job_id!r} has no file {name!r}; it has: {', '.join(names) or 'none'}", path=name
                )
            names = [name]
        paths = []
        for entry in names:
            self._files.get(str(job_dir / entry), str(local_dir / entry))
            paths.append(local_dir / entry)
        return paths
