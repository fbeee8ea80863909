"""One user's authenticated requests to ``webservice/pacclient/``: :class:`PacSession`.

The session owns the token, the HTTP client and the rule that recognises an ended session
(``expired_pattern``); it knows nothing of jobs. The resource and the file transfer code
(:mod:`._files`) send their requests through it. Logging in is the resource's business: the
session asks it for a new token through ``renew`` when the server no longer accepts one.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

from pydantic import SecretStr

from remotejobs.errors import NotLoggedInError, SessionExpiredError
from remotejobs_lsf_web._errors import DOWNLOAD_FORBIDDEN, DOWNLOAD_NOT_FOUND
from remotejobs_lsf_web._token_cache import CachedToken
from remotejobs_lsf_web._wire import cookie_header, error_message
from remotejobs_lsf_web.client import Answer, PacClient
from remotejobs_lsf_web.settings import LsfWebSettings

__all__ = ["PacSession"]

log = logging.getLogger(__name__)

#: ``renew(stale_token) -> bool``: log in again unless another thread already did; False
#: when no password source is configured.
Renew = Callable[[CachedToken], bool]


class PacSession:
    """Authenticated requests for one resource object (one user). Thread-safe.

    :ivar settings: the backend's settings (file transfer reads its download options).
    :ivar token: the current token, or None when logged out or closed.
    """

    def __init__(self, http: PacClient, settings: LsfWebSettings, *, name: str, renew: Renew) -> None:
        self.http = http
        self.settings = settings
        self.name = name
        self.token: CachedToken | None = None
        self.lock = threading.Lock()  # held while the token is replaced
        self._renew = renew
        self._expired = re.compile(settings.expired_pattern)

    def expired(self, message: str) -> bool:
        """True when an ``<errMsg>`` text means the server no longer accepts the token."""
        return self._expired.search(message) is not None

    def cookie(self, token: CachedToken) -> str:
        jtoken = token.jtoken.get_secret_value() if isinstance(token.jtoken, SecretStr) else None
        return cookie_header(token.token.get_secret_value(), jtoken)

    def call(
        self, op: str, method: str, path: str, *, idempotent: bool, content_type: str | None = None,
        body: bytes | None = None, params: dict[str, str] | None = None, raw: bool = False,
    ) -> Answer:
        """Send an authenticated request to ``webservice/pacclient/<path>``.

        An ``<errMsg>`` that matches ``expired_pattern`` raises :class:`SessionExpiredError`,
        unless ``renew`` logs in again: then an idempotent request is repeated once. ``raw``:
        the answer is file content and counts as an error only when it is an XML document
        whose root holds ``<errMsg>``; an HTTP 404 is returned as is, an HTTP 403 too unless
        a new login made it go away, since PAC answers 403 both for an ended session and for
        a file the user may not read (:data:`DOWNLOAD_FORBIDDEN`).

        :raises NotLoggedInError: no token.
        """
        from remotejobs_lsf_web._files import document_error  # the file-content rule lives there

        for attempt in (1, 2):
            token = self.token
            if token is None:
                raise NotLoggedInError("This session has no token")
            answer = self.http.request(
                op, method, token.url + "webservice/pacclient/" + path, idempotent=idempotent,
                cookie=self.cookie(token), content_type=content_type, body=body, params=params,
                accept=(DOWNLOAD_FORBIDDEN, DOWNLOAD_NOT_FOUND) if raw else (),
            )
            if answer.status == DOWNLOAD_FORBIDDEN:
                if attempt == 1 and idempotent and self._renew(token):
                    log.info("%s: HTTP 403 on %s; logged in again, repeating it once", self.name, op)
                    continue
                return answer
            message = document_error(answer.content) if raw else error_message(answer.text)
            if message is None or not self.expired(message):
                return answer
            renewed = attempt == 1 and self._renew(token)
            if renewed and idempotent:
                log.info("%s: session expired; logged in again, repeating %s", self.name, op)
                continue
            raise SessionExpiredError(
                f"{op}: the web service no longer accepts the session ({message})"
                + ("; logged in again, the request was refused and not executed" if renewed else ""),
                transient=renewed,
                hint="Repeat the request" if renewed else "Log in again",
            )
        raise AssertionError("unreachable")  # pragma: no cover
