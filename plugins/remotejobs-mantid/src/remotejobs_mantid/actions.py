"""Mantid's ``SCARFTomoReconstruction`` actions on top of the SDK, one-to-one.

Facility software moving off Mantid's algorithm calls::

    from remotejobs_mantid import SCARFTomoReconstruction
    SCARFTomoReconstruction(UserName="me", Action="LogIn", Password=pw)
    out = SCARFTomoReconstruction(Action="JobStatus")      # UserName remembered
    out["RemoteJobsID"], out["RemoteJobsStatus"], ...

Same actions, inputs and outputs as the algorithm (Mantid's ``SCARFTomoReconstruction``,
mantidproject/mantid; seed ``SCARFTomoReconstruction v1``). Behaviour:

* sessions are kept per user name in the state of a :class:`ScarfActions` (the module's
  functions use one process-wide instance, as Mantid's algorithm keeps its state), so
  several users work at once; the last user name given is remembered and used when
  ``UserName`` is omitted;
* the defaults of ``RunnablePath``, ``JobOptions`` and ``DestinationDirectory``, the job
  name prefix, the compute resource's name and the web service come from
  :class:`~remotejobs_mantid.settings.MantidSettings`;
* :class:`ValueError` (raised before any network traffic) for an invalid action name or
  property, a missing ``UserName``, ``LogIn`` without ``Password``, an action by a user who
  has not logged in, or a non-integer job id;
* failures of the remote operation raise :class:`ActionFailed` (a :class:`RuntimeError`,
  as Mantid's algorithm raises from ``exec``) chaining the SDK error in ``.error``;
* status words are PAC's, verbatim (``Pending``, ``Running``, ``Done``, ``Exit`` ...).

Outputs are returned as a dict. ``SubmitJob`` also returns ``JobID`` and ``Download``
``LocalFiles`` (additions: the algorithm only logged them).
"""

from __future__ import annotations

import difflib
import itertools
import shlex
import threading
from collections.abc import Callable
from typing import Any

from remotejobs_lsf_web.resource import LsfWebResource, ScarfResource
from remotejobs_lsf_web.settings import LsfWebSettings, ScarfSettings

from remotejobs.errors import RemoteJobsError
from remotejobs.models import JobSpec
from remotejobs_mantid.settings import MantidSettings

__all__ = ["ACTIONS", "ActionFailed", "SCARFTomoReconstruction", "ScarfActions", "configure", "defaults"]

ACTIONS = ("LogIn", "LogOut", "Ping", "Upload", "SubmitJob", "JobStatus", "JobStatusByID", "Download", "CancelJob")


def defaults(settings: MantidSettings) -> dict[str, Any]:
    """The algorithm's properties and their defaults under ``settings``."""
    return {
        "UserName": "",
        "Action": "LogIn",
        "Password": "",
        "RunnablePath": settings.runnable_path,
        "JobOptions": settings.job_options,
        "JobName": "",
        "FileToUpload": "",
        "DestinationDirectory": settings.destination_directory,
        "JobID": 0,
        "RemoteJobFilename": "",
        "LocalDirectory": "",
        "DownloadJobID": 0,
        "CancelJobID": 0,
    }


_INT_PROPS = ("JobID", "DownloadJobID", "CancelJobID")
_UNKNOWN = "Unknown!"


class ActionFailed(RuntimeError):
    """The action reached the service and failed. :ivar error: the SDK error."""

    def __init__(self, message: str, error: RemoteJobsError | None = None) -> None:
        super().__init__(message)
        self.error = error


class ScarfActions:
    """The state of the algorithm: settings and one session per user name.

    :param settings: :class:`MantidSettings`, or only the web service's settings (the
        algorithm's defaults then stay SCARF's).
    """

    def __init__(self, settings: MantidSettings | LsfWebSettings | None = None) -> None:
        if isinstance(settings, LsfWebSettings):
            settings = MantidSettings(service=settings)
        self.config: MantidSettings = settings or MantidSettings()
        self.settings: LsfWebSettings = self.config.service
        self._defaults = defaults(self.config)
        self._sessions: dict[str, LsfWebResource] = {}
        self._last_user = ""
        self._names = itertools.count(1)
        self._lock = threading.Lock()

    def _open(self) -> LsfWebResource:
        cls = ScarfResource if isinstance(self.settings, ScarfSettings) else LsfWebResource
        return cls(self.settings, name=self.config.compute_resource)

    def __call__(self, **props: Any) -> dict[str, Any]:
        values = self._validate(props)
        action, user = values["Action"], values["UserName"]
        handler: Callable[[str, dict[str, Any]], dict[str, Any]] = getattr(self, f"_do_{action}")
        try:
            return handler(user, values)
        except RemoteJobsError as exc:
            where = self.config.compute_resource
            raise ActionFailed(f"{action} failed for user {user!r} on {where}: {exc}", exc) from exc

    # -- validation (no network) ------------------------------------------------------------
    def _validate(self, props: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(props) - set(self._defaults))
        if unknown:
            raise ValueError(f"Unknown property {unknown[0]!r} for SCARFTomoReconstruction; "
                             f"valid properties: {', '.join(self._defaults)}")
        values = {**self._defaults, **{k: v for k, v in props.items() if v is not None}}
        action = values["Action"]
        if action not in ACTIONS:
            close = difflib.get_close_matches(str(action), ACTIONS, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"Invalid value {action!r} for property 'Action': allowed values are "
                             f"{', '.join(ACTIONS)}.{hint}")
        for key in _INT_PROPS:
            try:
                values[key] = int(values[key])
            except (TypeError, ValueError):
                raise ValueError(f"Property {key!r} must be an integer job id, not {values[key]!r}") from None
        with self._lock:
            user = str(values["UserName"] or self._last_user)
            if not user:
                raise ValueError("Property 'UserName' is mandatory (no user name was given before)")
            self._last_user = user
            known = user in self._sessions
        values["UserName"] = user
        if action == "LogIn" and not values["Password"]:
            raise ValueError(
                "You have given an empty password but the current login mechanism on "
                f"{self.config.compute_resource} "
                "does not support this. For the time being you need to provide a password (Password=...)."
            )
        if action not in ("LogIn", "Ping") and not known:
            what = {"LogOut": "Logout", "SubmitJob": "Job submission", "Upload": "File upload",
                    "Download": "File download", "CancelJob": "Job cancel"}.get(action, "Job status query")
            raise ValueError(f"{what} failed. You do not seem to be logged in. I do not remember this "
                             f"username ({user!r}). Please check your username, or use Action='LogIn' first.")
        return values

    def _session(self, user: str) -> LsfWebResource:
        with self._lock:
            return self._sessions[user]

    # -- actions ---------------------------------------------------------------------------------
    def _do_LogIn(self, user: str, values: dict[str, Any]) -> dict[str, Any]:
        resource = self._open()
        resource.login(user, str(values["Password"]))
        with self._lock:
            old = self._sessions.pop(user, None)
            self._sessions[user] = resource
        if old is not None:
            old.logout()  # the replaced token ends on the server
        return {}

    def _do_LogOut(self, user: str, values: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            resource = self._sessions.pop(user)
        resource.logout()
        return {}

    def _do_Ping(self, user: str, values: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            resource = self._sessions.get(user)
        probe = resource or self._open()
        try:
            ok = probe.ping()
        finally:
            if probe is not resource:
                probe.close()  # a resource opened only for the ping releases its connections
        if not ok:
            raise ActionFailed(f"Failed to ping the web service of {self.config.compute_resource}: it does not "
                               "answer 'Web Services are ready'")
        return {}

    def _do_Upload(self, user: str, values: dict[str, Any]) -> dict[str, Any]:
        path = str(values["FileToUpload"]).replace("\\", "/")
        if not path:
            raise ValueError("Property 'FileToUpload' is required for Action='Upload'")
        return {"RemoteFile": self._session(user).upload(path, str(values["DestinationDirectory"]))}

    def _do_SubmitJob(self, user: str, values: dict[str, Any]) -> dict[str, Any]:
        try:
            arguments = tuple(shlex.split(str(values["JobOptions"])))
        except ValueError as exc:
            raise ValueError(f"Property 'JobOptions' cannot be split into arguments: {exc}") from None
        name = str(values["JobName"]) or f"{self.config.job_name_prefix}{next(self._names)}"
        spec = JobSpec(executable=str(values["RunnablePath"]), arguments=arguments, name=name)
        return {"JobID": self._session(user).submit(spec).id}

    def _do_JobStatus(self, user: str, values: dict[str, Any]) -> dict[str, Any]:
        infos = self._session(user).jobs()
        return {
            "RemoteJobsID": [i.id for i in infos],
            "RemoteJobsNames": [i.name or _UNKNOWN for i in infos],
            "RemoteJobsStatus": [i.native_state or _UNKNOWN for i in infos],
            "RemoteJobsCommands": [i.command or _UNKNOWN for i in infos],
        }

    def _do_JobStatusByID(self, user: str, values: dict[str, Any]) -> dict[str, Any]:
        job_id = str(values["JobID"])
        info = self._session(user).status_many([job_id]).get(job_id)
        if info is None:
            return {"RemoteJobName": _UNKNOWN, "RemoteJobStatus": _UNKNOWN, "RemoteJobCommand": _UNKNOWN}
        return {"RemoteJobName": info.name or _UNKNOWN, "RemoteJobStatus": info.native_state or _UNKNOWN,
                "RemoteJobCommand": info.command or _UNKNOWN}

    def _do_Download(self, user: str, values: dict[str, Any]) -> dict[str, Any]:
        local = str(values["LocalDirectory"]) or "."
        name = str(values["RemoteJobFilename"]) or None
        files = self._session(user).download(str(values["DownloadJobID"]), local, name)
        return {"LocalFiles": [str(p) for p in files]}

    def _do_CancelJob(self, user: str, values: dict[str, Any]) -> dict[str, Any]:
        self._session(user).cancel(str(values["CancelJobID"]))
        return {}


_default = ScarfActions()


def configure(settings: MantidSettings | LsfWebSettings) -> ScarfActions:
    """Point the process-wide actions at other settings, or only at another service (e.g.
    a test one); sessions of the previous configuration are logged out. Returns the new
    state."""
    global _default  # the algorithm's state is process-wide by design
    old, _default = _default, ScarfActions(settings)
    for resource in list(old._sessions.values()):
        resource.logout()
    return _default


def SCARFTomoReconstruction(**props: Any) -> dict[str, Any]:
    """Run one action; see the module docstring for properties, outputs and errors."""
    return _default(**props)
