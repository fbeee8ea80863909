"""The backend registry: backend name -> resource class, filled by plugins.

Plugins call :meth:`BackendRegistry.add` from their ``remotejobs_register_backends``
hook. Classes given as ``"module:Class"`` strings are imported only when the backend is
first opened, so heavy dependencies load only for the backend in use.
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from remotejobs.errors import (
    BackendConflictError,
    BackendLoadError,
    BackendNotFoundError,
    PluginError,
    UnsupportedOperationError,
)

if TYPE_CHECKING:
    from remotejobs.launchers import Launcher
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
        #: Dataset source kinds (``[datasets.<name>] source = KIND``) -> class or "module:Class".
        self.dataset_sources: dict[str, object] = {}
        #: Launcher names (``JobSpec.launcher``) -> Launcher subclass or "module:Class".
        self.launchers: dict[str, object] = {}
        self._plugins: dict[str, str] = {}  # plugin name -> distribution
        self._modules: dict[str, str] = {}  # plugin module name -> plugin name

    def _plugin_added(self, plugin: str, distribution: str, module: str | None) -> None:
        self._plugins[plugin] = distribution
        if module:
            self._modules[module] = plugin

    def _distribution_of(self, plugin: str) -> str:
        return self._plugins.get(plugin, "<unknown>")

    def _clear_backends(self) -> None:
        self._backends.clear()
        self.conflicts.clear()
        self.dataset_sources.clear()
        self.launchers.clear()

    def _caller_plugin(self) -> str:
        """The plugin whose code called :meth:`add`: the caller's module, or its top-level
        package, is a registered plugin module's."""
        frame = sys._getframe(2)  # the caller of add()
        module = str(frame.f_globals.get("__name__", ""))
        if module in self._modules:
            return self._modules[module]
        top = module.partition(".")[0]
        owners = {p for m, p in self._modules.items() if m.partition(".")[0] == top}
        return owners.pop() if len(owners) == 1 else "<direct>"

    def add(self, name: str, target: Target, *, summary: str = "") -> None:
        """Register backend ``name`` (call this from the ``remotejobs_register_backends`` hook).

        :raises PluginError: ``name`` is not lowercase kebab-case, or this plugin already
            registered it (the plugin is then reported as failed).

        When another plugin already registered ``name`` the name becomes unusable: opening
        it raises :class:`BackendConflictError` naming both distributions (never a silent
        pick of one of them); the other backends of both plugins keep working.
        """
        plugin = self._caller_plugin()
        if not _NAME.match(name):
            raise PluginError(f"Backend name {name!r} must be lowercase kebab-case (e.g. 'ssh-lsf')")
        distribution = self._distribution_of(plugin)
        if name in self._backends:
            other = self._backends[name]
            if other.plugin == plugin and plugin != "<direct>":
                raise PluginError(f"Plugin {plugin!r} registers backend {name!r} twice")
            self.conflicts[name] = BackendConflictError(
                f"Backend {name!r} is registered by plugin {other.plugin!r} "
                f"(distribution {other.distribution!r}) and by plugin {plugin!r} "
                f"(distribution {distribution!r})",
                hint="Uninstall one of the two distributions",
            )
            return
        self._backends[name] = BackendInfo(name, target, summary, plugin, distribution)

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

        :raises PluginError: ``kind`` is not lowercase kebab-case, or already registered
            (the plugin is then reported as failed).
        """
        if not _NAME.match(kind):
            raise PluginError(f"Dataset source kind {kind!r} must be lowercase kebab-case")
        if kind in self.dataset_sources:
            raise PluginError(f"Dataset source kind {kind!r} is already registered")
        self.dataset_sources[kind] = target

    def add_launcher(self, name: str, target: object) -> None:
        """Register a launcher (from a ``remotejobs_register_launchers`` hook): ``target``
        is a :class:`~remotejobs.launchers.Launcher` subclass or a ``"module:Class"``
        string, imported on first use. ``name`` is what ``JobSpec.launcher`` says.

        :raises PluginError: ``name`` is not lowercase kebab-case, or already registered
            (the plugin is then reported as failed).
        """
        if not _NAME.match(name):
            raise PluginError(f"Launcher name {name!r} must be lowercase kebab-case")
        if name in self.launchers:
            raise PluginError(f"Launcher {name!r} is already registered")
        self.launchers[name] = target

    def launcher(self, name: str) -> Launcher:
        """A new instance of launcher ``name``.

        :raises UnsupportedOperationError: no launcher of that name is installed (the
            message lists the installed ones).
        :raises BackendLoadError: its class could not be imported, or is not a Launcher.
        """
        from remotejobs.launchers import Launcher

        if name not in self.launchers:
            raise UnsupportedOperationError(
                f"No launcher named {name!r} is installed; installed: {', '.join(sorted(self.launchers))}",
                hint="Use one of those, or install the plugin that provides it")
        target = self.launchers[name]
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            try:
                target = getattr(importlib.import_module(module_name), attr)
            except Exception as exc:
                raise BackendLoadError(f"Launcher {name!r} could not be imported from {target!r}: {exc!r}",
                                       hint="Reinstall the plugin that provides it") from exc
        if not (isinstance(target, type) and issubclass(target, Launcher)):
            raise BackendLoadError(f"Launcher {name!r} target {target!r} is not a remotejobs.launchers.Launcher")
        return target()
