"""Private: entry-point discovery with pluggy, one plugin at a time.

A plugin that fails to import, or whose hook raises, is recorded in
``registry.failures`` and reported only when one of its backends is asked for; the other
plugins keep working. Environment switches:

- ``REMOTEJOBS_DISABLE_PLUGIN_AUTOLOAD=1``: load no entry points (only ``local``).
- ``REMOTEJOBS_PLUGINS=a,b``: load only the named entry points.
"""

from __future__ import annotations

import logging
import os
import threading
from importlib.metadata import entry_points
from types import ModuleType

import pluggy

from remotejobs import hookspecs
from remotejobs.registry import BackendRegistry, PluginFailure

__all__ = ["ENTRY_POINT_GROUP", "build_registry", "get_registry", "reset_registry"]

ENTRY_POINT_GROUP = "remotejobs.plugins"
log = logging.getLogger(__name__)
_lock = threading.Lock()
_registry: BackendRegistry | None = None


def _manager() -> pluggy.PluginManager:
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


def register_plugin(registry: BackendRegistry, pm: pluggy.PluginManager, plugin: object,
                    name: str, distribution: str) -> None:
    """Register one plugin object and run its hook; failures are recorded, not raised."""
    try:
        pm.register(plugin, name=name)
        pm.check_pending()
        registry._registering(name, distribution)
        for hook in (pm.hook.remotejobs_register_backends, pm.hook.remotejobs_register_dataset_sources):
            for impl in hook.get_hookimpls():
                if impl.plugin_name == name:
                    impl.function(registry=registry)
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the others
        log.warning("remotejobs plugin %r (%s) failed: %r", name, distribution, exc)
        registry.failures[name] = PluginFailure(name, distribution, exc)
        if pm.is_registered(plugin):
            pm.unregister(plugin)


def build_registry() -> BackendRegistry:
    """Discover the installed plugins and return a new registry."""
    registry = BackendRegistry()
    registry.add_dataset_source("directory", "remotejobs.datasets.directory:DirectorySource")
    pm = _manager()
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
        register_plugin(registry, pm, module, ep.name, dist)
    if "local" not in registry and "local" not in registry.failures and not pm.has_plugin("local"):
        # Running from a source tree without installed metadata: same hook, same path.
        from remotejobs.local import plugin as local_plugin

        register_plugin(registry, pm, local_plugin, "local", "remotejobs")
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
