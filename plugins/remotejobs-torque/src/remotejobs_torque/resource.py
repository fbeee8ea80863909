"""The ``torque`` backend: a :class:`BatchResource` speaking qsub/qstat/qdel.

Costs: a status of any number of jobs is one ``qstat -f -x`` (or ``qstat -f -1``) call,
plus one marker read when some of them completed without a conclusive exit status or
are no longer shown (Torque <= 4.2 forgets finished jobs at once; ``keep_completed``).
With ``status_format = "auto"`` a server that rejects ``-x`` is asked with ``-f -1`` from
then on (``resource.probes.unavailable`` holds ``qstat-x``).
"""

from __future__ import annotations

from remotejobs.scheduler.batch import BatchResource
from remotejobs_torque.dialect import TorqueDialect
from remotejobs_torque.settings import TorqueSettings

__all__ = ["TorqueResource", "TorqueSettings"]


class TorqueResource(BatchResource[TorqueSettings, TorqueDialect]):
    """Torque batch server (or Slurm's torque wrappers) over SSH or locally."""
