"""remotejobs backend for Slurm clusters (``backend = "slurm"``).

Over SSH when ``host`` is set, else with local commands on a login node. See README.md.
"""

from remotejobs_slurm.dialect import SlurmDialect
from remotejobs_slurm.resource import SlurmResource, SlurmSettings

__all__ = ["SlurmDialect", "SlurmResource", "SlurmSettings"]
