"""The agent process: holds logged-in sessions (and so their warm SSH connections and
web-service tokens) for the command line, over a Unix socket only this user can use.

Security: the socket is created mode 0600 inside a 0700 directory the user owns, and
every connection's peer uid (``SO_PEERCRED``, Linux ``unix(7)``) must be the agent's own
uid; anything else is refused before a request is read. Passwords pass through once, to
``login``, and are never kept: only the session they opened is.

Protocol: one JSON object per line each way; a request ``{"op": ..., ...}`` gets
``{"ok": result}`` (after ``{"progress": [done, total]}`` lines for transfers) or
``{"error": {"type", "message", "resource", "user", "transient", "hint", "job_id"}}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import socketserver
import struct
import threading
import time
from pathlib import Path
from typing import Any

import remotejobs
from remotejobs.agent._paths import private_dir
from remotejobs.errors import NotLoggedInError, RemoteJobsError
from remotejobs.models import JobSpec
from remotejobs.resource import ComputeResource
from remotejobs.transport.base import ProgressCallback, transfer_progress

__all__ = ["AgentServer", "error_payload", "serve"]

log = logging.getLogger(__name__)
_MAX_LINE = 16 * 1024 * 1024


def error_payload(exc: BaseException) -> dict[str, Any]:
    """An exception as the protocol's ``error`` object (never with a secret: errors
    carry none by the project's rules)."""
    if not isinstance(exc, RemoteJobsError):
        return {"type": "AgentError", "message": f"The session agent failed: {exc!r}", "resource": None,
                "user": None, "transient": True, "hint": "Stop it with: remotejobs agent stop", "job_id": None}
    return {"type": type(exc).__name__, "message": exc.message, "resource": exc.resource, "user": exc.user,
            "transient": exc.transient, "hint": exc.hint, "job_id": getattr(exc, "job_id", None)}


class _Session:
    def __init__(self, resource: ComputeResource) -> None:
        self.resource = resource
        self.since = time.time()
        self.used = time.time()


class AgentServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Serves requests on ``path`` until :meth:`shutdown` or ``idle_timeout`` seconds
    without a request."""

    daemon_threads = True

    def __init__(self, path: Path, idle_timeout: float) -> None:
        self.path = path
        self.idle_timeout = idle_timeout
        self.sessions: dict[tuple[str, str], _Session] = {}
        self.lock = threading.RLock()
        self.last_request = time.monotonic()
        self.busy = 0
        private_dir(path.parent, create=True)
        with contextlib.suppress(FileNotFoundError):
            if _alive(path):
                raise OSError(f"an agent already listens on {path}")
            path.unlink()
        old = os.umask(0o177)  # the socket is created 0600
        try:
            super().__init__(str(path), _Handler)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)

    # -- sessions ---------------------------------------------------------------------
    def _key(self, name: str, user: str | None) -> tuple[str, str]:
        """The session key for (name, user); without a user, the one session held on ``name``
        if there is exactly one (``login hpc --user alice`` then ``-r hpc status``)."""
        if user or (name, "") in self.sessions:
            return (name, user or "")
        held = [key for key in self.sessions if key[0] == name]
        return held[0] if len(held) == 1 else (name, "")

    def attach(self, name: str, user: str | None, password: str | None) -> ComputeResource:
        """The session for (name, user): kept, resumed, or logged in with ``password``.
        Without ``user``, the one session held on ``name`` serves (see :meth:`_key`)."""
        with self.lock:
            key = self._key(name, user) if password is None else (name, user or "")
            held = self.sessions.get(key)
            if held is not None and held.resource.logged_in and password is None:
                held.used = time.time()
                return held.resource
        resource = remotejobs.open_resource(name)
        if password is not None:
            resource.login(user, password)
        elif not resource.resume(user):
            raise NotLoggedInError("No saved session", resource=name, user=user,
                                   hint=f"Run: remotejobs login {name}" + (f" --user {user}" if user else ""))
        with self.lock:
            old = self.sessions.pop(key, None)
            self.sessions[key] = _Session(resource)
        if old is not None and old.resource is not resource:
            with contextlib.suppress(RemoteJobsError):
                old.resource.close()
        return resource

    def forget(self, name: str, user: str | None) -> None:
        with self.lock:
            self.sessions.pop(self._key(name, user), None)

    def describe(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"resource": n, "user": s.resource.user or u or None, "backend": s.resource.backend_name,
                     "logged_in": s.resource.logged_in, "since": s.since, "idle_seconds": round(time.time() - s.used)}
                    for (n, u), s in sorted(self.sessions.items())]

    def close_all(self) -> None:
        with self.lock:
            held, self.sessions = list(self.sessions.values()), {}
        for session in held:
            with contextlib.suppress(Exception):
                session.resource.close()

    # -- lifetime ---------------------------------------------------------------------
    def watch_idle(self) -> None:
        """Shut down after ``idle_timeout`` seconds with no request (none running)."""
        while True:
            time.sleep(0.5)
            with self.lock:
                idle = self.busy == 0 and time.monotonic() - self.last_request > self.idle_timeout
            if idle:
                log.info("agent idle for %ss; stopping", self.idle_timeout)
                threading.Thread(target=self.shutdown, daemon=True).start()
                return

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Only this user's processes (peer uid from SO_PEERCRED) may talk to the agent."""
        creds = request.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        if uid != os.getuid():
            log.warning("refused a connection from uid %s", uid)
            with contextlib.suppress(OSError):
                request.sendall((json.dumps({"error": {
                    "type": "AgentError", "message": "Permission denied: this agent serves only its own user",
                    "resource": None, "user": None, "transient": False, "hint": "", "job_id": None}}) + "\n").encode())
            return False
        return True


def _alive(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(2)
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


class _Handler(socketserver.StreamRequestHandler):
    server: AgentServer
    stop_after_reply = False

    def handle(self) -> None:
        while True:
            line = self.rfile.readline(_MAX_LINE)
            if not line:
                return
            with self.server.lock:
                self.server.busy += 1
                self.server.last_request = time.monotonic()
            try:
                reply = {"ok": self.dispatch(json.loads(line))}
            except Exception as exc:
                if not isinstance(exc, RemoteJobsError):
                    log.exception("agent request failed")
                reply = {"error": error_payload(exc)}
            finally:
                with self.server.lock:
                    self.server.busy -= 1
                    self.server.last_request = time.monotonic()
            self.wfile.write((json.dumps(reply, default=str) + "\n").encode())
            self.wfile.flush()
            if self.stop_after_reply:
                threading.Thread(target=self.server.shutdown, daemon=True).start()
                return

    def dispatch(self, request: dict[str, Any]) -> Any:
        op = request.get("op")
        server = self.server
        if op == "hello":
            return {"pid": os.getpid(), "version": remotejobs.__version__, "idle_timeout": server.idle_timeout}
        if op == "sessions":
            return server.describe()
        if op == "stop":  # shut down once the answer is sent (handle), or it may never be
            self.stop_after_reply = True
            return True
        name, user = str(request["resource"]), request.get("user")
        if op == "attach":
            resource = server.attach(name, user, request.get("password"))
            cls = type(resource)
            return {"user": resource.user, "backend": resource.backend_name,
                    "capabilities": sorted(c.value for c in cls.capabilities),
                    "array_element_format": cls.array_element_format,
                    "password_required": resource.password_required(),
                    "has_transport": hasattr(cls, "transport")}
        resource = server.attach(name, user, None)
        args = request.get("args", {})
        return self.call(resource, name, user, str(op), args)

    def _progress_writer(self) -> ProgressCallback:
        """Sends ``{"progress": [done, total]}`` lines before the reply (at most ten a
        second, and always the last one)."""
        last = [0.0]

        def send(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - last[0] < 0.1:
                return
            last[0] = now
            self.wfile.write((json.dumps({"progress": [done, total]}) + "\n").encode())
            self.wfile.flush()

        return send

    def call(self, resource: ComputeResource, name: str, user: str | None, op: str, args: dict[str, Any]) -> Any:
        if op == "submit":
            return resource.submit(JobSpec.model_validate(args["spec"])).id
        if op == "status_many":
            return {k: v.model_dump(mode="json") for k, v in resource.status_many(args["ids"]).items()}
        if op == "jobs":
            return [i.model_dump(mode="json") for i in resource.jobs()]
        if op == "cancel":
            resource.cancel(args["id"])
            return None
        if op in ("upload", "download"):
            token = transfer_progress.set(self._progress_writer())
            try:
                if op == "upload":
                    return resource.upload(args["path"], args["remote_dir"])
                return [str(p) for p in resource.download(args["id"], args["dir"], args.get("name"))]
            finally:
                transfer_progress.reset(token)
        if op == "run":
            result = resource.transport.run(args["argv"])  # type: ignore[attr-defined]
            return result.model_dump(mode="json")
        if op == "logout":
            try:
                resource.logout()
            finally:
                self.server.forget(name, user)
            return None
        raise ValueError(f"unknown agent operation {op!r}")


def serve(path: Path, idle_timeout: float) -> None:
    """Run an agent on ``path`` until stopped or idle; close its sessions at the end."""
    server = AgentServer(path, idle_timeout)
    threading.Thread(target=server.watch_idle, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        server.close_all()
