"""Registers the ``pbs`` backend with remotejobs."""

from __future__ import annotations

import remotejobs
from remotejobs.registry import BackendRegistry


@remotejobs.hookimpl
def remotejobs_register_backends(registry: BackendRegistry) -> None:
    registry.add(
        "pbs",
        "remotejobs_pbs.resource:PbsResource",
        summary="PBS Professional / OpenPBS batch server through qsub, qstat and qdel (SSH or local)",
    )
