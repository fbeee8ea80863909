"""A :class:`ComputeResource` made of a transport (how) and a scheduler dialect (what).

Job layout on the cluster, under ``job_root`` (relative to the user's home by default)::

    <job_root>/jobs/<stamp>-<rand>/job.sh      the generated script
    <job_root>/jobs/<stamp>-<rand>/stdout      default output files
    <job_root>/ids/<id>  -> ../jobs/<...>      written by the running job
    <job_root>/ids/<id>.exit                   the exit-code marker

Costs: a submit of one or many jobs is one command (scheduler/submission.py; on the
login node, one process per job: its submit command); a status of any number of jobs is one
scheduler call, plus one history call and one marker read only for ids the scheduler no
longer shows.
"""

from __future__ import annotations

import logging
import posixpath
import secrets
import time
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, cast

from typing_extensions import TypeVar

from remotejobs.errors import (
    AuthenticationError,
    JobNotFoundError,
    RemoteJobsError,
    SubmissionError,
    TransportError,
)
from remotejobs.launchers import Launcher
from remotejobs.models import Capability, JobSpec
from remotejobs.resource import ComputeResource, type_arguments
from remotejobs.scheduler.batch_files import BatchFiles
from remotejobs.scheduler.batch_status import BatchStatus
from remotejobs.scheduler.dialect import Command, SchedulerDialect, ScriptContext
from remotejobs.scheduler.probes import ProbeMemory
from remotejobs.scheduler.script import SIGNAL_MARKER
from remotejobs.scheduler.settings import BatchSettings
from remotejobs.scheduler.submission import (
    MAX_SCRIPT_CHARS,
    NOT_WRITTEN,
    PERMISSIONS,
    Outcome,
    Prepared,
    Shared,
    new_marker,
    remote_command,
    split_results,
    write_locally,
)
from remotejobs.transport.base import CommandResult, CommandTransport, InteractiveHandler
from remotejobs.transport.local import LocalTransport

__all__ = ["BatchResource", "BatchSettings"]

log = logging.getLogger(__name__)

#: The settings and dialect types of a :class:`BatchResource` (covariant, as in
#: :class:`ComputeResource`: neither is ever replaced).
BatchSettingsT_co = TypeVar("BatchSettingsT_co", bound=BatchSettings, default=BatchSettings, covariant=True)
DialectT_co = TypeVar("DialectT_co", bound=SchedulerDialect[Any], default=SchedulerDialect[Any], covariant=True)

# After a cancel: a job that never started has neither its index link nor a marker.
_RECORD_CANCEL = 'cd "$1" 2>/dev/null || exit 0; [ -e "$2" ] || [ -e "$2.exit" ] || printf "%s\\n" "$3" > "$2.exit"'


class BatchResource(BatchStatus, BatchFiles, ComputeResource[BatchSettingsT_co],
                    Generic[BatchSettingsT_co, DialectT_co]):
    """A scheduler backend, declared by its settings and dialect types::

        class SlurmResource(BatchResource[SlurmSettings, SlurmDialect]):
            __doc__ = "A Slurm cluster."

    gives ``settings_model`` (SlurmSettings), ``dialect_class`` (SlurmDialect, built with
    :meth:`SchedulerDialect.from_settings`), ``capabilities`` (the dialect's, plus file
    transfer) and ``backend_name`` (the dialect's ``name``), unless the class sets them.

    The status path (the dialect's probes in order, a per-resource memory of the unavailable
    ones, :attr:`probes`, then the jobs' exit markers) is in scheduler/batch_status.py, the
    files (uploads, a job's output through the job index) in scheduler/batch_files.py.
    """

    settings_model: ClassVar[type[BatchSettings]] = BatchSettings
    dialect_class: ClassVar[type[SchedulerDialect[Any]]]
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.FILE_TRANSFER, Capability.WALLTIME}
    )
    #: The job script runs pre_launch/post_launch (see scheduler/script.py).
    launch_steps: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        args = type_arguments(cls, BatchResource)
        if len(args) != 2:
            return
        # stdin is honoured by every batch backend: the job script redirects it.
        defaults = {"settings_model": args[0], "dialect_class": args[1],
                    "capabilities": args[1].capabilities | {Capability.FILE_TRANSFER},
                    "backend_name": args[1].name, "spec_fields": args[1].spec_fields | {"stdin"},
                    "dependency_conditions": args[1].dependency_conditions}
        for attribute, value in defaults.items():
            if attribute not in cls.__dict__:
                setattr(cls, attribute, value)

    def __init__(
        self,
        settings: BatchSettingsT_co,
        *,
        name: str,
        transport: CommandTransport | None = None,
        interactive_handler: InteractiveHandler | None = None,
    ) -> None:
        """:param transport: use this transport instead of one built from the settings
            (``host`` & co. are then unused); the resource closes it on logout, and a
            closed SSH or local transport opens again on use.
        :param interactive_handler: answers keyboard-interactive prompts (2FA codes) and
            asks for the passphrase of an encrypted ``key_file`` given without one.
        """
        super().__init__(settings, name=name)
        self._given_transport = transport
        self._interactive_handler = interactive_handler
        self.dialect: DialectT_co = cast(DialectT_co, self.dialect_class.from_settings(settings))
        #: The dialect's probes this resource found unavailable (e.g. ``sacct``).
        self.probes = ProbeMemory()
        self._transport: CommandTransport | None = None
        self._root = ""
        self._home = ""
        #: The shared directories of the job root were made and chmod-ed in this session.
        self._dirs_ready = False

    def valid_job_id(self, job_id: str) -> bool:
        """The dialect's id grammar decides (:attr:`SchedulerDialect.job_id_pattern`)."""
        return self.dialect.valid_id(job_id)

    def supports_launcher(self, launcher: Launcher) -> bool:
        """Any launcher for any scheduler (``schedulers`` None), or one that names this
        resource's dialect (``srun``: ``slurm``)."""
        return launcher.schedulers is None or self.dialect.name in launcher.schedulers

    # -- session --------------------------------------------------------------------
    def _make_transport(self, username: str | None, password: str | None) -> CommandTransport:
        s = self.settings
        given = self._given_transport
        if given is not None:
            if (username is not None and username != given.user) or password is not None:
                raise AuthenticationError(
                    f"This resource uses the transport it was given, which acts as {given.user!r}",
                    user=username, hint="Log in without a user name or password, or open another "
                    "resource with a transport for that user")
            return given
        if s.host is None:
            return LocalTransport(user=username)
        from remotejobs.transport.ssh import SSHTransport

        user = username or s.username
        return SSHTransport(
            host=s.host,
            port=s.port,
            username=user,
            password=password,
            key_file=s.key_file.replace("{user}", user or "") if s.key_file else None,
            passphrase=s.key_passphrase.get_secret_value() if s.key_passphrase else None,
            interactive_handler=self._interactive_handler,
            known_hosts=s.known_hosts,
            host_key_policy=s.host_key_policy,
            ssh_config=s.ssh_config,
            use_agent=s.use_agent,
            connect_timeout=s.connect_timeout,
            command_timeout=s.command_timeout,
        )

    def _login(self, username: str | None, password: str | None) -> str:
        transport = self._make_transport(username, password)
        home = transport.home()
        if not home.startswith("/"):
            raise TransportError(f"Could not find the home directory on {transport.description}")
        self._home = home
        self._root = self._remote_path(self.settings.job_root)
        self._dirs_ready = False
        self._transport = transport
        return transport.user

    def _close(self) -> None:
        """Close the transport (an SSH session has nothing on the server to end)."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def _ping(self) -> bool:
        """With a session, one command on it; without, a connection that is closed again.
        A server that rejects the configured credentials has still answered."""
        if self._transport is not None:
            return self._transport.run(["true"], timeout=self.settings.connect_timeout).exit_status == 0
        transport: CommandTransport | None = None
        try:
            username = None if self._given_transport is not None else self.settings.username
            transport = self._make_transport(username, None)
            return transport.run(["true"], timeout=self.settings.connect_timeout).exit_status == 0
        except AuthenticationError:
            return self.settings.host is not None
        finally:
            if transport is not None:
                transport.close()

    @property
    def transport(self) -> CommandTransport:
        if self._transport is None:
            raise TransportError("No transport: log in first")
        return self._transport

    def _run(self, command: Command, *, idempotent: bool = True) -> CommandResult:
        log.debug("run %s", command.argv)
        return self.transport.run(command.argv, stdin=command.stdin, idempotent=idempotent)

    def _remote_path(self, path: str) -> str:
        """``path`` made absolute by the one rule for relative remote paths (``job_root``,
        a job's ``directory``, upload targets): relative to the remote home directory; a
        leading ``~/`` means the same."""
        if path == "~" or path.startswith("~/"):
            path = path[2:]
        return path if path.startswith("/") else posixpath.join(self._home, path)

    # -- jobs -----------------------------------------------------------------------
    def _context_for(self, spec: JobSpec) -> ScriptContext:
        stamp = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(4)
        job_dir = posixpath.join(self._root, "jobs", stamp)
        workdir = self._remote_path(spec.directory) if spec.directory else job_dir

        def out(path: str | None, default: str) -> str:
            if path is None:
                return posixpath.join(job_dir, default)
            return path if path.startswith("/") else posixpath.join(workdir, path)

        return ScriptContext(
            job_dir=job_dir,
            index_dir=posixpath.join(self._root, "ids"),
            workdir=workdir,
            stdout=out(spec.stdout, "stdout"),
            stderr=out(spec.stderr, "stderr"),
            user=self._user or "",
        )

    def _prepare(self, spec: JobSpec) -> Prepared:
        if spec.queue is None and self.settings.default_queue is not None:
            spec = spec.model_copy(update={"queue": self.settings.default_queue})
        ctx = self._context_for(spec)
        script_path = posixpath.join(ctx.job_dir, "job.sh")
        return Prepared(spec, ctx, self.dialect.render_script(spec, ctx), script_path,
                        self.dialect.submit_command(spec, ctx, script_path))

    def _submit(self, spec: JobSpec) -> str:
        outcome = self._submit_many([spec])[0]
        if isinstance(outcome, RemoteJobsError):
            raise outcome
        return outcome

    def _submit_many(self, specs: Sequence[JobSpec]) -> list[str | RemoteJobsError]:
        """One remote command per :data:`MAX_SCRIPT_CHARS` of script (see
        scheduler/submission.py); on the login node no process but the submit commands."""
        items = [self._prepare(spec) for spec in specs]
        transport = self.transport
        if isinstance(transport, LocalTransport):
            return [self._submit_locally(transport, item) for item in items]
        outcomes: list[str | RemoteJobsError] = []
        chunk: list[Prepared] = []
        size = 0
        for item in items:
            length = len(remote_command([item], self._shared(), "").argv[2])
            if chunk and size + length > MAX_SCRIPT_CHARS:
                outcomes += self._submit_remotely(chunk)
                chunk, size = [], 0
            chunk.append(item)
            size += length
        return outcomes + self._submit_remotely(chunk)

    def _shared(self) -> Shared:
        return Shared(self._root, posixpath.join(self._root, "jobs"), posixpath.join(self._root, "ids"),
                      self.settings.job_permissions, first=not self._dirs_ready)

    def _submit_remotely(self, items: list[Prepared]) -> list[str | RemoteJobsError]:
        marker = new_marker()
        command = remote_command(items, self._shared(), marker)
        try:
            result = self._run(command, idempotent=False)
        except TransportError as exc:
            return [SubmissionError(
                f"The connection failed while submitting; the job may or may not exist ({exc.message})",
                transient=True, hint="Check jobs() before submitting again") for _ in items]
        outcomes = split_results(result, items, marker)
        if any(isinstance(o, CommandResult) for o in outcomes):
            self._dirs_ready = True
        return [self._outcome(item, outcome, result) for item, outcome in zip(items, outcomes, strict=True)]

    def _outcome(self, item: Prepared, outcome: Outcome | None, whole: CommandResult) -> str | RemoteJobsError:
        if outcome is None:
            return SubmissionError(
                "The submission command ended before reporting on this job; it may or may not exist "
                f"({whole.output[-300:] or f'exit status {whole.exit_status}'})",
                transient=True, hint="Check jobs() before submitting again")
        if isinstance(outcome, tuple):
            word, text = outcome
            if word == NOT_WRITTEN:
                self._dirs_ready = False
                return SubmissionError(f"Could not write the job script {item.script_path}: {text or 'no message'}",
                                       hint="Check the job_root setting, and the space and permissions there")
            return SubmissionError("Not submitted: an earlier job's script could not be written in the same "
                                   "submission", transient=True, hint="Submit this job again")
        try:
            return self.dialect.parse_submit(outcome)
        except RemoteJobsError as exc:
            return exc

    def _submit_locally(self, transport: LocalTransport, item: Prepared) -> str | RemoteJobsError:
        """Directories and script written by this process; the submit command the one
        process started (under the umask, see scheduler/submission.py)."""
        try:
            write_locally(item, self._shared())
        except OSError as exc:
            self._dirs_ready = False
            return SubmissionError(f"Could not write the job script {item.script_path}: {exc.strerror or exc}",
                                   hint="Check the job_root setting, and the space and permissions there")
        self._dirs_ready = True
        log.debug("run %s", item.submit.argv)
        try:
            result = transport.run(item.submit.argv, stdin=item.submit.stdin, idempotent=False,
                                   umask=PERMISSIONS[self.settings.job_permissions][0])
        except TransportError as exc:
            return SubmissionError(
                f"Running the submit command failed; the job may or may not exist ({exc.message})",
                transient=True, hint="Check jobs() before submitting again")
        try:
            return self.dialect.parse_submit(result)
        except RemoteJobsError as exc:
            return exc

    def _cancel(self, job_id: str) -> None:
        result = self._run(self.dialect.cancel_command(job_id))
        try:
            self.dialect.parse_cancel(result, job_id)
        except JobNotFoundError:
            # e.g. a qdel that exits 1 silently for unknown *and* finished jobs: a job the
            # scheduler (or its exit marker) still knows had simply finished already.
            if self.dialect.cancel_not_found_may_be_finished(result) and job_id in self._status_many([job_id]):
                return
            raise
        self._record_cancel(job_id)

    def _record_cancel(self, job_id: str) -> None:
        """After a cancel, write the job's exit marker (``signal``: CANCELLED) unless the job
        started (it then writes its own). Schedulers that keep no record of a job deleted
        before it started (Grid Engine's qacct, Torque <= 4.2) would otherwise leave it
        UNKNOWN for good."""
        if "/" in job_id or job_id in (".", ".."):
            return
        self.transport.run(["sh", "-c", _RECORD_CANCEL, "sh", posixpath.join(self._root, "ids"), job_id,
                            SIGNAL_MARKER])

