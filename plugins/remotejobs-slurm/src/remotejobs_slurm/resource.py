"""The Slurm backend: :class:`BatchResource` + :class:`SlurmDialect`.

Costs: a submit is two commands (prepare the job directory, ``sbatch``). A status of any
number of jobs is one ``squeue`` call while slurmctld remembers them (it gives exit codes
too); only for ids it has forgotten, one ``sacct`` call (when accounting is enabled) and
one exit-marker read. With ``accounting = None`` (default) the first sacct call decides:
if Slurm answers "accounting storage is disabled", sacct is not called again by this
resource object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from remotejobs.models import Capability, JobInfo
from remotejobs.resource import BackendSettings
from remotejobs.scheduler.batch import BatchResource, BatchSettings
from remotejobs.scheduler.dialect import SchedulerDialect
from remotejobs_slurm.dialect import SlurmDialect

__all__ = ["SlurmResource", "SlurmSettings"]


class SlurmSettings(BatchSettings):
    """Batch settings plus ``accounting``: True = sacct is available, False = never call
    sacct, None (default) = find out on first use."""

    accounting: bool | None = None


class SlurmResource(BatchResource):
    """A Slurm cluster, over SSH (``host`` set) or on a login node (no ``host``).

    Job names have control characters replaced by spaces; array elements write
    ``<stdout>-<index>`` files. See :mod:`remotejobs_slurm.dialect` for the commands.
    """

    backend_name: ClassVar[str] = "slurm"
    settings_model: ClassVar[type[BackendSettings]] = SlurmSettings
    dialect_class: ClassVar[type[SchedulerDialect]] = SlurmDialect
    capabilities: ClassVar[frozenset[Capability]] = SlurmDialect.capabilities

    def make_dialect(self) -> SchedulerDialect:
        settings = self.settings
        assert isinstance(settings, SlurmSettings)  # settings_model guarantees it
        return SlurmDialect(bin_dir=settings.bin_dir, accounting=settings.accounting)

    @property
    def slurm(self) -> SlurmDialect:
        dialect = self.dialect
        assert isinstance(dialect, SlurmDialect)  # make_dialect guarantees it
        return dialect

    def _status_many(self, ids: Sequence[str]) -> dict[str, JobInfo]:
        """As BatchResource, plus remembering that sacct is unavailable (see module doc)."""
        slurm = self.slurm
        infos = self._mine(slurm.parse_status(self._run(slurm.status_command(ids)), ids))
        missing = [i for i in ids if i not in infos]
        history = slurm.history_command(missing) if missing else None
        if history is not None:
            result = self._run(history)
            if slurm.accounting_disabled(result):
                slurm.accounting = False
            else:
                infos.update(self._mine(slurm.parse_history(result, missing)))
                missing = [i for i in ids if i not in infos]
        if missing:
            infos.update(self._resolve_vanished(missing))
        return infos
