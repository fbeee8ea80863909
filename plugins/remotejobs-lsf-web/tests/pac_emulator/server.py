"""The HTTP(S) side of the emulated PAC: every endpoint the lsf-web backend and Mantid use.

Endpoints as Mantid and IBM's clients use them (sources in README.md and next to each): token script
(GET query or POST form, ``//cgi-bin`` accepted), ``logon/``, cookie check (``#quote#``),
``ping/`` without auth, ``logout/``, ``submitapp``, ``jobs`` (with or without ``?``, ``/``,
``/<id>``, ``jobsforstatus``, ``jobsforname``), ``jobOperation/kill``, ``upfile``,
``jobfiles``, ``file`` (GET with body). Errors are HTTP 200 + ``<errMsg>``
(Mantid LSFJobManager.cpp extractPACErrMsg). Request bodies may be chunked; GET may carry a body
(Mantid LSFJobManager.cpp getOneJobFile). Logs never show query
strings, cookies or bodies.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

from . import wire
from .auth import SshPasswordChecker, TokenStore, token_from_cookie
from .service import PacService, Refused

log = logging.getLogger(__name__)

_PREFIX = "/platform/webservice/pacclient/"
#: errMsg wrapper root per endpoint (pac_emulator/README.md Sources).
_ROOTS = {"logon": "User", "submitapp": "Job", "jobOperation": "Job", "upfile": "Job", "jobs": "Jobs",
          "jobsforstatus": "Jobs", "jobsforname": "Jobs", "jobfiles": "Files", "file": "File", "logout": "User"}


class PacHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, service: PacService, tokens: TokenStore,
                 checker: SshPasswordChecker, scheme: str) -> None:
        super().__init__(address, PacHandler)
        self.service, self.tokens, self.checker, self.scheme = service, tokens, checker, scheme
        self.faults: dict[str, tuple[str, Any]] = {}
        self.faults_lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, headers) seen
        self.download_bodies: list[str] = []  # bodies of file/<id> requests (names, no secrets)
        self.multipart_downloads = False  # answer file/<id> as newer PAC versions do

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        with self.faults_lock:
            self.connections.add(conn)
        return conn, addr

    def shutdown_request(self, request: Any) -> None:
        with self.faults_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Cut every open (keep-alive) connection, as a crashed server would."""
        with self.faults_lock:
            conns, self.connections = list(self.connections), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/platform/"

    def take_fault(self, op: str) -> tuple[str, Any] | None:
        with self.faults_lock:
            return self.faults.pop(op, None)


class PacHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: PacHttpServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("pac-emulator: %s %s", self.command, self.path.split("?", 1)[0])

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    # -- plumbing ------------------------------------------------------------------------
    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, body: str | bytes, ctype: str = "application/xml;charset=UTF-8", status: int = 200) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        raw_path, _, query = self.path.partition("?")
        path = re.sub(r"/+", "/", unquote(raw_path))
        body = self._body()
        self.server.requests.append((self.command, path, {k.lower(): v for k, v in self.headers.items()}))
        parts = path[len(_PREFIX):].split("/") if path.startswith(_PREFIX) else [""]
        op, args = parts[0], [p for p in parts[1:] if p]
        try:
            if path == "/cgi-bin/token.py":
                return self._token_script(query, body)
            if not path.startswith(_PREFIX):
                return self._send("Not found", "text/plain", 404)  # assumed: unknown path
            fault = self.server.take_fault(op)
            if fault is not None and fault[0] == "delay":  # slow, then answer normally
                threading.Event().wait(float(fault[1]))
                fault = None
            if fault is not None:
                kind, value = fault
                if kind == "status":
                    return self._send("Injected failure", "text/plain", int(value))  # test hook, not a PAC behaviour
                if kind == "body":
                    return self._send(str(value), "text/plain")  # test hook, not a PAC behaviour
                return self._send(wire.xml_error(_ROOTS.get(op, "Message"), str(value), op == "submitapp"))
            if op == "ping":
                return self._send("Web Services are ready on the PAC emulator", "text/plain")  # Mantid ping()
            if op == "logon":
                return self._logon(body)
            user, why = self.server.tokens.user_of(token_from_cookie(self.headers.get("Cookie")))
            if user is None:
                if op == "file":  # "when SESSION_LOGOUT, AC also return error code 403" (lsf-faas lsflib.py)
                    return self._send(b"", "text/plain", 403)  # lsf-faas lsflib.py downloadFiles (403 after logout)
                # lsf-faas SESSION_LOGOUT
                return self._send(wire.xml_error(_ROOTS.get(op, "Message"), why, op in ("submitapp", "jobOperation")))
            self._dispatch(user, op, args, parse_qs(query), body)
        except (Refused, wire.WireError) as exc:
            if op == "jobfiles":  # plain text without '/' or '\\' (Mantid LSFJobManager.cpp getAllJobFiles)
                return self._send(str(exc).replace("/", " "), "text/plain")
            if op == "file":  # 404 + empty body (pacclient.py downloadFile: 404 = does not exist)
                return self._send(b"", "text/plain", 404)  # pacclient downloadFile (404, empty)
            root = _ROOTS.get(op, "Message")
            self._send(wire.xml_error(root, str(exc), root == "Job"))  # Mantid extractPACErrMsg (errMsg + id 0)
        except Exception:
            log.exception("pac-emulator: internal error on %s %s", self.command, path)
            self._send("Internal error", "text/plain", 500)

    # -- endpoints -------------------------------------------------------------------------
    def _token_script(self, query: str, body: bytes) -> None:
        """SCARF's token.py: 200 either way; success = base URL line + token
        (Mantid SCARFLSFJobManager.cpp ``authenticate``)."""
        form = parse_qs(query) if query else parse_qs(body.decode("utf-8", "replace"))
        user, password = (form.get("username") or [""])[0], (form.get("password") or [""])[0]
        if self.server.take_fault("token") is None and self.server.checker.check(user, password):
            token, _ = self.server.tokens.issue(user)
            return self._send(f"{self.server.base_url}\n{token}\n", "text/plain")
        # assumed: wording (README)
        self._send("Error: authentication failed. Invalid username or password.\n", "text/plain")

    def _logon(self, body: bytes) -> None:
        user, password = wire.parse_logon(body)
        if not self.server.checker.check(user, password):
            return self._send(wire.xml_error("User", "Incorrect user name or password."))  # assumed: wording
        token, jtoken = self.server.tokens.issue(user)
        quoted = escape(token, {'"': "&quot;"})
        # pac_api.py logon (token); jtoken: lsf-faas saveToken
        self._send(f"{wire.XML_HEAD}<User><jtoken>{jtoken}</jtoken><token>{quoted}</token></User>")

    def _dispatch(self, user: str, op: str, args: list[str], query: dict[str, list[str]], body: bytes) -> None:
        service = self.server.service
        if op == "logout":
            self.server.tokens.revoke(token_from_cookie(self.headers.get("Cookie")))
            return self._send("ok", "text/plain")  # pac_api.py logout: content == 'ok'
        if op == "submitapp":
            sent = wire.parse_submit(body, self.headers.get("Content-Type", ""))
            job_id = service.submit(user, sent.app, sent.params, sent.file_params, sent.files)
            return self._send(wire.xml_element("Job", {"id": job_id}))  # lsf-faas submitJob (<id>)
        if op in ("jobs", "jobsforstatus", "jobsforname"):
            def first(key: str) -> str | None:
                return (query.get(key) or [""])[0] or None

            wanted = first("id")
            ids = args[:1] if op == "jobs" and args else wanted.split(",") if wanted else None
            rows = service.jobs(
                user, ids=ids, details=(first("details") or "").lower() in ("yes", "true", "y"),
                status=args[0] if op == "jobsforstatus" and args else first("status"),
                name=args[0] if op == "jobsforname" and args else first("name"),
            )
            return self._send(wire.xml_jobs(rows))
        if op == "jobOperation" and len(args) == 2:
            action, job_id = args
            if action != "kill":
                # assumed: wording (README)
                raise Refused(f"The job operation {action} is not supported by this server.")
            message = service.kill(user, job_id)
            # pac_api.py doJobAction (actionMsg)
            return self._send(wire.xml_element("Job", {"actionMsg": message, "id": job_id}))
        if op == "upfile" and args:
            dir_name, name, data = wire.parse_upload(body, self.headers.get("Content-Type", ""))
            # pac_api.py uploadLargeFile ("successfully")
            return self._send(service.upload(user, args[0], dir_name, name, data), "text/plain")
        if op == "jobfiles" and args:
            return self._send(service.job_files(user, args[0]), "text/plain")  # Mantid getAllJobFiles
        if op == "file" and args:
            target = wire.download_target(body)
            self.server.download_bodies.append(body.decode("utf-8", "replace"))
            data = service.read_file(user, args[0], target)
            if not data:  # 404 + empty body: "file does not exist" (pacclient.py downloadFile)
                return self._send(b"", "text/plain", 404)  # pacclient downloadFile (404, empty)
            if self.server.multipart_downloads:
                wrapped, ctype = wire.multipart_file(target.replace("\\", "/").rsplit("/", 1)[-1], data)
                return self._send(wrapped, ctype)
            return self._send(data, "application/octet-stream")  # Mantid getOneJobFile (raw bytes)
        self._send("Not found", "text/plain", 404)  # assumed: unknown path
