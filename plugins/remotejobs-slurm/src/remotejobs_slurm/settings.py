""":class:`SlurmSettings`: the Slurm backend's settings."""

from __future__ import annotations

from remotejobs.scheduler.batch import BatchSettings

__all__ = ["SlurmSettings"]


class SlurmSettings(BatchSettings):
    """Batch settings plus ``accounting``: True = sacct is available, False = never call
    sacct, None (default) = find out on first use (a resource that finds accounting
    disabled does not call sacct again)."""

    #: True: ``sacct`` is available; False: never call it; None: find out on first use (a
    #: resource that finds accounting disabled does not call it again).
    accounting: bool | None = None
