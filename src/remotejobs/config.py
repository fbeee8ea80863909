"""Named resources from a TOML configuration file.

Where the file is: ``$REMOTEJOBS_CONFIG`` if set, else ``config.toml`` in the user config
directory (``platformdirs.user_config_dir("remotejobs")``, e.g. ``~/.config/remotejobs``).
A missing default file means "no resources configured"; a missing ``$REMOTEJOBS_CONFIG``
file is an error. Each resource is a table::

    [resources.scarf]
    backend = "lsf-web"          # a name from remotejobs.available_backends()
    base_url = "https://..."     # the backend's own settings, checked by its model

    [resources.scarf.defaults]   # JobSpec fields for every job submitted there
    account = "imaging"

Defaults are checked when the file is loaded (:func:`check_defaults`: an unknown field or
a bad value names the resource and key) and applied at submission by
:func:`apply_defaults`, a job's own value winning.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from remotejobs.errors import ConfigurationError, InvalidSettingsError, UnknownResourceError

if TYPE_CHECKING:
    from remotejobs.models import JobSpec

__all__ = ["BUILTIN_RESOURCES", "Config", "ResourceEntry", "apply_defaults", "check_defaults", "config_path",
           "load_config"]

#: JobSpec fields that are dictionaries: a default and the job's own value are merged (the
#: job's keys win) instead of one replacing the other.
_MERGED = ("environment", "scheduler_options")

#: Resources that exist without configuration: name -> backend.
BUILTIN_RESOURCES = {"local": "local"}


@dataclass(frozen=True)
class ResourceEntry:
    """One ``[resources.<name>]`` table: its backend and the other keys as settings."""

    name: str
    backend: str
    settings: dict[str, Any]
    source: str | None
    #: The ``[resources.<name>.defaults]`` table: JobSpec fields (checked by :func:`check_defaults`).
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return f"resources.{self.name}"


@dataclass(frozen=True)
class Config:
    """The parsed configuration: resource name -> entry."""

    resources: dict[str, ResourceEntry] = field(default_factory=dict)
    source: str | None = None
    #: ``[datasets.<name>]`` tables: dataset sources (see :mod:`remotejobs.datasets`).
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The ``[job_types]`` table (``dirs = [...]``, see :mod:`remotejobs.jobtypes`).
    job_types: dict[str, Any] = field(default_factory=dict)

    def resource(self, name: str) -> ResourceEntry:
        """The entry named ``name`` (built-in ``local`` if not configured).

        :raises UnknownResourceError: no such name; the message lists the configured ones.
        """
        if name in self.resources:
            return self.resources[name]
        if name in BUILTIN_RESOURCES:
            return ResourceEntry(name, BUILTIN_RESOURCES[name], {}, None)
        raise UnknownResourceError(name, self.names(), source=self.source)

    def names(self) -> list[str]:
        """Configured names plus the built-in ones."""
        return sorted(set(self.resources) | set(BUILTIN_RESOURCES))


def check_defaults(defaults: object, *, resource: str, file: str | None) -> dict[str, Any]:
    """``defaults`` as JobSpec field values, checked as a JobSpec would check them.

    :raises InvalidSettingsError: not a table, a key that is no JobSpec field (``executable``
        included: every job names its own), or a value the field refuses; the message names
        the file, ``[resources.<resource>.defaults]``, the key and the valid keys.
    """
    from remotejobs.errors import JobSpecValidationError
    from remotejobs.models import JobSpec

    table = f"resources.{resource}.defaults"
    valid = sorted(set(JobSpec.model_fields) - {"executable"})
    if not isinstance(defaults, dict):
        raise InvalidSettingsError("must be a table of JobSpec fields", file=file, table=table, key=None,
                                   resource=resource)
    for key in defaults:
        if key not in valid:
            raise InvalidSettingsError("unknown JobSpec field", file=file, table=table, key=str(key),
                                       valid_keys=valid, resource=resource)
    try:
        JobSpec.model_validate({"executable": "defaults-check", **defaults})
    except JobSpecValidationError as exc:
        first = exc.errors[0] if exc.errors else {}
        loc = first.get("loc")
        key = str(loc[0]) if isinstance(loc, tuple | list) and loc else None
        rule = str(first.get("msg", exc))
        # exc carries no input value (JobSpecValidationError leaves them out)
        raise InvalidSettingsError(f"invalid value for this JobSpec field: {rule}", file=file, table=table,
                                   key=key, resource=resource) from exc
    return dict(defaults)


def apply_defaults(spec: JobSpec, defaults: Mapping[str, Any]) -> JobSpec:
    """``spec`` with ``defaults`` for the fields it leaves unset (not given, or None);
    ``environment`` and ``scheduler_options`` are merged, the spec's keys winning. The
    result is validated again as a whole (e.g. ``array_limit`` still needs ``array``).

    :raises JobSpecValidationError: the combination is invalid.
    """
    from remotejobs.models import JobSpec

    if not defaults:
        return spec
    own = {k: getattr(spec, k) for k in spec.model_fields_set if getattr(spec, k) is not None}
    data = {**defaults, **own}
    for key in _MERGED:
        if key in defaults and key in own:
            data[key] = {**defaults[key], **own[key]}
    return JobSpec.model_validate(data)


def config_path() -> Path:
    """The configuration file in use (it may not exist)."""
    env = os.environ.get("REMOTEJOBS_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir("remotejobs")) / "config.toml"


def load_config(path: str | Path | None = None) -> Config:
    """Read and check the configuration file.

    :raises ConfigurationError: the file named by ``$REMOTEJOBS_CONFIG`` or ``path`` is
        missing or unreadable, or is not valid TOML (with the line).
    :raises InvalidSettingsError: a resource table lacks ``backend`` or has a bad shape.
    """
    explicit = path is not None or bool(os.environ.get("REMOTEJOBS_CONFIG"))
    file = Path(path).expanduser() if path is not None else config_path()
    if not file.exists():
        if explicit:
            raise ConfigurationError(
                f"Configuration file {str(file)!r} does not exist",
                hint="Create it, or unset REMOTEJOBS_CONFIG to use the default location",
            )
        return Config(source=None)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"Configuration file {str(file)!r} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigurationError(f"Cannot read configuration file {str(file)!r}: {exc}") from exc
    unknown = set(data) - {"resources", "datasets", "job_types"}
    if unknown:
        raise InvalidSettingsError(
            f"unknown top-level table(s) {', '.join(sorted(unknown))}",
            file=str(file), table=sorted(unknown)[0], key=None, valid_keys=["datasets", "job_types", "resources"],
        )
    for table in ("datasets", "job_types"):
        if not isinstance(data.get(table, {}), dict):
            raise InvalidSettingsError("must be a table", file=str(file), table=table, key=None)
    tables = data.get("resources", {})
    if not isinstance(tables, dict):
        raise InvalidSettingsError("must be a table of resource tables", file=str(file),
                                   table="resources", key=None)
    resources = {}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise InvalidSettingsError("must be a table", file=str(file), table=f"resources.{name}", key=None)
        settings = dict(table)
        defaults = check_defaults(settings.pop("defaults", {}), resource=name, file=str(file))
        backend = settings.pop("backend", None)
        if not isinstance(backend, str) or not backend:
            raise InvalidSettingsError(
                "the required key 'backend' is missing or not a string (e.g. backend = \"slurm\")",
                file=str(file), table=f"resources.{name}", key="backend", resource=name,
            )
        resources[name] = ResourceEntry(name, backend, settings, str(file), defaults)
    return Config(resources=resources, source=str(file), datasets=dict(data.get("datasets", {})),
                  job_types=dict(data.get("job_types", {})))
