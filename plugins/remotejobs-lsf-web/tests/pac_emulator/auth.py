"""Users and tokens of the emulated PAC (Mantid LSFJobManager.cpp, lsf-faas lsflib.py).

Passwords are checked against the real system: a password login to the test cluster's
sshd with paramiko (host key verified from known_hosts). Successes are cached briefly as a
salted hash, never the password itself. Tokens look like PAC's
``<user>"<ISO-8601 UTC time>"<base64>`` and expire after ``ttl`` seconds.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import paramiko

log = logging.getLogger(__name__)

#: IBM lsf-faas, src/lsf_faas/lsflib.py (github.com/IBMSpectrumComputing/lsf-faas).
SESSION_LOGOUT = "Your current login session was logout"


class SshPasswordChecker:
    """``check(user, password) -> bool`` by an SSH password login to (host, port)."""

    def __init__(self, host: str, port: int, known_hosts: str, cache_seconds: float = 60.0) -> None:
        self.host, self.port, self.known_hosts = host, port, known_hosts
        self.cache_seconds = cache_seconds
        self._salt = os.urandom(16)
        self._ok: dict[tuple[str, bytes], float] = {}
        self._lock = threading.Lock()

    def check(self, user: str, password: str) -> bool:
        if not user or not password:
            return False
        key = (user, hashlib.sha256(self._salt + password.encode()).digest())
        with self._lock:
            if self._ok.get(key, 0.0) > time.monotonic():
                return True
        client = paramiko.SSHClient()
        client.load_host_keys(self.known_hosts)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                self.host, self.port, username=user, password=password, allow_agent=False,
                look_for_keys=False, timeout=10, auth_timeout=15, banner_timeout=10,
            )
        except paramiko.AuthenticationException:
            log.info("emulator: password rejected for %s", user)
            return False
        finally:
            client.close()
        with self._lock:
            self._ok[key] = time.monotonic() + self.cache_seconds
        return True


@dataclass
class _Token:
    user: str
    expires: float


class TokenStore:
    """Issues, validates, expires and revokes tokens."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._tokens: dict[str, _Token] = {}
        self._issued: list[str] = []
        self._lock = threading.Lock()

    def issue(self, user: str) -> tuple[str, str]:
        """(token, jtoken) for ``user``."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        signature = base64.b64encode(secrets.token_bytes(30)).decode()
        token = f'{user}"{stamp}"{signature}'
        with self._lock:
            self._tokens[token] = _Token(user, time.monotonic() + self.ttl)
            self._issued.append(token)
        return token, secrets.token_hex(16).upper()

    def user_of(self, token: str | None) -> tuple[str | None, str]:
        """(user, "") for a valid token, else (None, why).

        ``why`` is the one wording a primary source shows for a session the server no longer
        accepts: ``Your current login session was logout`` (IBM's lsf-faas client,
        src/lsf_faas/lsflib.py ``SESSION_LOGOUT``). [assumed] that the server says the same for
        a missing, logged-out or expired token: no source shows those cases apart.
        """
        if not token:
            return None, SESSION_LOGOUT
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return None, SESSION_LOGOUT
            if entry.expires <= time.monotonic():
                del self._tokens[token]
                return None, SESSION_LOGOUT
            return entry.user, ""

    def revoke(self, token: str | None) -> None:
        with self._lock:
            self._tokens.pop(token or "", None)

    def expire(self, user: str | None = None) -> int:
        """Make the tokens of ``user`` (all users: None) expire now; returns how many."""
        with self._lock:
            hit = [t for t in self._tokens.values() if user is None or t.user == user]
            for entry in hit:
                entry.expires = 0.0
            return len(hit)

    def issued(self) -> list[str]:
        """Every token ever issued (for the no-secret-in-logs assertion)."""
        with self._lock:
            return list(self._issued)


def token_from_cookie(header: str | None) -> str | None:
    """The raw token of a ``Cookie: platform_token=...`` header (``#quote#`` -> ``"``;
    a ``,JSESSIONID=`` suffix or ``;`` separated cookies ignored)."""
    if not header:
        return None
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "platform_token":
            value = value.split(",JSESSIONID=", 1)[0]
            return value.replace("#quote#", '"') or None
    return None
