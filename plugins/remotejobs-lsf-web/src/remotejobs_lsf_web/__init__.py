"""remotejobs backend for the IBM Platform LSF Application Center (PAC) web service.

``lsf-web``: :class:`LsfWebResource` with :class:`LsfWebSettings`; ``scarf``: the SCARF
preset (:class:`ScarfResource`, :class:`ScarfSettings`). :mod:`remotejobs_lsf_web.mantid`
offers Mantid's SCARFTomoReconstruction actions on top.
"""

from remotejobs_lsf_web.resource import LsfWebResource, ScarfResource
from remotejobs_lsf_web.settings import LsfWebSettings, ScarfSettings

__all__ = ["LsfWebResource", "LsfWebSettings", "ScarfResource", "ScarfSettings"]
