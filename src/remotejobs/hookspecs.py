"""Hook specifications for plugin authors.

A plugin is a module named by an entry point in the group ``remotejobs.plugins``; it
implements the hooks below with ``@remotejobs.hookimpl``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from remotejobs.registry import BackendRegistry

__all__ = ["hookimpl", "hookspec", "remotejobs_register_backends", "remotejobs_register_dataset_sources"]

hookspec = pluggy.HookspecMarker("remotejobs")
hookimpl = pluggy.HookimplMarker("remotejobs")


@hookspec
def remotejobs_register_backends(registry: BackendRegistry) -> None:
    """Register this plugin's backends with ``registry.add(name, "pkg.module:Class", ...)``.

    Called once per plugin, when the registry is first used (not at ``import remotejobs``);
    not firstresult. Give the class as a ``"module:Class"`` string so that heavy imports
    (paramiko, requests) happen only when the backend is opened. Registering a name
    another plugin registered raises :class:`~remotejobs.errors.BackendConflictError`.
    """


@hookspec
def remotejobs_register_dataset_sources(registry: BackendRegistry) -> None:
    """Register dataset source kinds with ``registry.add_dataset_source(kind,
    "pkg.module:Class")``, where the class subclasses
    :class:`remotejobs.datasets.DatasetSource` (e.g. a data catalogue such as ICAT).

    Called once per plugin, like :func:`remotejobs_register_backends`; a plugin may
    implement either hook or both. The built-in kind is ``directory``.
    """
