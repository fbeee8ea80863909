"""remotejobs backend for Torque (and Slurm's torque wrappers): ``backend = "torque"``."""

from remotejobs_torque.dialect import TorqueDialect
from remotejobs_torque.resource import TorqueResource, TorqueSettings

__all__ = ["TorqueDialect", "TorqueResource", "TorqueSettings"]
