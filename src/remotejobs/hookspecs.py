"""Hook specifications for plugin authors.

A plugin is a module named by an entry point in the group ``remotejobs.plugins``; it
implements the hooks below with ``@remotejobs.hookimpl``. The one registration path to
copy (``remotejobs_slurm/plugin.py`` is a complete example)::

    # pyproject.toml: [project.entry-points."remotejobs.plugins"] pbspro = "remotejobs_pbspro.plugin"
    import remotejobs
    from remotejobs.registry import BackendRegistry

    @remotejobs.hookimpl
    def remotejobs_register_backends(registry: BackendRegistry) -> None:
        registry.add("pbspro", "remotejobs_pbspro.resource:PbsProResource", summary="PBS Pro over SSH")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from remotejobs.registry import BackendRegistry

__all__ = ["hookimpl", "hookspec", "remotejobs_register_backends", "remotejobs_register_dataset_sources",
           "remotejobs_register_launchers"]

hookspec = pluggy.HookspecMarker("remotejobs")
hookimpl = pluggy.HookimplMarker("remotejobs")


@hookspec
def remotejobs_register_backends(registry: BackendRegistry) -> None:
    """Register this plugin's backends with ``registry.add(name, "pkg.module:Class", ...)``.

    Called through the plugin manager (``pm.hook.remotejobs_register_backends``) once per
    process, when the registry is first used (not at ``import remotejobs``); every plugin's
    implementation runs (not firstresult), in pluggy's order. Give the class as a
    ``"module:Class"`` string so that heavy imports (paramiko, requests) happen only when
    the backend is opened.

    A name another plugin registered too becomes unusable: ``add`` returns normally,
    both plugins' other backends keep working, and opening that name raises
    :class:`~remotejobs.errors.BackendConflictError` naming both distributions. An
    exception raised here marks this plugin as failed (reported when one of its backends
    is asked for); the other plugins are unaffected.
    """


@hookspec
def remotejobs_register_dataset_sources(registry: BackendRegistry) -> None:
    """Register dataset source kinds with ``registry.add_dataset_source(kind,
    "pkg.module:Class")``, where the class subclasses
    :class:`remotejobs.datasets.DatasetSource` (e.g. a data catalogue such as ICAT).

    Called through the plugin manager right after :func:`remotejobs_register_backends`,
    with the same failure isolation; a plugin may implement either hook or both. The
    built-in kind is ``directory``.
    """


@hookspec
def remotejobs_register_launchers(registry: BackendRegistry) -> None:
    """Register launchers with ``registry.add_launcher(name, "pkg.module:Class")``, where
    the class subclasses :class:`remotejobs.launchers.Launcher` (for a starter command in
    front of the program, :class:`~remotejobs.launchers.PrefixLauncher`: ``aprun``,
    ``jsrun``). ``JobSpec(launcher=name)`` then uses it on the resources it declares
    (:attr:`~remotejobs.launchers.Launcher.schedulers`).

    Called through the plugin manager after :func:`remotejobs_register_dataset_sources`,
    with the same failure isolation. The built-in launchers are ``multiple``, ``srun``
    and ``mpirun``; a name already registered makes this plugin fail.
    """
