"""Data crossing the public API: job specifications, job information and states.

All models are frozen pydantic models that reject unknown fields, so a typo in a field
name is an error naming the field, never a silently ignored setting.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from remotejobs.errors import JobSpecValidationError

__all__ = ["Capability", "Dependency", "DependencyGroup", "JobInfo", "JobSpec", "JobState", "merge_info"]

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SITE_WORD = r"^[\w.\-+@]+$"
_SITE_OPTION = re.compile(r"^-{1,2}[A-Za-z][\w-]*(=[\w.:,/@%+=-]+)?$")

#: JobSpec fields a backend must declare in ``spec_fields`` to be given them (see
#: :func:`requested_site_fields`).
SITE_FIELDS = ("account", "qos", "reservation", "constraint", "exclusive", "cores_per_process", "gpus_per_node",
               "memory_mb_per_process", "stdin", "nice", "begin", "email", "email_on", "array_limit",
               "scheduler_options")


class JobState(enum.Enum):
    """Portable job state. ``native_state`` in :class:`JobInfo` keeps the backend's word."""

    QUEUED = "QUEUED"
    HELD = "HELD"
    RUNNING = "RUNNING"
    SUSPENDED = "SUSPENDED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN = "UNKNOWN"

    # Members are singletons compared by identity: hash them by identity too, in C
    # (Enum's own __hash__ is Python code, a visible cost when parsers count states).
    __hash__ = object.__hash__

    @property
    def is_final(self) -> bool:
        """True for states a job never leaves: COMPLETED, FAILED, CANCELLED, TIMEOUT."""
        return self in _FINAL

    @property
    def rank(self) -> int:
        """Progress order used to keep reported states monotone (UNKNOWN is -1)."""
        return _RANK[self]


_FINAL = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMEOUT})
_RANK = {
    JobState.UNKNOWN: -1,
    JobState.QUEUED: 0,
    JobState.HELD: 0,
    JobState.RUNNING: 1,
    JobState.SUSPENDED: 1,
    JobState.COMPLETED: 2,
    JobState.FAILED: 2,
    JobState.CANCELLED: 2,
    JobState.TIMEOUT: 2,
}


class Capability(enum.Enum):
    """Optional features a backend may have (``ComputeResource.capabilities``)."""

    ARRAYS = "arrays"
    DEPENDENCIES = "dependencies"
    #: ``depends_on`` may be a :class:`DependencyGroup` joined with ``any`` (an "or").
    DEPENDENCY_ANY = "dependency-any"
    FILE_TRANSFER = "file-transfer"
    LOGIN_REQUIRED = "login-required"
    WALLTIME = "walltime"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Checked(_Frozen):
    """A model users construct: a validation failure raises :class:`JobSpecValidationError`
    (a RemoteJobsError and a ValueError) carrying pydantic's details."""

    if not TYPE_CHECKING:  # type checkers keep pydantic's typed __init__ of each model

        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise _translate(type(self).__name__, exc) from exc

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _translate(cls.__name__, exc) from exc

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as exc:
            raise _translate(cls.__name__, exc) from exc


def _translate(model: str, exc: ValidationError) -> JobSpecValidationError:
    errors = exc.errors(include_url=False)
    inner = errors[0].get("ctx", {}).get("error") if len(errors) == 1 and not errors[0]["loc"] else None
    if isinstance(inner, JobSpecValidationError):  # model_validate ran __init__, which raised it
        return inner
    details: list[dict[str, object]] = [
        {k: v for k, v in e.items() if k in ("type", "loc", "msg", "ctx")} for e in errors
    ]
    return JobSpecValidationError(model, details)


class Dependency(_Checked):
    """Start condition on other jobs of the same resource.

    ``condition`` is one of ``afterok`` (all ended successfully), ``afterany`` (all ended),
    ``afternotok`` (all ended unsuccessfully) or ``after`` (all started).
    """

    condition: str = Field(default="afterok", pattern=r"^(afterok|afterany|afternotok|after)$")
    job_ids: tuple[str, ...] = Field(min_length=1)


class DependencyGroup(_Checked):
    """Several :class:`Dependency` clauses joined by one operator: ``all`` (every clause
    holds; Slurm ``,``, LSF ``&&``, Torque ``,``) or ``any`` (at least one holds; Slurm
    ``?``, LSF ``||``; needs :attr:`Capability.DEPENDENCY_ANY`)."""

    clauses: tuple[Dependency, ...] = Field(min_length=1)
    join: Literal["all", "any"] = "all"

    @classmethod
    def of(cls, dependency: Dependency | DependencyGroup) -> DependencyGroup:
        """``dependency`` as a group (a single clause becomes a group of one)."""
        return dependency if isinstance(dependency, DependencyGroup) else cls(clauses=(dependency,))


class _Hidden:
    """Stands for a value not shown (its repr and str are ``<hidden>``)."""

    def __repr__(self) -> str:
        return "<hidden>"


#: What a :class:`JobSpec`'s repr shows instead of an environment value.
HIDDEN = _Hidden()


class JobSpec(_Checked):
    """What to run. Validation errors (:class:`~remotejobs.errors.JobSpecValidationError`,
    also a ValueError) name the field and the rule broken.

    ``environment`` values often carry tokens: ``repr``/``str`` (and so any log record,
    error or traceback that shows a spec) name the variables but show ``<hidden>`` for
    their values; ``model_dump``/``model_dump_json`` keep them (data for a backend, the
    session agent or a workflow journal, never for display).

    ``arguments`` reach the program verbatim (no shell interprets them). ``directory`` is
    the remote working directory (default: a fresh job directory made by the backend); a
    relative one is relative to the remote home directory, as every relative remote path
    (docs/configuration.md, "Relative paths"). ``stdout``/``stderr`` are file paths,
    relative ones to the working directory.
    """

    executable: str = Field(min_length=1)
    arguments: tuple[str, ...] = ()
    name: str | None = Field(default=None, min_length=1, max_length=200)
    directory: str | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    queue: str | None = None
    nodes: int = Field(default=1, ge=1)
    processes_per_node: int = Field(default=1, ge=1)
    walltime: timedelta | None = None
    #: Memory of each node, in MB (``sbatch --mem``; PBS chunk ``mem``; per slot on Grid Engine).
    memory_mb: int | None = Field(default=None, ge=1)
    stdout: str | None = None
    stderr: str | None = None
    array: str | None = Field(default=None, pattern=r"^\d+(-\d+)?(,\d+(-\d+)?)*$")
    #: Start condition on jobs of the same resource (the scheduler enforces it).
    depends_on: Dependency | DependencyGroup | None = None
    #: How the program starts (:mod:`remotejobs.launchers`): None once, ``"multiple"``
    #: ``nodes * processes_per_node`` copies, ``"srun"``, ``"mpirun"``, or a plugin's.
    launcher: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
    #: Run before the program in the job's shell: a remote file (a ``str``; sourced, so it
    #: may ``module load`` or export; relative: to the working directory) or an argv list
    #: (run as one quoted command). A failure ends the job with its status.
    pre_launch: str | tuple[str, ...] | None = None
    #: Run after the program, whatever its outcome (file or argv, as ``pre_launch``); its
    #: failure fails a job whose program succeeded.
    post_launch: str | tuple[str, ...] | None = None

    # Site fields: each is mapped by a backend that declares it (``spec_fields``) or the
    # submission is refused with an UnsupportedOperationError naming field and backend.
    #: Account (project) charged: ``sbatch --account``, ``bsub -P``, ``qsub -A``.
    account: str | None = Field(default=None, pattern=_SITE_WORD)
    #: Quality of service: ``sbatch --qos``.
    qos: str | None = Field(default=None, pattern=_SITE_WORD)
    #: An advance reservation to run in: ``sbatch --reservation``, ``bsub -U``.
    reservation: str | None = Field(default=None, pattern=_SITE_WORD)
    #: Node features the job needs, in the scheduler's syntax (``sbatch --constraint``).
    constraint: str | None = Field(default=None, pattern=r"^[\w.\-:&|!*\[\]()]+$")
    #: Whole nodes, shared with no other job.
    exclusive: bool = False
    #: CPU cores for each process (``sbatch --cpus-per-task``).
    cores_per_process: int | None = Field(default=None, ge=1)
    #: GPUs on each node (``sbatch --gpus-per-node``).
    gpus_per_node: int | None = Field(default=None, ge=1)
    #: Memory for each process, in MB (``sbatch --mem-per-cpu`` with one core per process).
    memory_mb_per_process: int | None = Field(default=None, ge=1)
    #: A remote file fed to the job's standard input (relative: to the working directory).
    stdin: str | None = None
    #: Scheduling niceness: positive values let other jobs go first (``sbatch --nice``).
    nice: int | None = Field(default=None, ge=-10000, le=10000)
    #: Earliest start time (naive: the cluster's local time).
    begin: datetime | None = None
    #: Address for the scheduler's e-mail notifications, sent on the events in ``email_on``.
    email: str | None = Field(default=None, pattern=r"^[\w.+\-]+@[\w.\-]+$")
    email_on: frozenset[Literal["begin", "end", "fail"]] = frozenset()
    #: At most this many array elements run at once (``%N``); needs ``array``.
    array_limit: int | None = Field(default=None, ge=1)
    #: Options the spec does not model, per scheduler dialect name (``{"slurm":
    #: ["--licenses=matlab:1"]}``): each a flag with an optional ``=value`` of plain
    #: characters, rendered as a directive; options for other schedulers are ignored.
    scheduler_options: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        """pydantic's fields for repr/str/rich/devtools, with environment values hidden."""
        for name, value in super().__repr_args__():
            yield name, ({key: HIDDEN for key in value} if name == "environment" else value)

    @field_validator("scheduler_options")
    @classmethod
    def _plain_options(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for scheduler, options in value.items():
            for option in options:
                if not _SITE_OPTION.match(option):
                    raise ValueError(
                        f"scheduler option {option!r} for {scheduler!r} must be -x, --name or --name=value "
                        f"with letters, digits and _.:,/@%+=- in the value (pattern {_SITE_OPTION.pattern})")
        return value

    @model_validator(mode="after")
    def _pairs(self) -> JobSpec:
        if self.array_limit is not None and self.array is None:
            raise ValueError("array_limit needs array")
        if self.email_on and self.email is None:
            raise ValueError("email_on needs email")
        return self

    @field_validator("pre_launch", "post_launch")
    @classmethod
    def _launch_step(cls, value: str | tuple[str, ...] | None) -> str | tuple[str, ...] | None:
        words = (value,) if isinstance(value, str) else value or ()
        if isinstance(value, tuple) and not value:
            raise ValueError("an argv list needs at least the program")
        if any(not w or "\0" in w or "\n" in w for w in words[:1]) or any("\0" in w for w in words):
            raise ValueError("must be a file path or an argv list without NUL; a path or program "
                             "is non-empty and has no newline")
        return value

    @field_validator("environment")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key, item in value.items():
            if not _ENV_NAME.fullmatch(key):  # fullmatch: "$" would let "NAME\n" through
                raise ValueError(f"environment variable name {key!r} must match {_ENV_NAME.pattern}")
            if "\0" in item:
                raise ValueError(f"the value of environment variable {key} must not contain NUL "
                                 "(a process environment cannot carry it)")
        return value

    @field_validator("arguments")
    @classmethod
    def _no_nul_arguments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, arg in enumerate(value):
            if "\0" in arg:
                raise ValueError(f"argument {index} must not contain NUL (an argv string cannot carry it)")
        return value

    @field_validator("name")
    @classmethod
    def _no_nul_name(cls, value: str | None) -> str | None:
        if value is not None and "\0" in value:
            raise ValueError("must not contain NUL")
        return value

    @field_validator("walltime")
    @classmethod
    def _positive_walltime(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value.total_seconds() < 1:
            raise ValueError("walltime must be at least one second")
        return value

    @field_validator("executable", "directory", "stdout", "stderr", "queue", "stdin")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and ("\0" in value or "\n" in value):
            raise ValueError("must not contain NUL or newline characters")
        return value


class JobInfo(_Frozen):
    """What a resource knows about a job at one moment.

    ``state`` is portable; ``native_state`` is the backend's own word (None when the
    scheduler no longer reports the job and the state was resolved from other evidence).
    ``reason`` explains FAILED/TIMEOUT/UNKNOWN/HELD states where known.
    """

    id: str
    name: str | None = None
    state: JobState
    native_state: str | None = None
    exit_code: int | None = None
    command: str | None = None
    submit_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    reason: str | None = None
    queue: str | None = None
    owner: str | None = None

    @classmethod
    def trusted(
        cls,
        id: str,
        state: JobState,
        *,
        name: str | None = None,
        native_state: str | None = None,
        exit_code: int | None = None,
        command: str | None = None,
        submit_time: datetime | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        reason: str | None = None,
        queue: str | None = None,
        owner: str | None = None,
    ) -> JobInfo:
        """A JobInfo built WITHOUT validation, for parsers that make many of them (about
        4x faster than ``JobInfo(...)``, and no per-object field set).

        Contract: every value already has its field's type (``str``, a :class:`JobState`,
        ``int``, a ``datetime``, or None); the result then equals ``JobInfo(...)`` of the
        same values. Parsers' tests re-validate what they return
        (``JobInfo.model_validate(info.model_dump()) == info``).
        """
        info = _new(cls)
        _setattr(info, "__dict__", {
            "id": id, "name": name, "state": state, "native_state": native_state, "exit_code": exit_code,
            "command": command, "submit_time": submit_time, "start_time": start_time, "end_time": end_time,
            "reason": reason, "queue": queue, "owner": owner,
        })
        # One shared set: pydantic copies it before any change (model_copy), and frozen
        # models never add to it.
        _setattr(info, "__pydantic_fields_set__", _ALL_INFO_FIELDS)
        _setattr(info, "__pydantic_extra__", None)
        _setattr(info, "__pydantic_private__", None)
        return info


_new = object.__new__
_setattr = object.__setattr__
_ALL_INFO_FIELDS: set[str] = set(JobInfo.model_fields)


def merge_info(old: JobInfo | None, new: JobInfo) -> JobInfo:
    """Combine a previous report with a new one so that the state never moves backwards.

    A final state is kept once seen (a stale poll cannot turn COMPLETED into RUNNING), and
    a known state is not replaced by an earlier one (RUNNING does not become QUEUED).
    UNKNOWN replaces a non-final state: the caller learns that evidence was lost.

    A new report that lacks what an earlier one told of the same job (its name, submit and
    start times, queue, owner, command: e.g. a job resolved from its exit marker once the
    scheduler forgot it) keeps those values.
    """
    if old is None:
        return new
    if old.state.is_final:
        return old
    if new.state is not JobState.UNKNOWN and new.state.rank < old.state.rank:
        return old
    known = {f: v for f in _KEPT if getattr(new, f) is None and (v := getattr(old, f)) is not None}
    return new.model_copy(update=known) if known else new


#: What :func:`merge_info` keeps from an earlier report when a later one lacks it.
_KEPT = ("name", "submit_time", "start_time", "queue", "owner", "command")


def requested_site_fields(spec: JobSpec, scheduler: str | None = None) -> list[str]:
    """The :data:`SITE_FIELDS` that ``spec`` sets (differs from the default). With
    ``scheduler``, ``scheduler_options`` counts only when it has options for that name."""
    out = []
    for name in SITE_FIELDS:
        value = getattr(spec, name)
        if name == "scheduler_options":
            if value.get(scheduler) if scheduler else value:
                out.append(name)
        elif value != JobSpec.model_fields[name].get_default(call_default_factory=True):
            out.append(name)
    return out
