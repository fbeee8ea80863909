"""The LSF backend: :class:`BatchResource` + :class:`LsfDialect`.

Costs: a submit is two commands (prepare the job directory, ``bsub``). A status of any
number of jobs is one ``bjobs`` call; only for ids bjobs no longer shows (finished longer
than ``CLEAN_PERIOD`` ago) one exit-marker read.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from remotejobs.models import Capability
from remotejobs.resource import BackendSettings
from remotejobs.scheduler.batch import BatchResource, BatchSettings
from remotejobs.scheduler.dialect import SchedulerDialect
from remotejobs_lsf.dialect import LsfDialect

__all__ = ["LsfResource", "LsfSettings"]


class LsfSettings(BatchSettings):
    """Batch settings plus LSF's site facts.

    :ivar limit_unit: the site's ``LSF_UNIT_FOR_LIMITS`` (lsf.conf), the unit of ``-M``.
        LSF's built-in default is KB, but the LSF 10 installer writes MB, which most sites keep.
    :ivar status_format: ``delimited`` (default: ``bjobs -o ... delimiter='|'``, which every
        LSF since 9.1 has) or ``json`` (``bjobs -o ... -json``, LSF 10.1 and later).
    :ivar resource_requirement: an ``-R`` string added to every job, e.g. ``select[type==any]``.
    """

    limit_unit: Literal["KB", "MB", "GB"] = "MB"
    status_format: Literal["json", "delimited"] = "delimited"
    resource_requirement: str | None = None


class LsfResource(BatchResource):
    """An LSF cluster, over SSH (``host`` set) or on a login node (no ``host``).

    Job ids are LSF's (``123``; an array element is ``123[4]``; the array's own id gives
    an aggregate). Job names have control characters replaced by spaces and brackets by
    parentheses; array elements write ``<stdout>-<index>`` files. LSF appends its job
    report to the output file, as it does for every job submitted with ``-o``.
    """

    backend_name: ClassVar[str] = "lsf"
    settings_model: ClassVar[type[BackendSettings]] = LsfSettings
    dialect_class: ClassVar[type[SchedulerDialect]] = LsfDialect
    capabilities: ClassVar[frozenset[Capability]] = LsfDialect.capabilities

    def make_dialect(self) -> SchedulerDialect:
        settings = self.settings
        assert isinstance(settings, LsfSettings)  # settings_model guarantees it
        return LsfDialect(bin_dir=settings.bin_dir, limit_unit=settings.limit_unit,
                          status_format=settings.status_format,
                          resource_requirement=settings.resource_requirement)
