""":class:`LsfSettings`: the LSF backend's settings."""

from __future__ import annotations

from typing import Literal

from remotejobs.scheduler.batch import BatchSettings

__all__ = ["LsfSettings"]


class LsfSettings(BatchSettings):
    """Batch settings plus LSF's site facts.

    :ivar limit_unit: the site's ``LSF_UNIT_FOR_LIMITS`` (lsf.conf), the unit of ``-M``.
        LSF's built-in default is KB, but the LSF 10 installer writes MB, which most sites keep.
    :ivar status_format: ``delimited`` (default: ``bjobs -o ... delimiter='|'``, which every
        LSF since 9.1 has) or ``json`` (``bjobs -o ... -json``, LSF 10.1 and later).
    :ivar resource_requirement: an ``-R`` string added to every job, e.g. ``select[type==any]``.
    """

    #: The site's ``LSF_UNIT_FOR_LIMITS`` (lsf.conf), the unit of ``-M``; the LSF 10 installer
    #: writes MB.
    limit_unit: Literal["KB", "MB", "GB"] = "MB"
    #: ``delimited`` (``bjobs -o ... delimiter='|'``, LSF 9.1+) or ``json`` (``bjobs -o ...
    #: -json``, LSF 10.1+).
    status_format: Literal["json", "delimited"] = "delimited"
    #: An ``-R`` string added to every job, e.g. ``select[type==any]``.
    resource_requirement: str | None = None
