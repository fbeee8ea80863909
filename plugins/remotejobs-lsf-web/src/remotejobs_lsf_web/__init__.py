"""remotejobs backend for the IBM Platform LSF Application Center (PAC) web service.

``lsf-web``: :class:`LsfWebResource` with :class:`LsfWebSettings`; ``scarf``: the SCARF
preset (:class:`ScarfResource`, :class:`ScarfSettings`). Mantid's SCARFTomoReconstruction
actions on top are the distribution ``remotejobs-mantid``.

The names are imported lazily: the entry point loads ``remotejobs_lsf_web.plugin`` in
every process that uses remotejobs, and that must not import ``requests``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remotejobs_lsf_web.resource import LsfWebResource, ScarfResource
    from remotejobs_lsf_web.settings import LsfWebSettings, ScarfSettings

__all__ = ["LsfWebResource", "LsfWebSettings", "ScarfResource", "ScarfSettings"]

_HOME = {"LsfWebResource": "resource", "ScarfResource": "resource",
         "LsfWebSettings": "settings", "ScarfSettings": "settings"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"remotejobs_lsf_web.{_HOME[name]}"), name)
    raise AttributeError(f"module 'remotejobs_lsf_web' has no attribute {name!r}")
