"""Registers the ``sge`` backend with remotejobs."""

from __future__ import annotations

import remotejobs
from remotejobs.registry import BackendRegistry


@remotejobs.hookimpl
def remotejobs_register_backends(registry: BackendRegistry) -> None:
    registry.add(
        "sge",
        "remotejobs_sge.resource:SgeResource",
        summary="Grid Engine (SGE, Son of Grid Engine, Altair/Univa) through qsub, qstat, qacct and qdel",
    )
