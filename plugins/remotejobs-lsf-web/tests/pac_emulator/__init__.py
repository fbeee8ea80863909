"""An emulated IBM Platform LSF Application Center (PAC) web service, as SCARF runs it.

Test infrastructure for remotejobs-lsf-web: real HTTP(S), real users (passwords checked by
an SSH login to the test cluster), real jobs (LSF emulator over the test cluster's Slurm,
or Slurm directly). Formats and their public sources: README.md.

    with PacEmulator(checker=..., tls=make_tls_files(tmp)) as pac:
        pac.base_url, pac.token_url, pac.inject("jobs", errmsg="boom"), pac.expire_tokens()
"""

from __future__ import annotations

import ssl
import threading
from types import TracebackType

from .auth import SshPasswordChecker, TokenStore
from .engine import Engine, choose_engine
from .server import PacHttpServer
from .service import PacService
from .tls import TlsFiles, make_tls_files

__all__ = ["PacEmulator", "SshPasswordChecker", "TlsFiles", "make_tls_files"]


class PacEmulator:
    """Serve on 127.0.0.1 (free port) in a background thread until :meth:`stop`."""

    def __init__(self, *, checker: SshPasswordChecker, tls: TlsFiles | None = None, token_ttl: float = 3600.0,
                 engine: Engine | None = None) -> None:
        self.tokens = TokenStore(token_ttl)
        self.service = PacService(engine or choose_engine())
        self._checker, self._tls, self._ttl, self._port = checker, tls, token_ttl, 0
        self._serve(0)

    def _serve(self, port: int) -> None:
        self.server = PacHttpServer(("127.0.0.1", port), service=self.service, tokens=self.tokens,
                                    checker=self._checker, scheme="https" if self._tls else "http")
        if self._tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self._tls.server_cert, self._tls.server_key)
            self.server.socket = context.wrap_socket(
                self.server.socket, server_side=True, do_handshake_on_connect=False
            )  # handshake in the handler thread: a bad client cannot block accept()
        self._thread = threading.Thread(target=self.server.serve_forever, name="pac-emulator", daemon=True)

    def crash(self) -> None:
        """Fault injection (issue 10): the service goes down (port closed, open connections
        cut) until :meth:`restart`."""
        self._port = self.server.server_address[1]
        self._halt()

    def restart(self) -> None:
        """Serve again on the same port after :meth:`crash`, as a restarted service: the jobs
        survive (LSF keeps them), the session tokens do not (the stricter assumption)."""
        self.tokens = TokenStore(self._ttl)
        self._serve(self._port)
        self.start()

    @property
    def engine_name(self) -> str:
        return self.service.engine.name

    @property
    def origin(self) -> str:
        return self.base_url.removesuffix("platform/")

    @property
    def base_url(self) -> str:
        """``<scheme>://127.0.0.1:<port>/platform/`` (what the token script answers)."""
        return self.server.base_url

    @property
    def token_url(self) -> str:
        return self.origin + "cgi-bin/token.py"

    def inject(self, op: str, *, errmsg: str | None = None, status: int | None = None,
               body: str | None = None, delay: float | None = None) -> None:
        """Make the next request to ``op`` (``jobs``, ``submitapp``, ``token``, ...) answer
        200 + ``<errMsg>errmsg</errMsg>``, HTTP ``status``, 200 with the plain text ``body``,
        or normally but only after ``delay`` seconds (a slow service)."""
        fault: tuple[str, object] = ("status", status) if status is not None else \
            ("body", body) if body is not None else ("delay", delay) if delay is not None else \
            ("errmsg", errmsg or "error")
        with self.server.faults_lock:
            self.server.faults[op] = fault

    def expire_tokens(self, user: str | None = None) -> int:
        return self.tokens.expire(user)

    def start(self) -> PacEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._halt()
        self.service.engine.close()

    def _halt(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.server.drop_connections()

    def __enter__(self) -> PacEmulator:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
