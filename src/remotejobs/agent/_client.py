"""Talking to the agent: connect (starting it on demand), and a :class:`ComputeResource`
whose operations run in the agent on its held session."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from remotejobs import errors as _errors
from remotejobs._session import _Session
from remotejobs.agent._paths import AgentError, private_dir, socket_path
from remotejobs.models import Capability, JobInfo, JobSpec
from remotejobs.resource import BackendSettings, ComputeResource
from remotejobs.transport.base import CommandResult, transfer_progress

__all__ = ["DEFAULT_IDLE_TIMEOUT", "AgentClient", "AgentResource", "agent_enabled", "connect"]

#: Seconds without a request after which an agent started on demand stops.
DEFAULT_IDLE_TIMEOUT = 600.0


def agent_enabled() -> bool:
    """False when ``$REMOTEJOBS_AGENT`` is ``0``/``off``/``no``."""
    return os.environ.get("REMOTEJOBS_AGENT", "").strip().lower() not in ("0", "off", "no", "false")


def _rebuild(payload: dict[str, Any]) -> _errors.RemoteJobsError:
    """The agent's error as the same error class here (its own constructor bypassed)."""
    cls = getattr(_errors, str(payload.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, _errors.RemoteJobsError)):
        cls = AgentError if payload.get("type") == "AgentError" else _errors.RemoteJobsError
    exc = cls.__new__(cls)
    _errors.RemoteJobsError.__init__(exc, str(payload.get("message")), resource=payload.get("resource"),
                                     user=payload.get("user"), transient=bool(payload.get("transient")),
                                     hint=payload.get("hint") or "")
    if payload.get("job_id") is not None:
        exc.job_id = payload["job_id"]  # type: ignore[attr-defined]
    return exc


class AgentClient:
    """One connection to the agent; requests are answered in order."""

    def __init__(self, sock: socket.socket, path: Path) -> None:
        self.sock, self.path = sock, path
        self._reader = sock.makefile("rb")

    def request(self, op: str, **fields: Any) -> Any:
        """Send one request; return its result. :raises RemoteJobsError: the agent's
        error, rebuilt; AgentError (transient) when the agent went away."""
        try:
            self.sock.sendall((json.dumps({"op": op, **fields}, default=str) + "\n").encode())
            while True:
                line = self._reader.readline()
                if not line:
                    raise AgentError(f"The session agent at {self.path} closed the connection", transient=True)
                reply = json.loads(line)
                if "progress" not in reply:
                    break
                callback = transfer_progress.get()
                if callback is not None:
                    callback(*reply["progress"])
        except OSError as exc:
            raise AgentError(f"Lost the session agent at {self.path}: {exc}", transient=True) from exc
        if "error" in reply:
            raise _rebuild(reply["error"])
        return reply["ok"]

    def close(self) -> None:
        self._reader.close()
        self.sock.close()


def _connect(path: Path) -> AgentClient | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    except OSError as exc:
        sock.close()
        raise AgentError(f"Cannot connect to the session agent at {str(path)!r}: {exc}") from exc
    return AgentClient(sock, path)


def connect(start: bool = True, idle_timeout: float | None = None, wait: float = 15.0) -> AgentClient | None:
    """A connection to this user's agent, starting one when ``start`` and none runs.

    :raises AgentError: the agent directory is not private, or a started agent did not
        come up within ``wait`` seconds.
    """
    path = socket_path()
    private_dir(path.parent, create=start)
    client = _connect(path)
    if client is not None or not start:
        return client
    timeout = idle_timeout if idle_timeout is not None else float(
        os.environ.get("REMOTEJOBS_AGENT_IDLE", DEFAULT_IDLE_TIMEOUT))
    log = path.with_suffix(".log")
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        subprocess.Popen(
            [sys.executable, "-m", "remotejobs", "agent", "run", "--idle-timeout", str(timeout)],
            stdin=subprocess.DEVNULL, stdout=fd, stderr=fd, start_new_session=True, close_fds=True)
    finally:
        os.close(fd)
    deadline = time.monotonic() + wait
    pause = 0.02
    while time.monotonic() < deadline:
        client = _connect(path)
        if client is not None:
            return client
        time.sleep(pause)
        pause = min(0.2, pause * 1.5)
    raise AgentError(f"The session agent did not start within {wait:g}s (log: {log})", transient=True)


class _AgentTransport:
    """Runs commands on the agent's warm connection (for dataset sources)."""

    def __init__(self, owner: AgentResource) -> None:
        self.owner = owner

    def run(self, argv: Sequence[str], **_: Any) -> CommandResult:
        return CommandResult.model_validate(self.owner._call("run", argv=list(argv)))


class AgentResource(ComputeResource):
    """A session held by the agent: every operation runs there, on its warm connection.

    Made by :meth:`attach`; ``capabilities`` and the element id format are the backend's.
    """

    backend_name: ClassVar[str] = "agent"

    def __init__(self, client: AgentClient, name: str, user: str | None, info: dict[str, Any]) -> None:
        super().__init__(BackendSettings(), name=name)
        self.client = client
        self._asked_user = user
        self._password_required = bool(info["password_required"])
        self._user = info["user"]
        self._session = _Session.ACTIVE

    @classmethod
    def attach(cls, client: AgentClient, name: str, user: str | None,
               password: str | None = None) -> AgentResource:
        """The agent's session for (name, user), logged in with ``password`` if given."""
        info = client.request("attach", resource=name, user=user, password=password)
        attrs: dict[str, Any] = {
            "backend_name": info["backend"],
            "capabilities": frozenset(Capability(c) for c in info["capabilities"]),
            "array_element_format": info["array_element_format"],
        }
        if info.get("has_transport"):
            attrs["transport"] = property(_AgentTransport)
        subclass = type(f"Agent{info['backend'].title().replace('-', '')}Resource", (cls,), attrs)
        resource: AgentResource = subclass(client, name, user, info)
        return resource

    def _call(self, op: str, **args: Any) -> Any:
        return self.client.request(op, resource=self.name, user=self._asked_user, args=args)

    def password_required(self) -> bool:
        return self._password_required

    def _login(self, username: str | None, password: str | None) -> str:
        info = self.client.request("attach", resource=self.name, user=username, password=password)
        return str(info["user"])

    def _logout(self) -> None:
        self._call("logout")

    def _ping(self) -> bool:
        return True

    def _submit(self, spec: JobSpec) -> str:
        return str(self._call("submit", spec=spec.model_dump(mode="json")))

    def _status_many(self, ids: Sequence[str]) -> dict[str, JobInfo]:
        return {k: JobInfo.model_validate(v) for k, v in self._call("status_many", ids=list(ids)).items()}

    def _jobs(self) -> list[JobInfo]:
        return [JobInfo.model_validate(v) for v in self._call("jobs")]

    def _cancel(self, job_id: str) -> None:
        self._call("cancel", id=job_id)

    def _upload(self, local_path: Path, remote_dir: str) -> str:
        return str(self._call("upload", path=str(local_path.resolve()), remote_dir=remote_dir))

    def _download(self, job_id: str, local_dir: Path, name: str | None) -> list[Path]:
        return [Path(p) for p in self._call("download", id=job_id, dir=str(local_dir.resolve()), name=name)]

    def close(self) -> None:
        """Leave the session in the agent (only :meth:`logout` ends it)."""
