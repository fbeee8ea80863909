"""Private: entry-point discovery with pluggy.

Every entry point of the group ``remotejobs.plugins`` names a plugin module; each is
registered with one :class:`pluggy.PluginManager`, and the registration hooks are then called
once each, through ``pm.hook.remotejobs_register_backends``,
``pm.hook.remotejobs_register_dataset_sources`` and ``pm.hook.remotejobs_register_launchers``
(so pluggy's ordering, ``tryfirst``/``trylast``, wrappers and tracing all apply). A plugin
that fails to import, to register or in its hook is recorded in ``registry.failures`` and
reported only when one of its backends is asked for; the other plugins keep working (after
a hook failure the call is repeated without the failed plugin, on a cleared registry). Environment switches:

- ``REMOTEJOBS_DISABLE_PLUGIN_AUTOLOAD=1``: load no entry points (only ``local``).
- ``REMOTEJOBS_PLUGINS=a,b``: load only the named entry points.
"""

from __future__ import annotations

import logging
import os
import threading
from importlib.metadata import entry_points
from types import ModuleType, TracebackType

import pluggy

from remotejobs import hookspecs
from remotejobs.registry import BackendRegistry, PluginFailure

__all__ = ["ENTRY_POINT_GROUP", "build_registry", "get_registry", "make_plugin_manager", "reset_registry"]

ENTRY_POINT_GROUP = "remotejobs.plugins"
HOOK = "remotejobs_register_backends"
#: Dataset source kinds of the core, registered before the plugins' hooks run.
BUILTIN_DATASET_SOURCES = {"directory": "remotejobs.datasets.directory:DirectorySource"}
log = logging.getLogger(__name__)
#: Launchers of the core, registered before the plugins' hooks run.
BUILTIN_LAUNCHERS = {"multiple": "remotejobs.launchers:MultipleLauncher", "srun": "remotejobs.launchers:SrunLauncher",
                     "mpirun": "remotejobs.launchers:MpirunLauncher"}
_lock = threading.Lock()
_registry: BackendRegistry | None = None


def make_plugin_manager() -> pluggy.PluginManager:
    """A plugin manager with the remotejobs hook specifications and nothing registered."""
    pm = pluggy.PluginManager("remotejobs")
    pm.add_hookspecs(hookspecs)
    return pm


def _wanted(name: str) -> bool:
    if name == "local":
        return True
    if os.environ.get("REMOTEJOBS_DISABLE_PLUGIN_AUTOLOAD", "") not in ("", "0"):
        return False
    only = os.environ.get("REMOTEJOBS_PLUGINS", "").strip()
    return not only or name in {n.strip() for n in only.split(",")}


def add_plugin(registry: BackendRegistry, pm: pluggy.PluginManager, plugin: object, name: str,
               distribution: str) -> bool:
    """Register one plugin object with ``pm`` (its hook runs later, in
    :func:`register_backends`); a failure is recorded in ``registry.failures``."""
    try:
        pm.register(plugin, name=name)
        pm.check_pending()
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the others
        _fail(registry, pm, name, distribution, exc)
        return False
    module = getattr(plugin, "__name__", None)
    registry._plugin_added(name, distribution, module if isinstance(module, str) else None)
    return True


def register_backends(registry: BackendRegistry, pm: pluggy.PluginManager) -> None:
    """Call ``pm.hook.remotejobs_register_backends(registry=registry)``, then
    ``pm.hook.remotejobs_register_dataset_sources(registry=registry)`` and
    ``pm.hook.remotejobs_register_launchers(registry=registry)``, once for all plugins.

    When a plugin's hook raises, that plugin is recorded as failed and unregistered, the
    registry's backends and sources are cleared and the calls are repeated for the remaining
    plugins."""
    while True:
        registry._clear_backends()
        for kind, target in BUILTIN_DATASET_SOURCES.items():
            registry.add_dataset_source(kind, target)
        for name, target in BUILTIN_LAUNCHERS.items():
            registry.add_launcher(name, target)
        try:
            pm.hook.remotejobs_register_backends(registry=registry)
            pm.hook.remotejobs_register_dataset_sources(registry=registry)
            pm.hook.remotejobs_register_launchers(registry=registry)
            return
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the others
            culprit = _culprit(pm, exc.__traceback__)
            if culprit is None:  # not raised by any plugin's hook: pluggy itself failed
                registry._clear_backends()
                registry.failures[HOOK] = PluginFailure(HOOK, "<unknown>", exc)
                log.warning("remotejobs plugin hook failed: %r", exc)
                return
            _fail(registry, pm, culprit, registry._distribution_of(culprit), exc)


def _culprit(pm: pluggy.PluginManager, tb: TracebackType | None) -> str | None:
    """The name of the plugin whose hook implementation is on the traceback."""
    impls = [*pm.hook.remotejobs_register_backends.get_hookimpls(),
             *pm.hook.remotejobs_register_dataset_sources.get_hookimpls(),
             *pm.hook.remotejobs_register_launchers.get_hookimpls()]
    codes = {impl.function.__code__: impl.plugin_name for impl in impls if hasattr(impl.function, "__code__")}
    while tb is not None:
        name = codes.get(tb.tb_frame.f_code)
        if name is not None:
            return name
        tb = tb.tb_next
    return None


def _fail(registry: BackendRegistry, pm: pluggy.PluginManager, name: str, distribution: str,
          exc: Exception) -> None:
    log.warning("remotejobs plugin %r (%s) failed: %r", name, distribution, exc)
    registry.failures[name] = PluginFailure(name, distribution, exc)
    plugin = pm.get_plugin(name)
    if plugin is not None:
        pm.unregister(plugin)


def build_registry() -> BackendRegistry:
    """Discover the installed plugins and return a new registry."""
    registry = BackendRegistry()
    pm = make_plugin_manager()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if not _wanted(ep.name):
            continue
        dist = ep.dist.name if ep.dist is not None else "<unknown>"
        try:
            module: ModuleType = ep.load()
        except Exception as exc:  # noqa: BLE001 - recorded and reported on use
            log.warning("remotejobs plugin %r (%s) failed to import: %r", ep.name, dist, exc)
            registry.failures[ep.name] = PluginFailure(ep.name, dist, exc)
            continue
        if pm.is_registered(module):
            continue
        add_plugin(registry, pm, module, ep.name, dist)
    if "local" not in registry.failures and not pm.has_plugin("local"):
        # Running from a source tree without installed metadata: same hook, same path.
        from remotejobs.local import plugin as local_plugin

        if not pm.is_registered(local_plugin):
            add_plugin(registry, pm, local_plugin, "local", "remotejobs")
    register_backends(registry, pm)
    return registry


def get_registry() -> BackendRegistry:
    """The process-wide registry, built on first use (not at import)."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = build_registry()
        return _registry


def reset_registry() -> None:
    """Forget the registry so the next use rediscovers plugins (for tests and after installs)."""
    global _registry
    with _lock:
        _registry = None
