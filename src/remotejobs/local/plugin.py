"""Registers the ``local`` backend through the same entry-point hook as any plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from remotejobs.hookspecs import hookimpl

if TYPE_CHECKING:
    from remotejobs.registry import BackendRegistry


@hookimpl
def remotejobs_register_backends(registry: BackendRegistry) -> None:
    registry.add(
        "local",
        "remotejobs.local.resource:LocalResource",
        summary="Run jobs as local processes (the embedded default; no cluster needed)",
    )
