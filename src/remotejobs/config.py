"""Named resources from a TOML configuration file.

Where the file is: ``$REMOTEJOBS_CONFIG`` if set, else ``config.toml`` in the user config
directory (``platformdirs.user_config_dir("remotejobs")``, e.g. ``~/.config/remotejobs``).
A missing default file means "no resources configured"; a missing ``$REMOTEJOBS_CONFIG``
file is an error. Each resource is a table::

    [resources.scarf]
    backend = "lsf-web"          # a name from remotejobs.available_backends()
    base_url = "https://..."     # the backend's own settings, checked by its model
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from remotejobs.errors import ConfigurationError, InvalidSettingsError, UnknownResourceError

__all__ = ["BUILTIN_RESOURCES", "Config", "ResourceEntry", "config_path", "load_config"]

#: Resources that exist without configuration: name -> backend.
BUILTIN_RESOURCES = {"local": "local"}


@dataclass(frozen=True)
class ResourceEntry:
    """One ``[resources.<name>]`` table: its backend and the other keys as settings."""

    name: str
    backend: str
    settings: dict[str, Any]
    source: str | None

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
        backend = settings.pop("backend", None)
        if not isinstance(backend, str) or not backend:
            raise InvalidSettingsError(
                "the required key 'backend' is missing or not a string (e.g. backend = \"slurm\")",
                file=str(file), table=f"resources.{name}", key="backend", resource=name,
            )
        resources[name] = ResourceEntry(name, backend, settings, str(file))
    return Config(resources=resources, source=str(file), datasets=dict(data.get("datasets", {})),
                  job_types=dict(data.get("job_types", {})))
