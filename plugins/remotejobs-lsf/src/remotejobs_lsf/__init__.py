"""remotejobs backend for IBM Spectrum LSF: ``bsub < script``, ``bjobs -o``, ``bkill``."""

from remotejobs_lsf.dialect import LsfDialect
from remotejobs_lsf.resource import LsfResource, LsfSettings

__all__ = ["LsfDialect", "LsfResource", "LsfSettings"]
