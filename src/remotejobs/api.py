"""Opening resources by configuration name or inline, and listing backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from remotejobs._plugins import get_registry
from remotejobs.config import ResourceEntry, check_defaults, load_config
from remotejobs.errors import InvalidSettingsError, UnsupportedOperationError
from remotejobs.resource import BackendSettings, ComputeResource
from remotejobs.transport.base import CommandTransport, InteractiveHandler

__all__ = ["available_backends", "open_resource", "plugin_failures"]


def available_backends() -> list[str]:
    """Names of the installed backends (plugins that failed to load are left out)."""
    return get_registry().names()


def plugin_failures() -> dict[str, str]:
    """Plugins that failed to load: entry-point name -> error text."""
    return {name: repr(f.error) for name, f in get_registry().failures.items()}


def open_resource(
    name: str | None = None,
    /,
    *,
    backend: str | None = None,
    config: str | Path | None = None,
    transport: CommandTransport | None = None,
    interactive_handler: InteractiveHandler | None = None,
    **settings: Any,
) -> ComputeResource:
    """A ready resource (not yet logged in) for a configured name or an inline backend.

    ``open_resource("scarf")`` reads ``[resources.scarf]`` from the configuration;
    ``open_resource(backend="local", state_dir=...)`` builds one from keyword settings
    (``name`` then only labels it). ``local`` works without any configuration.

    :raises UnknownResourceError: ``name`` is not configured (lists the configured names).
    :raises BackendNotFoundError: the backend is not installed (lists installed ones).
    :raises BackendLoadError: its plugin is broken (cause chained).
    :raises InvalidSettingsError: a setting is unknown or invalid (names file, table, key
        and the valid keys).

    ``defaults`` (a dict of JobSpec fields, or the ``[resources.<name>.defaults]`` table)
    becomes the resource's :attr:`~remotejobs.ComputeResource.spec_defaults`.

    ``transport`` (batch backends only) is used instead of one built from the settings;
    ``interactive_handler`` answers SSH login prompts (2FA codes, a key's passphrase) for
    the backends that log in over SSH, and is ignored by the others.

    :raises UnsupportedOperationError: a ``transport`` for a backend that takes none.
    """
    if backend is not None:
        inline = dict(settings)
        defaults = check_defaults(inline.pop("defaults", {}), resource=name or backend, file=None)
        entry = ResourceEntry(name or backend, backend, inline, None, defaults)
    else:
        entry = load_config(config).resource(name or "local")
        if settings:
            entry = ResourceEntry(entry.name, entry.backend, {**entry.settings, **settings}, entry.source,
                                  entry.defaults)
    cls = get_registry().load(entry.backend)
    settings_obj = _settings(cls.settings_model, entry)
    from remotejobs.scheduler.batch import BatchResource

    resource: ComputeResource
    if issubclass(cls, BatchResource):
        resource = cls(settings_obj, name=entry.name, transport=transport, interactive_handler=interactive_handler)
    elif transport is not None:
        raise UnsupportedOperationError(f"Backend {entry.backend!r} does not take a transport",
                                        resource=entry.name, hint="Pass transport= only to batch backends")
    else:
        resource = cls(settings_obj, name=entry.name)
    resource.spec_defaults = entry.defaults
    return resource


def _settings(model: type[BackendSettings], entry: ResourceEntry) -> BackendSettings:
    try:
        return model.model_validate(entry.settings)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"]) or None
        rule = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        # The cause without the input values: pydantic's message quotes them, and the value
        # of a misspelled or mistyped key may be a password or passphrase.
        cause = ValueError("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                     for e in exc.errors(include_input=False, include_url=False)))
        raise InvalidSettingsError(
            f"{rule} (backend {entry.backend!r})",
            file=entry.source,
            table=entry.table,
            key=key,
            valid_keys=sorted(model.model_fields),
            resource=entry.name,
        ) from cause
