"""The Slurm backend: :class:`BatchResource` + :class:`SlurmDialect`.

Costs: a submit is two commands (prepare the job directory, ``sbatch``). A status of any
number of jobs is one ``squeue`` call while slurmctld remembers them (it gives exit codes
too); only for ids it has forgotten, one ``sacct`` call (when accounting is enabled) and
one exit-marker read. With ``accounting = None`` (default) the first sacct call decides:
if Slurm answers "accounting storage is disabled", this resource does not call sacct again
(``resource.probes.unavailable`` then holds ``sacct``).
"""

from __future__ import annotations

from typing import ClassVar

from remotejobs.scheduler.batch import BatchResource
from remotejobs_slurm.dialect import SlurmDialect
from remotejobs_slurm.settings import SlurmSettings

__all__ = ["SlurmResource", "SlurmSettings"]


class SlurmResource(BatchResource[SlurmSettings, SlurmDialect]):
    """A Slurm cluster, over SSH (``host`` set) or on a login node (no ``host``).

    Job names have control characters replaced by spaces; array elements write
    ``<stdout>-<index>`` files. See :mod:`remotejobs_slurm.dialect` for the commands.
    """

    array_element_format: ClassVar[str | None] = "{id}_{index}"  # as status reports elements
