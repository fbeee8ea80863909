""":class:`TorqueSettings`: the Torque backend's settings."""

from __future__ import annotations

from typing import Literal

from remotejobs.scheduler.batch import BatchSettings

__all__ = ["TorqueSettings"]


class TorqueSettings(BatchSettings):
    """Batch settings plus ``status_format``: ``auto`` tries ``qstat -f -x`` (XML, Torque
    2.4+) and falls back to ``qstat -f`` text for good when the server rejects ``-x``
    (Slurm's torque wrapper); ``xml`` or ``text`` force one."""

    #: ``auto`` tries ``qstat -f -x`` (XML, Torque 2.4+) and falls back to text for good when
    #: the server rejects ``-x``; ``xml`` or ``text`` force one.
    status_format: Literal["auto", "xml", "text"] = "auto"
