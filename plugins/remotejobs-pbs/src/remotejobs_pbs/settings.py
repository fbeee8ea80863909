""":class:`PbsSettings`: the PBS backend's settings."""

from __future__ import annotations

from typing import Literal

from remotejobs.scheduler.batch import BatchSettings

__all__ = ["PbsSettings"]


class PbsSettings(BatchSettings):
    """Batch settings plus ``status_format``: ``auto`` asks ``qstat -f -F json`` and falls
    back to ``qstat -f`` text for good when the server's qstat has no ``-F`` (PBS Pro
    before 13); ``json`` or ``text`` force one."""

    #: ``auto`` asks ``qstat -f -F json`` and falls back to ``qstat -f`` text for good when
    #: qstat has no ``-F`` (PBS Pro before 13); ``json`` or ``text`` force one.
    status_format: Literal["auto", "json", "text"] = "auto"
