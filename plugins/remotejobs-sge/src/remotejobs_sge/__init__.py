"""remotejobs backend for Grid Engine (SGE, Son of Grid Engine, Univa/Altair): ``backend = "sge"``."""

from remotejobs_sge.dialect import SgeDialect
from remotejobs_sge.resource import SgeResource
from remotejobs_sge.settings import SgeSettings

__all__ = ["SgeDialect", "SgeResource", "SgeSettings"]
