"""The LSF backend: :class:`BatchResource` + :class:`LsfDialect`.

Costs: a submit is two commands (prepare the job directory, ``bsub``). A status of any
number of jobs is one ``bjobs`` call; only for ids bjobs no longer shows (finished longer
than ``CLEAN_PERIOD`` ago) one exit-marker read.
"""

from __future__ import annotations

from typing import ClassVar

from remotejobs.scheduler.batch import BatchResource
from remotejobs_lsf.dialect import LsfDialect
from remotejobs_lsf.settings import LsfSettings

__all__ = ["LsfResource", "LsfSettings"]


class LsfResource(BatchResource[LsfSettings, LsfDialect]):
    """An LSF cluster, over SSH (``host`` set) or on a login node (no ``host``).

    Job ids are LSF's (``123``; an array element is ``123[4]``; the array's own id gives
    an aggregate). Job names have control characters replaced by spaces and brackets by
    parentheses; array elements write ``<stdout>-<index>`` files. LSF appends its job
    report to the output file, as it does for every job submitted with ``-o``.
    """

    array_element_format: ClassVar[str | None] = "{id}[{index}]"  # as status reports elements
