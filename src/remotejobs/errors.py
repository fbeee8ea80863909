"""The one error hierarchy of remotejobs.

Every exception raised by the SDK or a conforming backend is a :class:`RemoteJobsError`.
Each carries the resource name (the configuration name), the user where relevant, a
``transient`` flag (True: the same call may succeed later unchanged, e.g. a dropped
connection; False: something must change first) and a ``hint`` saying what to do next.
Third-party exceptions (paramiko, requests, subprocess, OS errors) are translated at the
boundary and chained with ``raise ... from exc``.

Tree::

    RemoteJobsError
    ├── ConfigurationError            bad or missing configuration          (fatal)
    │   ├── UnknownResourceError      resource name not configured; lists the known names
    │   └── InvalidSettingsError      bad key/value; names file, table, key and the valid keys
    ├── PluginError                   backend plugins                          (fatal)
    │   ├── BackendNotFoundError      no installed backend by that name; lists installed ones
    │   ├── BackendLoadError          the plugin providing the backend failed to import/register
    │   └── BackendConflictError      two plugins claim one backend name
    ├── UnsupportedOperationError     the backend lacks a capability          (fatal)
    ├── InvalidJobSpecError           the backend cannot honour a JobSpec      (fatal)
    │   └── JobSpecValidationError    a JobSpec/Dependency is invalid; also a ValueError
    ├── AuthenticationError           wrong credentials, missing password     (fatal)
    ├── NotLoggedInError              no session for this user; log in first  (fatal)
    │   └── SessionExpiredError       the server dropped the session; log in again
    ├── JobNotFoundError              the resource does not know the job id   (fatal)
    ├── SubmissionError               the scheduler refused or failed a submit (maybe transient)
    │   └── PartialSubmissionError    submit_many: some jobs accepted, others not (``jobs``, ``errors``)
    ├── TransferError                 upload/download failed (``path``)        (maybe transient)
    ├── SchedulerError                a scheduler command failed or printed what cannot be
    │                                 understood (``command``, ``exit_status``, ``output``)
    └── TransportError                commands/files could not be moved       (transient)
        ├── HostKeyError              the SSH host key is unknown or changed   (fatal)
        └── OperationTimeoutError     connect or command timed out            (transient)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from remotejobs.job import Job

__all__ = [
    "AuthenticationError",
    "BackendConflictError",
    "BackendLoadError",
    "BackendNotFoundError",
    "ConfigurationError",
    "HostKeyError",
    "InvalidJobSpecError",
    "InvalidSettingsError",
    "JobNotFoundError",
    "JobSpecValidationError",
    "NotLoggedInError",
    "OperationTimeoutError",
    "PartialSubmissionError",
    "PluginError",
    "RemoteJobsError",
    "SchedulerError",
    "SessionExpiredError",
    "SubmissionError",
    "TransferError",
    "TransportError",
    "UnknownResourceError",
    "UnsupportedOperationError",
]

_MAX_OUTPUT = 2000


class RemoteJobsError(Exception):
    """Base of every error the SDK raises.

    :ivar message: what failed, without the context suffix.
    :ivar resource: configuration name of the resource, or None.
    :ivar user: the user whose session failed, or None.
    :ivar transient: True when retrying the same call unchanged may succeed.
    :ivar hint: what to do next, or "".
    """

    default_transient: ClassVar[bool] = False
    default_hint: ClassVar[str] = ""

    def __init__(
        self,
        message: str,
        *,
        resource: str | None = None,
        user: str | None = None,
        transient: bool | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.resource = resource
        self.user = user
        self.transient = self.default_transient if transient is None else transient
        self.hint = self.default_hint if hint is None else hint
        super().__init__(self._render())

    def add_context(self, *, resource: str | None, user: str | None) -> RemoteJobsError:
        """Fill in resource and user where missing (used where layers meet); returns self."""
        if self.resource is None and resource is not None:
            self.resource = resource
        if self.user is None and user is not None:
            self.user = user
        self.args = (self._render(),)
        return self

    def _render(self) -> str:
        text = self.message
        where = []
        if self.resource:
            where.append(f"resource {self.resource!r}")
        if self.user:
            where.append(f"user {self.user!r}")
        if where:
            text += f" [{', '.join(where)}]"
        if self.hint:
            text += f". {self.hint}"
        return text


class ConfigurationError(RemoteJobsError):
    """The configuration is missing, unreadable or wrong. Fix the configuration."""


class UnknownResourceError(ConfigurationError):
    """No resource of that name is configured.

    :ivar name: the name asked for. :ivar known: the configured names.
    """

    def __init__(self, name: str, known: Sequence[str], *, source: str | None = None) -> None:
        self.name = name
        self.known = sorted(known)
        where = f" in {source}" if source else ""
        listed = ", ".join(self.known) if self.known else "none"
        super().__init__(
            f"No resource named {name!r} is configured{where}; configured resources: {listed}",
            hint=f"Add a [resources.{name}] table with a 'backend' key, or use one of those names",
        )


class InvalidSettingsError(ConfigurationError):
    """A setting is missing or invalid.

    :ivar file: the configuration file, or None for inline settings.
    :ivar table: the TOML table (``resources.<name>``).
    :ivar key: the offending key. :ivar valid_keys: the keys the backend accepts.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None,
        table: str,
        key: str | None,
        valid_keys: Sequence[str] = (),
        resource: str | None = None,
    ) -> None:
        self.file = file
        self.table = table
        self.key = key
        self.valid_keys = list(valid_keys)
        place = f"[{table}]" + (f" key {key!r}" if key else "")
        if file:
            place = f"{file}: {place}"
        valid = f"; valid keys: {', '.join(self.valid_keys)}" if self.valid_keys else ""
        super().__init__(f"Invalid setting {place}: {problem}{valid}", resource=resource)


class PluginError(RemoteJobsError):
    """A backend plugin is missing, broken or conflicting."""


class BackendNotFoundError(PluginError):
    """No installed plugin provides the backend. :ivar available: installed backend names."""

    def __init__(self, backend: str, available: Sequence[str], *, resource: str | None = None) -> None:
        self.backend = backend
        self.available = sorted(available)
        super().__init__(
            f"No backend named {backend!r} is installed; installed backends: "
            f"{', '.join(self.available) or 'none'}",
            resource=resource,
            hint=f"Install its plugin (for example: pip install remotejobs-{backend})",
        )


class BackendLoadError(PluginError):
    """The plugin that provides a backend could not be loaded (the cause is chained)."""


class BackendConflictError(PluginError):
    """Two plugins register the same backend name; uninstall one of them."""


class UnsupportedOperationError(RemoteJobsError):
    """The backend does not have the capability the call needs."""


class InvalidJobSpecError(RemoteJobsError):
    """The JobSpec is valid in general but cannot be honoured by this backend."""


class JobSpecValidationError(InvalidJobSpecError, ValueError):
    """Constructing a :class:`~remotejobs.JobSpec` (or :class:`~remotejobs.Dependency`)
    failed validation. Also a :class:`ValueError`, as pydantic's own error is.

    :ivar model: the model's name. :ivar errors: pydantic's details (``loc``, ``msg``,
        ``type``, ``ctx``), without the rejected input values (they may be secrets).
    """

    def __init__(self, model: str, errors: Sequence[dict[str, object]]) -> None:
        self.model = model
        self.errors = [dict(e) for e in errors]
        problems = [f"{_loc(e.get('loc')) or model}: {e.get('msg', 'invalid')}" for e in self.errors]
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        super().__init__(f"Invalid {model}: {shown}")


def _loc(loc: object) -> str:
    return ".".join(str(p) for p in loc) if isinstance(loc, tuple | list) else ""


class AuthenticationError(RemoteJobsError):
    """Credentials are missing or were rejected. Check username, password or key."""


class NotLoggedInError(RemoteJobsError):
    """The operation needs a session and this user has none (never logged in, or logged out)."""

    default_hint = "Call login() first"


class SessionExpiredError(NotLoggedInError):
    """The server no longer accepts the session token; log in again."""

    default_hint = "Log in again"


class JobNotFoundError(RemoteJobsError):
    """The resource does not know this job id. :ivar job_id: the id asked for."""

    def __init__(self, job_id: str, **kwargs: object) -> None:
        self.job_id = job_id
        message = kwargs.pop("message", None) or f"Job {job_id!r} not found"
        super().__init__(str(message), **kwargs)  # type: ignore[arg-type]


class SubmissionError(RemoteJobsError):
    """The job was not submitted. When ``transient`` is True the outcome was uncertain
    (connection lost mid-submit): check ``jobs()`` before submitting again."""


class PartialSubmissionError(SubmissionError):
    """:meth:`ComputeResource.submit_many` could not submit every job.

    :ivar jobs: one entry per spec, in order: the :class:`~remotejobs.Job` of an accepted
        spec (that job exists: cancel or keep it), None for the others.
    :ivar errors: position of each spec not accepted -> its error (a
        :class:`SubmissionError` or :class:`SchedulerError`; ``transient`` True when the
        outcome of that one is unknown or it was not attempted).
    """

    def __init__(self, jobs: Sequence[Job | None], errors: dict[int, RemoteJobsError], **kwargs: object) -> None:
        self.jobs = list(jobs)
        self.errors = dict(sorted(errors.items()))
        shown = "; ".join(f"#{n}: {e.message}" for n, e in list(self.errors.items())[:3])
        more = f"; and {len(self.errors) - 3} more" if len(self.errors) > 3 else ""
        kwargs.setdefault("transient", all(e.transient for e in self.errors.values()))
        kwargs.setdefault("hint", "The accepted jobs exist (.jobs); fix and submit the specs in .errors again "
                          "(for a transient one, check jobs() first)")
        super().__init__(f"{len(self.errors)} of {len(self.jobs)} jobs were not submitted ({shown}{more})",
                         **kwargs)  # type: ignore[arg-type]


class TransferError(RemoteJobsError):
    """An upload or download failed. :ivar path: the file concerned."""

    def __init__(self, message: str, *, path: str | None = None, **kwargs: object) -> None:
        self.path = path
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class SchedulerError(RemoteJobsError):
    """A scheduler command failed, or printed output that cannot be understood.

    :ivar command: the argv run. :ivar exit_status: its exit status (None if unknown).
    :ivar output: its stdout and stderr (truncated).
    """

    def __init__(
        self,
        message: str,
        *,
        command: Sequence[str] = (),
        exit_status: int | None = None,
        output: str = "",
        **kwargs: object,
    ) -> None:
        self.command = list(command)
        self.exit_status = exit_status
        self.output = output[:_MAX_OUTPUT]
        detail = []
        if self.command:
            detail.append(f"command: {' '.join(self.command)}")
        if exit_status is not None:
            detail.append(f"exit status {exit_status}")
        if self.output.strip():
            detail.append(f"output: {self.output.strip()!r}")
        if detail:
            message = f"{message} ({'; '.join(detail)})"
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class TransportError(RemoteJobsError):
    """Commands or files could not be moved (connection refused or lost). Usually transient."""

    default_transient = True


class HostKeyError(TransportError):
    """The SSH host key is unknown or does not match known_hosts. Not transient."""

    default_transient = False


class OperationTimeoutError(TransportError):
    """Connecting or a command took longer than its timeout."""
