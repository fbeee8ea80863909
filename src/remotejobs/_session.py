"""The session part of :class:`remotejobs.resource.ComputeResource`: login, resume, logout,
close, and the resource/user context every error carries.

Contract (stated for users on ComputeResource): on first use a resource takes up a saved
session (:meth:`ResourceSession.resume`), or, when it needs no password, logs in implicitly;
after :meth:`ResourceSession.logout` or :meth:`ResourceSession.close` every job operation
raises :class:`NotLoggedInError` until :meth:`ResourceSession.login` is called again.
Backends implement the session primitives ``_login`` (required), ``_logout``, ``_close`` and
``_resume``. Import :class:`~remotejobs.resource.ComputeResource`, not this module.
"""

from __future__ import annotations

import enum
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from remotejobs.errors import AuthenticationError, NotLoggedInError, RemoteJobsError
from remotejobs.models import Capability

__all__ = ["ResourceSession"]

log = logging.getLogger("remotejobs.resource")


class _Session(enum.Enum):
    NEW = "new"
    ACTIVE = "active"
    LOGGED_OUT = "logged out"
    CLOSED = "closed"


class ResourceSession(ABC):
    """One user's session on a resource (base of :class:`~remotejobs.resource.ComputeResource`,
    which sets the attributes declared here)."""

    name: str
    capabilities: ClassVar[frozenset[Capability]]
    _user: str | None
    _session: _Session
    _lock: threading.RLock

    # -- primitives for backends ----------------------------------------------------
    @abstractmethod
    def _login(self, username: str | None, password: str | None) -> str:
        """Open the session; return the effective user name. Raise AuthenticationError."""

    def _logout(self) -> None:  # noqa: B027  (optional hook: nothing to end by default)
        """End the session on the server and forget any saved token. Called by
        :meth:`logout` only for an active session, always followed by :meth:`_close`."""

    def _close(self) -> None:  # noqa: B027  (optional hook: nothing held by default)
        """Release local things (connections, pools); keep saved sessions. Idempotent;
        must not raise for a connection that is already gone."""

    def _resume(self, username: str | None) -> str | None:
        """The one hook by which a backend restores a session an earlier process saved
        (e.g. a token cache): take it up and return the user name, or return None when
        there is nothing to restore. Must not prompt, and must not raise for a missing
        cache. Used by :meth:`resume` and by :meth:`login` without a password."""
        return None

    # -- public API -----------------------------------------------------------------
    def password_required(self) -> bool:
        """True when :meth:`login` cannot succeed without a password, leaving saved
        sessions aside (checked before I/O; :meth:`resume` takes those up)."""
        return Capability.LOGIN_REQUIRED in self.capabilities

    @property
    def user(self) -> str | None:
        """The logged-in user, or None."""
        return self._user

    @property
    def logged_in(self) -> bool:
        return self._session is _Session.ACTIVE

    def login(self, username: str | None = None, password: str | None = None) -> None:
        """Open this user's session. Without a password, a session the backend saved for
        ``username`` (see :meth:`resume`) is taken up when there is one.

        :raises AuthenticationError: no password where one is required and no saved
            session (before any network traffic), or the credentials were rejected. Not
            transient.
        :raises TransportError: the resource could not be reached. Transient.
        """
        with self._context(user=username):
            if password is None:
                resumed = self._resume(username)
                if resumed is not None:
                    self._activate(resumed)
                    return
                if self.password_required():
                    raise AuthenticationError(
                        "A password is required to log in, and there is no cached session to resume",
                        user=username,
                        hint="Pass password=..., or use the CLI, which prompts for it",
                    )
            self._activate(self._login(username, password))

    def resume(self, username: str | None = None) -> bool:
        """Take up a session saved by an earlier process (e.g. the CLI's ``login``), if the
        backend keeps one; True when the session is active afterwards.

        Backends that need no password resume by logging in implicitly."""
        with self._context(user=username):
            if self._session is _Session.ACTIVE:
                return True
            user = self._resume(username)
            if user is None:
                if self.password_required():
                    return False
                user = self._login(username, None)
            self._activate(user)
            return True

    def logout(self) -> None:
        """End the session on the server, forget saved tokens, and :meth:`close`.

        Idempotent; later job operations raise NotLoggedInError until :meth:`login`."""
        with self._context():
            try:
                if self._session is _Session.ACTIVE:
                    self._logout()
            finally:
                self._release(_Session.LOGGED_OUT)

    def close(self) -> None:
        """Release local things (connections, pools) and keep any session the backend saved,
        so a later process can :meth:`resume` it (use :meth:`logout` to end it). Idempotent;
        later job operations raise NotLoggedInError until :meth:`login`."""
        with self._context():
            self._release(_Session.CLOSED)

    # -- helpers --------------------------------------------------------------------
    def _activate(self, user: str) -> None:
        with self._lock:
            self._user = user
            self._session = _Session.ACTIVE
        log.debug("session of %s on %s active", user, self.name)

    def _release(self, state: _Session) -> None:
        try:
            self._close()
        finally:
            with self._lock:
                self._session = state

    def _active(self) -> None:
        if self._session is _Session.NEW:  # first use: a saved session, or an implicit login
            self.resume()
        if self._session is not _Session.ACTIVE:
            ever = {_Session.LOGGED_OUT: "has logged out", _Session.CLOSED: "is closed"}.get(
                self._session, "is not logged in"
            )
            raise NotLoggedInError(
                f"This session {ever}", resource=self.name, user=self._user
            )

    @contextmanager
    def _context(self, user: str | None = None) -> Iterator[None]:
        try:
            yield
        except RemoteJobsError as exc:
            exc.add_context(resource=self.name, user=self._user or user)
            raise

