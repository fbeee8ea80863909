"""Settings of the ``sge`` backend."""

from __future__ import annotations

from pydantic import Field

from remotejobs.scheduler import BatchSettings

__all__ = ["SgeSettings"]

_NAME = r"^[A-Za-z0-9_.+-]+$"
_PATH = r"^/[A-Za-z0-9_./+-]*$"


class SgeSettings(BatchSettings):
    """Batch settings plus what differs between Grid Engine sites.

    :ivar sge_root: ``SGE_ROOT`` for every command (None: the login environment sets it,
        as ``settings.sh`` does on most sites).
    :ivar sge_cell: ``SGE_CELL`` (None: the login environment's, else ``default``).
    :ivar parallel_environment: the PE that jobs asking for more than one slot
        (``nodes * processes_per_node``) get with ``-pe <pe> <slots>``; None refuses them.
    :ivar memory_resource: the per-slot memory resource ``memory_mb`` is requested as
        (``h_vmem`` by default; sites also use ``mem_free``, ``h_rss``, ``m_mem_free``).
    :ivar shell: the shell the job script runs with (``-S``): queues in ``posix_compliant``
        mode ignore the ``#!`` line and would use their own (often ``/bin/csh``).
    """

    #: ``SGE_ROOT`` for every command (None: the login environment sets it).
    sge_root: str | None = Field(default=None, pattern=_PATH)
    #: ``SGE_CELL`` for every command (None: the login environment's, else ``default``).
    sge_cell: str | None = Field(default=None, pattern=_NAME)
    #: The parallel environment (``qconf -spl``) for jobs with more than one slot
    #: (``-pe <pe> <slots>``); None refuses them.
    parallel_environment: str | None = Field(default=None, pattern=_NAME)
    #: The per-slot memory resource ``memory_mb`` is requested as (``h_vmem``, ``mem_free`` ...).
    memory_resource: str = Field(default="h_vmem", pattern=_NAME)
    #: The shell of the job script (``qsub -S``): queues in ``posix_compliant`` mode ignore ``#!``.
    shell: str = Field(default="/bin/bash", pattern=_PATH)
