"""The submission part of :class:`remotejobs.resource.ComputeResource`: :meth:`ResourceSubmission.submit`,
:meth:`ResourceSubmission.submit_many`, and the checks that refuse, before anything is sent, a spec
this backend cannot honour (capabilities, site fields, launchers, pre/post-launch steps).

Backends implement the primitive ``_submit`` (and may override ``_submit_many`` and
``supports_launcher``). Import :class:`~remotejobs.resource.ComputeResource`, not this module.
"""

from __future__ import annotations

import logging
import threading
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from remotejobs._session import ResourceSession
from remotejobs.config import apply_defaults
from remotejobs.errors import (
    PartialSubmissionError,
    RemoteJobsError,
    SchedulerError,
    UnsupportedOperationError,
)
from remotejobs.job import Job
from remotejobs.models import Capability, JobInfo, JobSpec, JobState, requested_site_fields

if TYPE_CHECKING:
    from remotejobs.launchers import Launcher
    from remotejobs.resource import ComputeResource
    from remotejobs.workflow.conditions import Condition

__all__ = ["ResourceSubmission"]

log = logging.getLogger("remotejobs.resource")


class ResourceSubmission(ResourceSession):
    """Submitting jobs (base of :class:`~remotejobs.resource.ComputeResource`, which sets the
    attributes declared here)."""

    backend_name: ClassVar[str]
    spec_fields: ClassVar[frozenset[str]]
    launch_steps: ClassVar[bool]
    spec_defaults: Mapping[str, Any]
    _known: dict[str, JobInfo]
    _lock: threading.RLock

    @abstractmethod
    def _submit(self, spec: JobSpec) -> str:
        """Submit and return the scheduler's id. Never retried blindly on uncertain failure."""

    if TYPE_CHECKING:  # defined by ComputeResource

        def valid_job_id(self, job_id: str) -> bool: ...

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

            resource = cast("ComputeResource[Any]", self)
            return (current_workflow() or default_workflow()).submit(resource, spec, after, **options)
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
        return Job(id=job_id, resource=cast("ComputeResource[Any]", self))

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

