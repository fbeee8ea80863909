"""Translation of ``requests`` exceptions and HTTP answers into the remotejobs error tree.

Nothing here contains a secret: messages name the operation and the URL path, never the
query string (SCARF's GET login puts the password there) nor a header.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests

from remotejobs.errors import (
    OperationTimeoutError,
    RemoteJobsError,
    SchedulerError,
    TransportError,
)

__all__ = [
    "DEFAULT_EXPIRED_PATTERN", "DOWNLOAD_FORBIDDEN", "DOWNLOAD_NOT_FOUND", "SESSION_LOGOUT",
    "http_error", "safe_url", "translate",
]

#: The ``<errMsg>`` text of a PAC server that no longer accepts the session: IBM's own client
#: (github.com/IBMSpectrumComputing/lsf-faas, src/lsf_faas/lsflib.py ``SESSION_LOGOUT``, used by
#: src/lsf_faas/lsf.py ``__checkMessage`` to drop the session and log in again).
SESSION_LOGOUT = "Your current login session was logout"
#: Default ``expired_pattern``: the real text above. No other wording was found in a primary
#: source; a site whose server words it differently sets the ``expired_pattern`` setting.
DEFAULT_EXPIRED_PATTERN = r"(?i)your current login session was logout"
#: HTTP status of a ``file/<id>`` download when the session ended (or the file is not the
#: user's): lsflib.py ``downloadFiles``, "when SESSION_LOGOUT, AC also return error code 403".
DOWNLOAD_FORBIDDEN = 403
#: HTTP status of a ``file/<id>`` download of a file that does not exist (IBM's pacclient.py
#: ``downloadFile``: empty body and 404 -> "downloadfailed_notfound").
DOWNLOAD_NOT_FOUND = 404


def safe_url(url: str) -> str:
    """``url`` without query string and fragment (used in every message and log record)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def translate(exc: requests.RequestException, op: str, url: str) -> RemoteJobsError:
    """The remotejobs error for a ``requests`` failure of operation ``op`` on ``url``.

    TLS verification failures are fatal TransportErrors (fix ``ca_bundle``); connection
    and read failures are transient TransportErrors; timeouts OperationTimeoutError.
    """
    where = safe_url(url)
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportError(
            f"TLS verification of {where} failed during {op}: {_short(exc)}",
            transient=False,
            hint="If the server uses a private CA, set ca_bundle to its certificate file",
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return OperationTimeoutError(f"{op}: {where} did not answer in time: {_short(exc)}")
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return TransportError(
            f"{op}: cannot reach the web service at {where}: {_short(exc)}",
            hint="Check that the service is up and base_url is right; retry later",
        )
    return TransportError(f"{op}: HTTP request to {where} failed: {_short(exc)}", transient=False)


def http_error(op: str, method: str, url: str, status: int, body: str) -> RemoteJobsError:
    """The error for a non-200 answer: 5xx are transient TransportErrors, others
    SchedulerErrors carrying the start of the body."""
    where = safe_url(url)
    if status >= 500:
        return TransportError(f"{op}: the web service at {where} answered HTTP {status}")
    return SchedulerError(
        f"{op}: the web service answered HTTP {status}",
        command=[method, where],
        output=body[:500],
    )


def _short(exc: BaseException) -> str:
    text = re.sub(r"\s+", " ", str(exc))
    text = re.sub(r"(?i)(password|pass|token)=[^&\s)'\"]*", r"\1=***", text)  # never echo secrets
    return text[:300]
