"""Logging in to PAC: SCARF's token script (Mantid SCARFLSFJobManager.cpp ``authenticate``) and
the standard ``logon/`` (pac_api.py ``logon``, lsf-faas lsflib.py ``logonAC``), and where a password comes from
when the backend must log in again.

The password is used for one request and dropped; it appears in no message or log record.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from pydantic import SecretStr

from remotejobs.errors import AuthenticationError, ConfigurationError
from remotejobs_lsf_web._token_cache import CachedToken
from remotejobs_lsf_web._wire import error_message, logon_body, parse_logon, parse_token_script
from remotejobs_lsf_web.client import PacClient
from remotejobs_lsf_web.settings import LsfWebSettings

__all__ = ["CredentialCallback", "log_in", "password_from"]

#: ``callback(username) -> password or None``; called each time a new login is needed.
CredentialCallback = Callable[[str], "str | None"]


def log_in(client: PacClient, settings: LsfWebSettings, username: str, password: str) -> CachedToken:
    """Log ``username`` in and return the session (base URL and token).

    :raises AuthenticationError: the service rejected the credentials (not transient).
    :raises TransportError: the service could not be reached (transient).
    """
    if settings.login_method == "token-script":
        return _token_script(client, settings, username, password)
    return _pac_logon(client, settings, username, password)


def _token_script(client: PacClient, settings: LsfWebSettings, username: str, password: str) -> CachedToken:
    # POSTed as a form (SCARF's paclogin.py) so the password is not in the URL
    # (Mantid SCARFLSFJobManager.cpp, pac_api.py).
    url = str(settings.token_url)
    answer = client.request(
        "log in", "POST", url, idempotent=False, form={"username": username, "password": password}
    )
    parsed = parse_token_script(answer.text, settings.login_marker)
    if parsed is None:
        said = _scrub(answer.text, password)
        raise AuthenticationError(
            f"Login failed for user {username!r}: the token script did not return a session"
            + (f" (it answered: {said!r})" if said else ""),
            user=username,
            hint="Check the user name and password",
        )
    return CachedToken(parsed[0], SecretStr(parsed[1]))


def _pac_logon(client: PacClient, settings: LsfWebSettings, username: str, password: str) -> CachedToken:
    base = str(settings.base_url)
    answer = client.request(
        "log in",
        "GET",
        base + "webservice/pacclient/logon/",
        idempotent=False,
        cookie="platform_token=",
        content_type="application/xml",
        body=logon_body(username, password).encode("utf-8"),
    )
    message = error_message(answer.text)
    parsed = parse_logon(answer.text)
    if message is not None or parsed is None:
        said = _scrub(message if message is not None else answer.text, password)
        raise AuthenticationError(
            f"Login failed for user {username!r}: {said or 'the answer carried no token'}",
            user=username,
            hint="Check the user name and password",
        )
    token, jtoken = parsed
    return CachedToken(base, SecretStr(token), SecretStr(jtoken) if jtoken else None)


def password_from(
    settings: LsfWebSettings, callback: CredentialCallback | None, username: str
) -> str | None:
    """A password for ``username`` from the callback, else from the keyring entry, else None.

    :raises ConfigurationError: ``keyring_service`` is set but the keyring package is missing.
    """
    if callback is not None:
        password = callback(username)
        if password:
            return password
    if settings.keyring_service:
        try:
            keyring = importlib.import_module("keyring")
        except ImportError as exc:
            raise ConfigurationError(
                "keyring_service is set but the 'keyring' package is not installed",
                hint="pip install 'remotejobs-lsf-web[keyring]', or remove keyring_service",
            ) from exc
        found = keyring.get_password(settings.keyring_service, username)
        return str(found) if found else None
    return None


def _scrub(text: str, password: str) -> str:
    text = " ".join(text.split())[:200]
    return text.replace(password, "***") if password else text
