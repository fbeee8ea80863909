"""The ``lsf-web`` backend: one user's session on an IBM Platform LSF Application Center.

Wire formats: their public sources are cited in :mod:`remotejobs_lsf_web._wire` and listed in
tests/pac_emulator/README.md. One pooled HTTP session per
resource object, so several users work side by side with their own tokens. A 200 answer
carrying ``<errMsg>`` is always an error with the server's message; an ``<errMsg>`` that
matches ``expired_pattern`` raises :class:`SessionExpiredError`, unless a password source
(credential callback or keyring) is configured: then the backend logs in again and
repeats an idempotent request once.
"""

from __future__ import annotations

import itertools
import logging
import posixpath
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import remotejobs
from remotejobs.errors import (
    AuthenticationError,
    InvalidJobSpecError,
    SchedulerError,
    SubmissionError,
    TransportError,
)
from remotejobs.models import Capability, JobInfo, JobSpec
from remotejobs.resource import ComputeResource
from remotejobs_lsf_web import _files
from remotejobs_lsf_web._auth import CredentialCallback, log_in, password_from
from remotejobs_lsf_web._session import PacSession
from remotejobs_lsf_web._states import to_info
from remotejobs_lsf_web._token_cache import CachedToken, TokenCache
from remotejobs_lsf_web._wire import (
    FILE_NAME,
    JOB_ID,
    SUBMIT_BOUNDARY,
    PacJob,
    action_message,
    error_message,
    job_url,
    note_message,
    parse_jobs,
    parse_submit_id,
    submit_body,
)
from remotejobs_lsf_web.client import Answer, PacClient
from remotejobs_lsf_web.settings import LsfWebSettings, ScarfSettings

__all__ = ["LsfWebResource", "ScarfResource"]

log = logging.getLogger(__name__)

_NOT_FOUND = re.compile(r"(?i)no matching job|not found|does not exist|unknown job|permission denied|not the owner")
_FINISHED = re.compile(r"(?i)already finished|has finished|already (done|exited|completed)")
#: lsf-faas ``prepareUpload``: "Total file size is greater than 500MB. Files cannot be uploaded."
_MAX_UPLOAD = 536870912
_UNSUPPORTED = ("directory", "environment", "queue", "walltime", "memory_mb")
# Characters an XML 1.0 document cannot carry (https://www.w3.org/TR/xml/#charsets), and CR,
# which every XML parser turns into LF (https://www.w3.org/TR/xml/#sec-line-ends): the
# service's XML answers (job lists) repeat names and command lines, and one such job would
# make every later job list unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]")


class LsfWebResource(ComputeResource[LsfWebSettings]):
    """A PAC web service. Job arguments are sent as one ``INPUT_ARGS`` string quoted with
    ``shlex.join``: they arrive verbatim only when the server's application template
    evaluates INPUT_ARGS with a POSIX shell (as PAC's generic template does).

    :param credentials: optional ``callback(username) -> password`` used to log in without
        a password and to log in again when the server drops the session.
    """

    backend_name = "lsf-web"
    capabilities = frozenset({Capability.LOGIN_REQUIRED, Capability.FILE_TRANSFER})
    poll_max = 1.0
    #: PAC job ids are positive numbers (Mantid LSFJobManager.cpp ``submitRemoteJob``: ``<id>``);
    #: the core refuses anything else before a URL is built, and :func:`job_url` quotes the id as one path segment.
    job_id_pattern: ClassVar[re.Pattern[str]] = JOB_ID

    def __init__(
        self, settings: LsfWebSettings, *, name: str, credentials: CredentialCallback | None = None
    ) -> None:
        super().__init__(settings, name=name)
        self._credentials = credentials
        self._http = PacClient(
            ca_bundle=settings.ca_bundle,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            retries=settings.retries,
            user_agent=f"remotejobs-lsf-web/{remotejobs.__version__}",
        )
        self._cache = TokenCache(settings.token_cache) if settings.token_cache else None
        #: The token and the authenticated requests (also used by file transfer).
        self.pac = PacSession(self._http, settings, name=name, renew=self._relogin)
        self._auth_lock = self.pac.lock
        self._cancelled: set[str] = set()
        self._counter = itertools.count(1)  # job name suffixes; next() is atomic

    # -- session ------------------------------------------------------------------------
    def password_required(self) -> bool:
        """False when a credential callback or a keyring entry can log in (a cached token
        is taken up by :meth:`_resume`, not counted here)."""
        return self._credentials is None and not self.settings.keyring_service

    def _resume(self, username: str | None) -> str | None:
        """The cached token of ``username`` (or of the ``username`` setting, or of the one
        user the cache holds for this service), when ``token_cache`` is set. No request."""
        if self._cache is None:
            return None
        user = username or self.settings.username or self._single_cached_user()
        cached = self._cache.get(self._cache_key(user)) if user else None
        if user is None or cached is None:
            return None
        with self._auth_lock:
            self._pac = cached
        log.debug("%s: using the cached session of %s", self.name, user)
        return user

    def _login(self, username: str | None, password: str | None) -> str:
        user = username or self.settings.username or self._single_cached_user()
        if not user:
            raise AuthenticationError(
                "A user name is required to log in", hint="Pass username=... or set the 'username' setting"
            )
        if password is None:
            password = password_from(self.settings, self._credentials, user)
            if password is None:
                raise AuthenticationError(
                    f"No password for {user!r} and no cached session",
                    user=user,
                    hint="Log in with a password",
                )
        session = log_in(self._http, self.settings, user, password)
        with self._auth_lock:
            self._pac = session
        if self._cache:
            self._cache.put(self._cache_key(user), session)
        log.info("%s: logged in as %s", self.name, user)
        return user

    def _logout(self) -> None:
        """Log the token out on the server and remove it from the token cache."""
        pac = self._pac
        if self._cache and self._user:
            self._cache.remove(self._cache_key(self._user))
        if pac is None:
            return
        answer = self._http.request(
            "log out", "GET", pac.url + "webservice/pacclient/logout/", idempotent=True,
            cookie=self._cookie(pac), content_type="text/plain",
        )
        message = error_message(answer.text)
        if message is not None and not self.pac.expired(message):
            raise SchedulerError(f"Logout failed: {message}", command=["GET", "logout/"])

    def _close(self) -> None:
        """Drop the token from memory and close the pooled connections; the token cache
        keeps the session for later processes."""
        with self._auth_lock:
            self._pac = None
        self._http.close()

    def _ping(self) -> bool:
        base = self.settings.ping_url or (self._pac.url if self._pac else None) or self.settings.base_url
        if not base:
            raise TransportError("No ping URL: set ping_url or base_url", transient=False)
        answer = self._http.request(
            "ping", "GET", base + "webservice/pacclient/ping/", idempotent=True, content_type="text/plain"
        )
        text = answer.text.lower()
        return "web services are ready" in text and "not ready" not in text

    # -- jobs ---------------------------------------------------------------------------
    def _submit(self, spec: JobSpec) -> str:
        bad = [f for f in _UNSUPPORTED if getattr(spec, f) not in (None, {}, ())]
        if bad:
            raise InvalidJobSpecError(
                f"The PAC web service cannot honour JobSpec field(s) {', '.join(bad)}",
                hint="Jobs run in a fresh job directory chosen by the server; use app_params for "
                "site-specific application parameters",
            )
        unsendable = [f"argument {i}" for i, a in enumerate(spec.arguments) if _NOT_XML.search(a)]
        unsendable += ["name"] if spec.name and _NOT_XML.search(spec.name) else []
        unsendable += ["executable"] if _NOT_XML.search(spec.executable) else []
        if unsendable:
            raise InvalidJobSpecError(
                f"The PAC web service cannot carry control characters or CR in the job's {', '.join(unsendable)}",
                hint="Its XML answers repeat names and command lines, and XML 1.0 cannot hold these "
                "characters; pass such data in an uploaded file")
        app = self._app_for(spec.arguments)
        files = self._input_files(spec, app)
        params = self._params(spec, app, uploaded=bool(files))
        try:
            answer = self._call(
                "submit", "POST", "submitapp", idempotent=False,
                content_type=f"multipart/mixed; boundary={SUBMIT_BOUNDARY}",
                body=submit_body(app, params, files),
            )
        except TransportError as exc:
            raise SubmissionError(
                f"Submission outcome unknown: {exc.message}", transient=True,
                hint="Check jobs() before submitting again",
            ) from exc
        message = error_message(answer.text)
        if message is not None:
            raise SubmissionError(f"The web service refused the job (application {app!r}): {message}")
        job_id = parse_submit_id(answer.text)
        if job_id is None:
            raise SubmissionError(
                f"The submit answer carries no job id: {answer.text[:200]!r}", transient=True,
                hint="Check jobs() before submitting again",
            )
        return job_id

    def _input_files(self, spec: JobSpec, app: str) -> list[tuple[str, str, bytes]]:
        """With ``upload_executable`` for a ``command_apps`` application: the local file
        ``spec.executable`` as the uploaded ``INPUT_FILE`` (lsf-faas ``submitJob``:
        ``input_files['INPUT_FILE'] = scriptname + ',upload'``, refused over 500 MB by its
        ``prepareUpload``); else nothing."""
        if not (self.settings.upload_executable and app in self.settings.command_apps):
            return []
        path = Path(spec.executable).expanduser()
        if not FILE_NAME.fullmatch(path.name):
            raise InvalidJobSpecError(f"The executable's file name {path.name!r} cannot be uploaded to PAC",
                                      hint="Use letters, digits and _ . + - (not first: . -)")
        try:
            if path.stat().st_size > _MAX_UPLOAD:
                raise InvalidJobSpecError(f"{path} is larger than 500 MB; PAC's clients upload no more")
            return [("INPUT_FILE", path.name, path.read_bytes())]
        except OSError as exc:
            raise InvalidJobSpecError(
                f"Cannot read the executable {path} to upload it to PAC: {exc.strerror}",
                hint="upload_executable = true sends a local file; give its local path") from exc

    def _params(self, spec: JobSpec, app: str, *, uploaded: bool = False) -> list[tuple[str, str]]:
        """The AppParams of ``spec`` for application ``app`` (files: :meth:`_input_files`).

        Applications in ``command_apps`` (PAC's ``generic``) get the whole command line as
        ``COMMANDTORUN``, as IBM's own clients send it (github.com/IBMSpectrumComputing/lsf-faas,
        src/lsf_faas/lsflib.py ``submitJob``: ``COMMANDTORUN``, ``OUTPUT_FILE``, ``ERROR_FILE`` to
        AppName ``generic``, the script as an uploaded ``INPUT_FILE`` run by its name in the
        job directory). An ``uploaded`` executable runs as ``./<name>``, made executable first
        (an upload carries no file mode). Other applications (SCARF's TOMOPY/PYASTRA
        templates) get ``INPUT_FILE`` and ``INPUT_ARGS`` as Mantid sends them
        (mantidproject/mantid, Framework/RemoteJobManagers/src/LSFJobManager.cpp
        ``buildSubmitBody``).
        """
        number = next(self._counter)
        ncpu = spec.nodes * spec.processes_per_node
        if uploaded:
            local = "./" + Path(spec.executable).expanduser().name
            line = f"chmod u+x {shlex.quote(local)} && {shlex.join((local, *spec.arguments))}"
            command = [("COMMANDTORUN", line)]
        elif app in self.settings.command_apps:
            command = [("COMMANDTORUN", shlex.join((spec.executable, *spec.arguments)))]
        else:
            command = [("INPUT_ARGS", shlex.join(spec.arguments)), ("INPUT_FILE", spec.executable)]
        params = [
            *command,
            ("OUTPUT_FILE", spec.stdout or "%J.output"),
            ("ERROR_FILE", spec.stderr or "%J.error"),
            ("JOB_NAME", spec.name or f"remotejobs_{posixpath.basename(spec.executable)}_{number}"),
            ("MIN_NUM_CPU", str(ncpu)),
            ("MAX_NUM_CPU", str(ncpu)),
            ("PROC_PRE_HOST", str(spec.processes_per_node)),
        ]
        return params + sorted(self.settings.app_params.items())

    def _app_for(self, arguments: Sequence[str]) -> str:
        """``tool_apps[x]`` when the arguments hold ``--tool x`` or ``--tool=x`` (SCARF's rule)."""
        for index, arg in enumerate(arguments):
            tool = arg[7:] if arg.startswith("--tool=") else None
            if arg == "--tool" and index + 1 < len(arguments):
                tool = arguments[index + 1]
            if tool is not None and tool in self.settings.tool_apps:
                return self.settings.tool_apps[tool]
        return self.settings.app_name

    def _status_many(self, ids: Sequence[str]) -> dict[str, JobInfo]:
        path = job_url("jobs", ids[0]) if len(ids) == 1 else "jobs"
        wanted = set(ids)
        return {j.id: self._info(j) for j in self._list(path, "job status query") if j.id in wanted}

    def _jobs(self) -> list[JobInfo]:
        return [self._info(j) for j in self._list("jobs", "job list query")]

    def _list(self, path: str, op: str) -> list[PacJob]:
        answer = self._call(op, "GET", path, idempotent=True, content_type="application/xml",
                            params={"details": "yes"})
        message = error_message(answer.text)
        if message is not None:
            if _NOT_FOUND.search(message):
                return []
            raise SchedulerError(f"{op} failed: {message}", command=["GET", path])
        jobs = parse_jobs(answer.text)
        if jobs is None:
            if note_message(answer.text) is not None:
                return []
            raise SchedulerError(f"{op}: the answer is not a job list", command=["GET", path],
                                 output=answer.text)
        return [j for j in jobs if j.user is None or j.user == self._user]

    def _info(self, job: PacJob) -> JobInfo:
        return to_info(job, cancelled=job.id in self._cancelled)

    def _cancel(self, job_id: str) -> None:
        path = job_url("jobOperation/kill", job_id)
        answer = self._call("cancel", "GET", path, idempotent=True, content_type="application/xml")
        message = error_message(answer.text)
        if message is None and action_message(answer.text) is not None:
            self._cancelled.add(job_id)
            return
        if message is not None and _FINISHED.search(message):
            return
        if message is not None and _NOT_FOUND.search(message):
            raise remotejobs.JobNotFoundError(job_id, message=f"Job {job_id!r} not found: {message}")
        raise SchedulerError(f"Cancelling job {job_id} failed: {message or 'unrecognised answer'}",
                             command=["GET", path], output="" if message else answer.text)

    # -- files --------------------------------------------------------------------------
    def _upload(self, local_path: Path, remote_dir: str) -> str:
        return _files.upload(self.pac, local_path, remote_dir)

    def _download(self, job_id: str, local_dir: Path, name: str | None) -> list[Path]:
        return _files.download(self.pac, job_id, local_dir, name)

    # -- requests with the session token -------------------------------------------------
    @property
    def _pac(self) -> CachedToken | None:
        """The current token (held by :attr:`pac`)."""
        return self.pac.token

    @_pac.setter
    def _pac(self, token: CachedToken | None) -> None:
        self.pac.token = token

    def _call(
        self, op: str, method: str, path: str, *, idempotent: bool, content_type: str | None = None,
        body: bytes | None = None, params: dict[str, str] | None = None,
    ) -> Answer:
        """An authenticated request through :attr:`pac` (see :meth:`PacSession.call`)."""
        return self.pac.call(op, method, path, idempotent=idempotent, content_type=content_type, body=body,
                             params=params)

    def _relogin(self, stale: CachedToken) -> bool:
        user = self._user
        if not user:
            return False
        with self._auth_lock:
            if self.pac.token is not stale:  # another thread renewed it already
                return True
            password = password_from(self.settings, self._credentials, user)
            if password is None:
                return False
            self.pac.token = log_in(self._http, self.settings, user, password)
        if self._cache:
            self._cache.put(self._cache_key(user), self.pac.token)
        return True

    def _cookie(self, pac: CachedToken) -> str:
        return self.pac.cookie(pac)

    def _cache_key(self, user: str) -> str:
        return f"{self.settings.login_endpoint} {user}"

    def _single_cached_user(self) -> str | None:
        users = self._cache.users(self.settings.login_endpoint) if self._cache else []
        return users[0] if len(users) == 1 else None


class ScarfResource(LsfWebResource):
    """The ``scarf`` preset: :class:`ScarfSettings` defaults (SCARF's portal, token script,
    TOMOPY application, astra rule)."""

    backend_name = "scarf"
    settings_model = ScarfSettings
