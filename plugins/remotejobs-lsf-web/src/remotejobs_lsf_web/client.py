"""A thin typed wrapper over one pooled ``requests.Session``: timeouts, TLS, safe retries.

The client knows HTTP, not PAC: it sends one request and returns the answer, translating
``requests`` failures and non-2xx answers into remotejobs errors (see :mod:`._errors`).
Only requests marked idempotent are retried, and only on transient failures.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy

import requests
from requests.adapters import HTTPAdapter

from remotejobs.errors import RemoteJobsError
from remotejobs_lsf_web._errors import http_error, safe_url, translate
from remotejobs_lsf_web._wire import ACCEPT

__all__ = ["Answer", "PacClient"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """An answer: status, raw bytes, the Content-Type header, and the body decoded as UTF-8
    (replacing errors)."""

    status: int
    content: bytes
    content_type: str = ""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class PacClient:
    """HTTP for one resource object (one user). Thread-safe as ``requests.Session`` is for
    concurrent requests through its connection pool.

    :param ca_bundle: CA certificate file to verify the server with; None: the system CAs.
    :param retries: extra attempts for idempotent requests after a transient failure.
    """

    def __init__(
        self,
        *,
        ca_bundle: str | None,
        connect_timeout: float,
        read_timeout: float,
        retries: int,
        user_agent: str,
    ) -> None:
        self._session = requests.Session()
        self._session.verify = ca_bundle if ca_bundle else True
        self._session.trust_env = False  # no .netrc credentials, no proxy surprises
        self._session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # explicit cookie only
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=8, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update({"Accept": ACCEPT, "User-Agent": user_agent})
        self._timeout = (connect_timeout, read_timeout)
        self._retries = max(0, retries)

    def close(self) -> None:
        """Close the pooled connections (the client stays usable; it reconnects)."""
        self._session.close()

    def request(
        self,
        op: str,
        method: str,
        url: str,
        *,
        idempotent: bool,
        cookie: str | None = None,
        content_type: str | None = None,
        body: bytes | str | None = None,
        form: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        accept: tuple[int, ...] = (),
    ) -> Answer:
        """Send one request (GET may carry a ``body``) and return a 200/201 answer, or an
        answer whose status is in ``accept`` (the caller interprets it).

        :raises TransportError: not reachable / TLS failure / 5xx answer (transient except TLS).
        :raises OperationTimeoutError: no answer within the timeouts.
        :raises SchedulerError: any other non-2xx answer.
        """
        headers: dict[str, str] = {}
        if cookie is not None:
            headers["Cookie"] = cookie
        if content_type is not None:
            headers["Content-Type"] = content_type
        data: bytes | str | dict[str, str] | None = form if form is not None else body
        attempts = 1 + (self._retries if idempotent else 0)
        for attempt in range(1, attempts + 1):
            error: RemoteJobsError
            try:
                response = self._session.request(
                    method, url, headers=headers, data=data, params=params, timeout=self._timeout
                )
            except requests.RequestException as exc:
                error = translate(exc, op, url)
                if not error.transient or attempt == attempts:
                    raise error from exc
            else:
                log.debug("%s %s -> HTTP %s", method, safe_url(url), response.status_code)
                if response.status_code in (200, 201) or response.status_code in accept:
                    return Answer(response.status_code, response.content,
                                  response.headers.get("Content-Type", ""))
                error = http_error(op, method, url, response.status_code, response.text)
                if not error.transient or attempt == attempts:
                    raise error
            log.debug("%s: attempt %d of %d failed (%s); retrying", op, attempt, attempts, error.message)
            time.sleep(0.1 * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover
