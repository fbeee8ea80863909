"""Registers the ``torque`` backend with remotejobs."""

from __future__ import annotations

import remotejobs
from remotejobs.registry import BackendRegistry


@remotejobs.hookimpl
def remotejobs_register_backends(registry: BackendRegistry) -> None:
    registry.add(
        "torque",
        "remotejobs_torque.resource:TorqueResource",
        summary="Torque/PBS batch server through qsub, qstat and qdel (SSH or local)",
    )
