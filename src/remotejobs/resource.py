"""The backend extension point: :class:`ComputeResource`, one user's session on one resource.

Backends implement the underscore primitives (``_login``, ``_submit``, ``_status_many`` ...).
The public methods here add what every backend must behave alike in: session checks
(:class:`NotLoggedInError` before login or after logout), capability checks, monotone job
states, the resource/user context on every error, and polling in :meth:`wait`.
"""

from __future__ import annotations

import enum
import logging
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from typing_extensions import TypeVar

from remotejobs.config import apply_defaults
from remotejobs.errors import (
    AuthenticationError,
    JobNotFoundError,
    NotLoggedInError,
    PartialSubmissionError,
    RemoteJobsError,
    SchedulerError,
    TransferError,
    TransportError,
    UnsupportedOperationError,
)
from remotejobs.job import Job, JobRef, job_id_of
from remotejobs.models import Capability, JobInfo, JobSpec, JobState, merge_info, requested_site_fields
from remotejobs.poller import Poller

if TYPE_CHECKING:
    from remotejobs.launchers import Launcher
    from remotejobs.workflow.conditions import Condition

__all__ = ["BackendSettings", "ComputeResource", "SettingsT_co"]

log = logging.getLogger(__name__)


class BackendSettings(BaseModel):
    """Base of every backend's settings model: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


#: The settings type of a :class:`ComputeResource` subclass. Covariant: settings are frozen
#: and never replaced, so a ``ComputeResource[SlurmSettings]`` is a ``ComputeResource``.
SettingsT_co = TypeVar("SettingsT_co", bound=BackendSettings, default=BackendSettings, covariant=True)


def type_arguments(cls: type, origin: type) -> tuple[Any, ...]:
    """The concrete type arguments ``cls`` gives to the generic class ``origin`` in its
    own bases (``class R(origin[A, B])`` -> ``(A, B)``); () when it gives none."""
    for base in cls.__dict__.get("__orig_bases__", ()):
        if get_origin(base) is origin:
            args = get_args(base)
            if not any(isinstance(a, TypeVar) for a in args):
                return args
    return ()


class _Session(enum.Enum):
    NEW = "new"
    ACTIVE = "active"
    LOGGED_OUT = "logged out"
    CLOSED = "closed"


class ComputeResource(ABC, Generic[SettingsT_co]):
    """One user's session on one compute resource.

    Generic over its settings: ``class MyResource(ComputeResource[MySettings])`` makes
    ``self.settings`` a ``MySettings`` and sets :attr:`settings_model` to it.

    Thread-safe for concurrent calls on one instance. Two instances on the same resource
    are independent sessions (e.g. a project account and a personal one); each sees and
    controls only its own user's jobs.

    On first use a resource takes up a saved session (:meth:`resume`), or, when it
    needs no password, logs in implicitly as its configured user; after :meth:`logout` or :meth:`close` every job
    operation raises :class:`NotLoggedInError` until :meth:`login` is called again.

    Ending a session has two meanings, as in httpx: :meth:`close` (also on leaving a
    ``with`` block) releases what this object holds locally (connections, pools) and keeps
    any session the backend saved for later processes; :meth:`logout` ends the session on
    the server, forgets saved tokens, then closes.
    """

    backend_name: ClassVar[str] = ""
    settings_model: ClassVar[type[BackendSettings]] = BackendSettings
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: The site fields of :class:`JobSpec` (:data:`remotejobs.models.SITE_FIELDS`) this
    #: backend maps; a spec setting any other is refused before anything is sent.
    spec_fields: ClassVar[frozenset[str]] = frozenset()
    #: Whether ``JobSpec.pre_launch``/``post_launch`` are honoured (refused otherwise).
    launch_steps: ClassVar[bool] = False
    #: The :class:`~remotejobs.models.Dependency` conditions the scheduler can wait on
    #: itself (with :attr:`Capability.DEPENDENCIES`); a workflow condition needing another
    #: is held by the client instead (see :func:`remotejobs.workflow.conditions.native_dependency`).
    dependency_conditions: ClassVar[frozenset[str]] = frozenset({"afterok", "afterany", "afternotok", "after"})
    #: How an array element's id is written: ``{id}`` the array's id, ``{index}`` the
    #: element's index (``"{id}_{index}"`` on Slurm); None when elements have no own id.
    array_element_format: ClassVar[str | None] = None
    #: Shortest and largest pause between polls in :meth:`wait`, in seconds (the poller's
    #: first pause is remotejobs.poller.FAST).
    poll_min: ClassVar[float] = 0.05
    poll_max: ClassVar[float] = 2.0
    #: The grammar of this backend's job ids (matched in full). An id that does not match
    #: is refused before any command, path or URL is built from it: it can start no
    #: option (``-u alice``), name no path (``../..``) and splice no URL (``../logout``).
    #: Backends narrow it to their scheduler's grammar (see :meth:`valid_job_id`).
    job_id_pattern: ClassVar[re.Pattern[str]] = re.compile(
        r"[1-9][0-9]{0,18}(\[[0-9]{0,18}\]|_[0-9]{1,18})?(\.[A-Za-z0-9_-]{1,63}){0,8}"
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        args = type_arguments(cls, ComputeResource)
        if args and "settings_model" not in cls.__dict__:
            cls.settings_model = args[0]

    def __init__(self, settings: SettingsT_co, *, name: str) -> None:
        self.settings: SettingsT_co = settings
        self.name = name
        self._user: str | None = None
        self._session = _Session.NEW
        self._known: dict[str, JobInfo] = {}
        self._lock = threading.RLock()
        self._poller: Poller | None = None
        #: JobSpec field values for every job submitted here, where the job leaves the
        #: field unset (``[resources.<name>.defaults]``; see :func:`remotejobs.config.apply_defaults`).
        self.spec_defaults: Mapping[str, Any] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} user={self._user!r} {self._session.value}>"

    # -- primitives for backends ----------------------------------------------------
    @abstractmethod
    def _login(self, username: str | None, password: str | None) -> str:
        """Open the session; return the effective user name. Raise AuthenticationError."""

    def _logout(self) -> None:
        """End the session on the server and forget any saved token. Called by
        :meth:`logout` only for an active session, always followed by :meth:`_close`."""

    def _close(self) -> None:
        """Release local things (connections, pools); keep saved sessions. Idempotent;
        must not raise for a connection that is already gone."""

    @abstractmethod
    def _ping(self) -> bool:
        """True when the resource answers. Needs no login."""

    @abstractmethod
    def _submit(self, spec: JobSpec) -> str:
        """Submit and return the scheduler's id. Never retried blindly on uncertain failure."""

    @abstractmethod
    def _status_many(self, ids: Sequence[str]) -> dict[str, JobInfo]:
        """Infos for the ids this user's session knows; unknown ids are left out."""

    @abstractmethod
    def _jobs(self) -> list[JobInfo]:
        """All of this user's jobs the resource reports."""

    @abstractmethod
    def _cancel(self, job_id: str) -> None:
        """Cancel; no-op for a finished job; JobNotFoundError for an unknown one."""

    def _upload(self, local_path: Path, remote_dir: str) -> str:
        raise self._unsupported(Capability.FILE_TRANSFER, "upload")

    def _download(self, job_id: str, local_dir: Path, name: str | None) -> list[Path]:
        raise self._unsupported(Capability.FILE_TRANSFER, "download")

    def _resume(self, username: str | None) -> str | None:
        """The one hook by which a backend restores a session an earlier process saved
        (e.g. a token cache): take it up and return the user name, or return None when
        there is nothing to restore. Must not prompt, and must not raise for a missing
        cache. Used by :meth:`resume` and by :meth:`login` without a password."""
        return None

    def array_element_id(self, array_id: str, index: int) -> str:
        """The id of element ``index`` of array ``array_id`` (the array's own id when the
        backend gives elements no id of their own, see :attr:`array_element_format`)."""
        fmt = self.array_element_format
        return array_id if fmt is None else fmt.format(id=array_id, index=index)

    def valid_job_id(self, job_id: str) -> bool:
        """True when ``job_id`` is in this backend's id grammar (:attr:`job_id_pattern`).
        Every public method checks ids with it before the backend sees them."""
        return self.job_id_pattern.fullmatch(job_id) is not None

    def supports_launcher(self, launcher: Launcher) -> bool:
        """True when jobs here can start with ``launcher`` (``JobSpec.launcher``); a spec
        naming another is refused before anything is sent. Default: none."""
        return False

    def launchers(self) -> list[str]:
        """Names of the installed launchers this resource supports."""
        from remotejobs._plugins import get_registry

        registry = get_registry()
        out = []
        for name in sorted(registry.launchers):
            try:
                if self.supports_launcher(registry.launcher(name)):
                    out.append(name)
            except RemoteJobsError as exc:  # a broken launcher plugin hides only itself
                log.warning("launcher %r is unusable: %s", name, exc)
        return out

    def password_required(self) -> bool:
        """True when :meth:`login` cannot succeed without a password, leaving saved
        sessions aside (checked before I/O; :meth:`resume` takes those up)."""
        return Capability.LOGIN_REQUIRED in self.capabilities

    # -- public API -----------------------------------------------------------------
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

    def ping(self) -> bool:
        """True when the resource answers; False when it cannot be reached. Needs no login."""
        with self._context():
            try:
                return self._ping()
            except TransportError as exc:
                log.info("ping %s failed: %s", self.name, exc)
                return False

    def upload(self, local_path: str | Path, remote_dir: str) -> str:
        """Copy a local file into ``remote_dir``; return the remote path.

        :raises TransferError: the local file is missing or the copy failed.
        """
        with self._context():
            self._require(Capability.FILE_TRANSFER, "upload")
            self._active()
            path = Path(local_path)
            if not path.is_file():
                raise TransferError(f"Local file {str(path)!r} does not exist", path=str(path))
            return self._upload(path, remote_dir)

    def submit(self, spec: JobSpec, after: Condition | None = None, **options: Any) -> Job:
        """Submit ``spec``; the returned handle's ``id`` is the scheduler's id.

        The resource's :attr:`spec_defaults` fill the fields ``spec`` leaves unset (for
        :meth:`submit_many` too). On return the scheduler has accepted the job.
        :raises SubmissionError: refused,
        or (``transient=True``) outcome unknown: check :meth:`jobs` before resubmitting.

        With ``after`` (built from job handles: ``a.done & ~b.failed``), or inside a
        ``with Workflow(...):`` block, the job becomes a workflow step
        (:class:`remotejobs.workflow.Step`; ``options`` are those of
        :meth:`remotejobs.workflow.Workflow.submit`): submitted at once with the
        scheduler's own dependency where it can say the condition, else held by the client.
        """
        from remotejobs.workflow.context import current_workflow

        if after is not None or options or current_workflow() is not None:
            from remotejobs.workflow.engine import default_workflow

            return (current_workflow() or default_workflow()).submit(self, spec, after, **options)
        with self._context():
            self._active()
            spec = apply_defaults(spec, self.spec_defaults)
            self._check_spec(spec)
            return self._accepted(spec, self._submit(spec))

    def submit_many(self, specs: Sequence[JobSpec]) -> list[Job]:
        """Submit independent jobs (not an array), in one round trip where the backend can
        (batch backends: one remote command per ~100 kB of generated shell); the handles in
        the order of ``specs``. Not a workflow step (no ``after``; a Workflow block does not
        apply).

        Every spec is checked first (capabilities, site fields): one the backend cannot
        honour raises that error, naming its position, and nothing is submitted. Then each
        job is submitted on its own: one the scheduler refuses does not stop the others;
        only where a batch backend could not write a job's script are the jobs after it
        not attempted (reported, transient).

        :raises PartialSubmissionError: some jobs were not accepted; its ``jobs`` holds the
            handles of those that were (they exist) and None for the others, its ``errors``
            the error of each position not accepted.
        """
        with self._context():
            specs = [apply_defaults(spec, self.spec_defaults) for spec in specs]
            self._active()
            for n, spec in enumerate(specs):
                try:
                    self._check_spec(spec)
                except RemoteJobsError as exc:
                    exc.message = f"Job spec #{n} ({spec.name or spec.executable!r}): {exc.message}"
                    raise exc.add_context(resource=self.name, user=self._user) from None
            if not specs:
                return []
            jobs: list[Job | None] = []
            errors: dict[int, RemoteJobsError] = {}
            for n, (spec, outcome) in enumerate(zip(specs, self._submit_many(specs), strict=True)):
                try:
                    if isinstance(outcome, RemoteJobsError):
                        raise outcome
                    jobs.append(self._accepted(spec, outcome))
                except RemoteJobsError as exc:
                    errors[n] = exc.add_context(resource=self.name, user=self._user)
                    jobs.append(None)
            if errors:
                raise PartialSubmissionError(jobs, errors)
            return [j for j in jobs if j is not None]

    def _submit_many(self, specs: Sequence[JobSpec]) -> list[str | RemoteJobsError]:
        """Submit each spec independently, in order: per spec, the scheduler's id or the
        error it met. Default: :meth:`_submit` in a loop; backends that can send many in
        one round trip override it."""
        outcomes: list[str | RemoteJobsError] = []
        for spec in specs:
            try:
                outcomes.append(self._submit(spec))
            except RemoteJobsError as exc:
                outcomes.append(exc)
        return outcomes

    def _check_spec(self, spec: JobSpec) -> None:
        """Refuse (before anything is sent) a spec needing what this backend lacks."""
        if spec.array is not None:
            self._require(Capability.ARRAYS, "job arrays")
        self._check_site_fields(spec)
        self._check_launch(spec)
        if spec.depends_on is not None:
            self._require(Capability.DEPENDENCIES, "job dependencies")
            if getattr(spec.depends_on, "join", "all") == "any":
                self._require(Capability.DEPENDENCY_ANY, "'any' dependency groups")

    def _accepted(self, spec: JobSpec, job_id: str) -> Job:
        """The handle of a job the scheduler accepted as ``job_id`` (checked against the
        id grammar), remembered as QUEUED."""
        if not self.valid_job_id(job_id):
            raise SchedulerError(
                f"The scheduler answered the submission with {job_id[:100]!r}, which is not "
                f"a {self.backend_name} job id; the job may or may not exist",
                output=job_id[:1000],
                hint="Check jobs() before submitting again",
            )
        with self._lock:
            self._known[job_id] = JobInfo(id=job_id, name=spec.name, state=JobState.QUEUED)
        log.debug("submitted %s on %s as %s", job_id, self.name, self._user)
        return Job(id=job_id, resource=self)

    def status(self, job: JobRef) -> JobInfo:
        """Current info of one job. :raises JobNotFoundError: the resource does not know it."""
        job_id = job_id_of(job)
        infos = self.status_many([job_id])
        if job_id not in infos:
            with self._context():
                self._checked_id(job_id)
            raise JobNotFoundError(job_id, resource=self.name, user=self._user)
        return infos[job_id]

    def status_many(self, ids: Sequence[JobRef]) -> dict[str, JobInfo]:
        """Infos of many jobs in one scheduler call; ids the resource does not know are
        absent from the result. States never move backwards between calls."""
        with self._context():
            self._active()
            wanted = [i for i in dict.fromkeys(job_id_of(j) for j in ids) if self.valid_job_id(i)]
            if not wanted:
                return {}
            return self._remember(self._status_many(wanted))

    def jobs(self) -> list[JobInfo]:
        """This user's jobs on the resource (as far back as the resource remembers)."""
        with self._context():
            self._active()
            listed = {i.id: i for i in self._jobs()}
            for bad in [i for i in listed if not self.valid_job_id(i)]:
                log.warning("%s: ignoring a job the resource listed with the malformed id %r",
                            self.name, bad[:100])
                del listed[bad]
            return list(self._remember(listed).values())

    def cancel(self, job: JobRef) -> None:
        """Ask the scheduler to cancel; returns without waiting for the job to end.

        Cancelling a job that already finished is a no-op. :raises JobNotFoundError:
        unknown id.
        """
        with self._context():
            self._active()
            self._cancel(self._checked_id(job_id_of(job)))

    def download(self, job: JobRef, local_dir: str | Path, name: str | None = None) -> list[Path]:
        """Copy the job's output files (or only ``name``) into ``local_dir``; return the
        local paths. :raises TransferError: ``name`` does not exist or the copy failed."""
        with self._context():
            self._require(Capability.FILE_TRANSFER, "download")
            self._active()
            job_id = self._checked_id(job_id_of(job))
            target = Path(local_dir)
            try:
                target.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise TransferError(
                    f"Cannot download into {str(target)!r}: {exc.strerror or exc}",
                    path=str(target),
                    hint="Give a directory that exists or can be created, and is writable",
                ) from exc
            if not os.access(target, os.W_OK | os.X_OK):
                raise TransferError(f"Cannot download into {str(target)!r}: not writable",
                                    path=str(target), hint="Give a writable directory")
            return self._download(job_id, target, name)

    def wait(self, job: JobRef, timeout: float | None = None, poll_interval: float | None = None,
             latency: float | None = None) -> JobInfo:
        """Wait until the job reaches a final state, or is gone from the resource with no
        evidence of its end (UNKNOWN, ``native_state`` None); return that info.

        Every wait on this resource (any thread, :meth:`wait_async`, workflow cycles)
        shares one status call per poll cycle (:attr:`poller`, see remotejobs/poller.py):
        polls start fast and back off, to at most ``poll_interval`` seconds (default
        :attr:`poll_max`); with ``latency``, completion is seen within about that many
        seconds of the scheduler reporting it.

        With ``timeout`` (seconds) the last info is returned when it expires: check
        ``info.state.is_final``. :raises JobNotFoundError: the resource does not know it.
        """
        with self._context():
            self._active()
            job_id = self._checked_id(job_id_of(job))
            return self.poller.wait(job_id, timeout, poll_interval, latency)

    async def wait_async(self, job: JobRef, timeout: float | None = None, poll_interval: float | None = None,
                         latency: float | None = None) -> JobInfo:
        """:meth:`wait` for asyncio: the event loop is never blocked, and the same poll
        cycles serve sync and async waiters."""
        with self._context():
            self._active()
            job_id = self._checked_id(job_id_of(job))
            return await self.poller.wait_async(job_id, timeout, poll_interval, latency)

    @property
    def poller(self) -> Poller:
        """This resource's shared poller (created on first use)."""
        with self._lock:
            if self._poller is None:
                self._poller = Poller(self)
            return self._poller

    def __enter__(self) -> Self:
        """``with resource:`` makes it the default of ``remotejobs.submit()`` in
        the block (a context variable: other threads and tasks are not affected) and
        closes the session at the end of the block."""
        from remotejobs.workflow.context import push_default

        push_default(self)
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        from remotejobs.workflow.context import pop_default

        pop_default(self)
        self.close()

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

    def _checked_id(self, job_id: str) -> str:
        """``job_id`` when it is in the id grammar; else JobNotFoundError (nothing is sent)."""
        if not self.valid_job_id(job_id):
            raise JobNotFoundError(
                job_id,
                message=f"{job_id[:100]!r} is not a {self.backend_name or self.name} job id; "
                "nothing was sent to the resource",
                hint="Pass an id that submit() or jobs() returned",
            )
        return job_id

    def _require(self, capability: Capability, what: str) -> None:
        if capability not in self.capabilities:
            raise self._unsupported(capability, what)

    def _check_site_fields(self, spec: JobSpec) -> None:
        """:raises UnsupportedOperationError: ``spec`` sets a site field this backend does
        not map (naming each such field), before anything reaches the resource."""
        refused = [f for f in requested_site_fields(spec, self.backend_name) if f not in self.spec_fields]
        if refused:
            raise UnsupportedOperationError(
                f"Backend {self.backend_name!r} cannot honour JobSpec field(s) {', '.join(refused)}",
                resource=self.name, user=self._user,
                hint=f"Leave them unset for this resource; it maps: {', '.join(sorted(self.spec_fields)) or 'none'}",
            )

    def _check_launch(self, spec: JobSpec) -> None:
        """:raises UnsupportedOperationError: ``spec.launcher`` is not installed or not
        supported here, or ``pre_launch``/``post_launch`` are set where :attr:`launch_steps`
        is False (naming field and backend), before anything reaches the resource."""
        steps = [f for f in ("pre_launch", "post_launch") if getattr(spec, f) is not None]
        if steps and not self.launch_steps:
            raise UnsupportedOperationError(
                f"Backend {self.backend_name!r} cannot honour JobSpec field(s) {', '.join(steps)}",
                resource=self.name, user=self._user, hint="Leave them unset for this resource")
        if spec.launcher is None:
            return
        from remotejobs._plugins import get_registry

        if not self.supports_launcher(get_registry().launcher(spec.launcher)):
            raise UnsupportedOperationError(
                f"Backend {self.backend_name!r} cannot honour JobSpec field launcher={spec.launcher!r}",
                resource=self.name, user=self._user,
                hint=f"Launchers this resource supports: {', '.join(self.launchers()) or 'none'}")

    def _unsupported(self, capability: Capability, what: str) -> UnsupportedOperationError:
        return UnsupportedOperationError(
            f"Backend {self.backend_name!r} does not support {what} "
            f"(capability {capability.value!r})",
            resource=self.name,
            user=self._user,
        )

    def _remember(self, infos: dict[str, JobInfo]) -> dict[str, JobInfo]:
        with self._lock:
            merged = {k: merge_info(self._known.get(k), v) for k, v in infos.items()}
            self._known.update(merged)
            return merged

    @contextmanager
    def _context(self, user: str | None = None) -> Iterator[None]:
        try:
            yield
        except RemoteJobsError as exc:
            exc.add_context(resource=self.name, user=self._user or user)
            raise
