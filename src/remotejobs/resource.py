"""The backend extension point: :class:`ComputeResource`, one user's session on one resource.

Backends implement the underscore primitives (``_login``, ``_submit``, ``_status_many`` ...).
The public methods add what every backend must behave alike in: session checks
(:class:`NotLoggedInError` before login or after logout), capability checks, monotone job
states, the resource/user context on every error, and polling in :meth:`wait`.

ComputeResource is written in three modules, one concern each: the session (login, resume,
logout, close; ``_login`` ... primitives) in :mod:`remotejobs._session`, submission and the
checks of a spec before anything is sent in :mod:`remotejobs._submitting`, and the job
operations (status, jobs, cancel, files, wait) here. Import it from here.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from typing_extensions import TypeVar

from remotejobs._session import _Session
from remotejobs._submitting import ResourceSubmission
from remotejobs.errors import (
    JobNotFoundError,
    TransferError,
    TransportError,
)
from remotejobs.job import JobRef, job_id_of
from remotejobs.models import Capability, JobInfo, merge_info
from remotejobs.poller import Poller

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


class ComputeResource(ResourceSubmission, Generic[SettingsT_co]):
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
    # (_login, _logout, _close, _resume: remotejobs/_session.py; _submit, _submit_many,
    # supports_launcher: remotejobs/_submitting.py)
    @abstractmethod
    def _ping(self) -> bool:
        """True when the resource answers. Needs no login."""

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

    def _upload_many(self, local_paths: Sequence[Path], remote_dir: str) -> list[str]:
        """Several files (checked: existing, distinct names); by default one :meth:`_upload`
        each. Backends whose transport moves many files at once override it."""
        return [self._upload(path, remote_dir) for path in local_paths]

    def array_element_id(self, array_id: str, index: int) -> str:
        """The id of element ``index`` of array ``array_id`` (the array's own id when the
        backend gives elements no id of their own, see :attr:`array_element_format`)."""
        fmt = self.array_element_format
        return array_id if fmt is None else fmt.format(id=array_id, index=index)

    def valid_job_id(self, job_id: str) -> bool:
        """True when ``job_id`` is in this backend's id grammar (:attr:`job_id_pattern`).
        Every public method checks ids with it before the backend sees them."""
        return self.job_id_pattern.fullmatch(job_id) is not None

    # -- public API -----------------------------------------------------------------
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

    def upload_many(self, local_paths: Sequence[str | Path], remote_dir: str) -> list[str]:
        """Copy several local files into ``remote_dir`` under their own names; return the
        remote paths, in order. Where the transport can, in one round trip (SSH: one tar
        stream for all of them); each file appears whole under its final name or not at all.

        :raises TransferError: a local file is missing, two have the same name, or the copy
            failed (files copied before the failure stay).
        """
        with self._context():
            self._require(Capability.FILE_TRANSFER, "upload")
            self._active()
            paths = [Path(p) for p in local_paths]
            for path in paths:
                if not path.is_file():
                    raise TransferError(f"Local file {str(path)!r} does not exist", path=str(path))
            if len({p.name for p in paths}) != len(paths):
                raise TransferError("Two of the files to upload have the same name", path=remote_dir,
                                    hint="Upload files of the same name into different directories")
            return self._upload_many(paths, remote_dir) if len(paths) > 1 else [
                self._upload(p, remote_dir) for p in paths]

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

    def _remember(self, infos: dict[str, JobInfo]) -> dict[str, JobInfo]:
        with self._lock:
            merged = {k: merge_info(self._known.get(k), v) for k, v in infos.items()}
            self._known.update(merged)
            return merged

