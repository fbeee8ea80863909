"""Registers the ``lsf`` backend with remotejobs."""

from __future__ import annotations

import remotejobs
from remotejobs.registry import BackendRegistry


@remotejobs.hookimpl
def remotejobs_register_backends(registry: BackendRegistry) -> None:
    registry.add("lsf", "remotejobs_lsf.resource:LsfResource",
                 summary="IBM Spectrum LSF over SSH or on a login node (bsub/bjobs/bkill)")
