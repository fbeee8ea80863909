"""pluggy registration of the ``slurm`` backend (entry point ``remotejobs.plugins``)."""

from __future__ import annotations

import remotejobs
from remotejobs.registry import BackendRegistry


@remotejobs.hookimpl
def remotejobs_register_backends(registry: BackendRegistry) -> None:
    registry.add(
        "slurm",
        "remotejobs_slurm.resource:SlurmResource",
        summary="Slurm clusters via sbatch/squeue/sacct/scancel, over SSH or on a login node",
    )
