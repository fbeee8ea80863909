"""remotejobs backend for PBS Professional and OpenPBS: ``backend = "pbs"``."""

from remotejobs_pbs.dialect import PbsDialect
from remotejobs_pbs.resource import PbsResource, PbsSettings

__all__ = ["PbsDialect", "PbsResource", "PbsSettings"]
