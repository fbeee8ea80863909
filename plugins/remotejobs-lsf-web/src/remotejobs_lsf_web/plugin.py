"""Registers the ``lsf-web`` backend and its ``scarf`` preset."""

from __future__ import annotations

import remotejobs
from remotejobs.registry import BackendRegistry


@remotejobs.hookimpl
def remotejobs_register_backends(registry: BackendRegistry) -> None:
    registry.add(
        "lsf-web",
        "remotejobs_lsf_web.resource:LsfWebResource",
        summary="IBM Platform LSF Application Center (PAC) web service",
    )
    registry.add(
        "scarf",
        "remotejobs_lsf_web.resource:ScarfResource",
        summary="SCARF (STFC/RAL) through its PAC web service: lsf-web with SCARF's defaults",
    )
