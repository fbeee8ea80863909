"""The backend registry: backend name -> resource class, filled by plugins.

Plugins call :meth:`BackendRegistry.add` from their ``remotejobs_register_backends``
hook. Classes given as ``"module:Class"`` strings are imported only when the backend is
first opened, so heavy dependencies load only for the backend in use.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from remotejobs.errors import BackendConflictError, BackendLoadError, BackendNotFoundError

if TYPE_CHECKING:
    from remotejobs.resource import ComputeResource

__all__ = ["BackendInfo", "BackendRegistry", "PluginFailure"]

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

Target = Union[str, "type[ComputeResource]"]


@dataclass(frozen=True)
class BackendInfo:
    """One registered backend. ``target`` is a class or a ``"module:Class"`` string."""

    name: str
    target: Target
    summary: str
    plugin: str
    distribution: str


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded or whose hook failed."""

    plugin: str
    distribution: str
    error: BaseException


class BackendRegistry:
    """Backend names and where their classes are. Filled once per process by
    :func:`remotejobs.get_registry`; tests may build their own."""

    def __init__(self) -> None:
        self._backends: dict[str, BackendInfo] = {}
        self.failures: dict[str, PluginFailure] = {}
        self.conflicts: dict[str, BackendConflictError] = {}
        self._plugin = "<direct>"
        self._distribution = "<unknown>"
        #: Dataset source kinds (``[datasets.<name>] source = KIND``) -> class or "module:Class".
        self.dataset_sources: dict[str, object] = {}

    def _registering(self, plugin: str, distribution: str) -> None:
        self._plugin, self._distribution = plugin, distribution

    def add(self, name: str, target: Target, *, summary: str = "") -> None:
        """Register backend ``name``.

        :raises ValueError: ``name`` is not lowercase kebab-case.

        When another plugin already registered ``name`` the name becomes unusable: opening
        it raises :class:`BackendConflictError` naming both distributions (never a silent
        pick of one of them); the other backends keep working.
        """
        if not _NAME.match(name):
            raise ValueError(f"Backend name {name!r} must be lowercase kebab-case (e.g. 'ssh-lsf')")
        if name in self._backends:
            other = self._backends[name]
            self.conflicts[name] = BackendConflictError(
                f"Backend {name!r} is registered by plugin {other.plugin!r} "
                f"(distribution {other.distribution!r}) and by plugin {self._plugin!r} "
                f"(distribution {self._distribution!r})",
                hint="Uninstall one of the two distributions",
            )
            return
        self._backends[name] = BackendInfo(name, target, summary, self._plugin, self._distribution)

    def __contains__(self, name: object) -> bool:
        """True when ``name`` was registered (even if it is in conflict)."""
        return name in self._backends

    def names(self) -> list[str]:
        """Sorted names of the usable registered backends."""
        return sorted(set(self._backends) - set(self.conflicts))

    def info(self, name: str) -> BackendInfo:
        """The registration of ``name``; see :meth:`load` for the errors."""
        if name in self.conflicts:
            raise self.conflicts[name]
        if name not in self._backends:
            failure = self.failures.get(name)
            if failure is not None:
                raise BackendLoadError(
                    f"The plugin {failure.plugin!r} (distribution {failure.distribution!r}) that "
                    f"provides backend {name!r} failed to load: {failure.error!r}",
                    hint="Reinstall or upgrade that distribution",
                ) from failure.error
            error = BackendNotFoundError(name, self.names())
            if self.failures:
                error.hint += f"; plugins that failed to load: {', '.join(sorted(self.failures))}"
                error.add_context(resource=None, user=None)
            raise error
        return self._backends[name]

    def load(self, name: str) -> type[ComputeResource]:
        """The resource class of backend ``name``, importing it if needed.

        :raises BackendNotFoundError: no such backend (lists the installed ones).
        :raises BackendLoadError: its plugin or class failed to import (cause chained).
        :raises BackendConflictError: two plugins registered ``name``.
        """
        from remotejobs.resource import ComputeResource

        info = self.info(name)
        target = info.target
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            try:
                target = getattr(importlib.import_module(module_name), attr)
            except Exception as exc:
                raise BackendLoadError(
                    f"Backend {name!r} (plugin {info.plugin!r}, distribution "
                    f"{info.distribution!r}) could not be imported from {info.target!r}: {exc!r}",
                    hint="Reinstall that distribution with its dependencies",
                ) from exc
        if not (isinstance(target, type) and issubclass(target, ComputeResource)):
            raise BackendLoadError(f"Backend {name!r} target {info.target!r} is not a ComputeResource")
        return target

    def add_dataset_source(self, kind: str, target: object) -> None:
        """Register a dataset source kind (from a ``remotejobs_register_dataset_sources``
        hook); ``target`` is a :class:`~remotejobs.datasets.DatasetSource` subclass or a
        ``"module:Class"`` string, imported on first use.

        :raises ValueError: ``kind`` is not lowercase kebab-case, or already registered.
        """
        if not _NAME.match(kind):
            raise ValueError(f"Dataset source kind {kind!r} must be lowercase kebab-case")
        if kind in self.dataset_sources:
            raise ValueError(f"Dataset source kind {kind!r} is already registered")
        self.dataset_sources[kind] = target
