"""The ``sge`` backend: a declaration (BatchResource + SgeSettings + SgeDialect).

Costs: a status of any number of jobs is one ``qstat -xml`` call (plus ``qstat -j`` in the
same command when a job is in error state), plus one command running ``qacct -j`` for
each job qstat no longer shows, plus one marker read for jobs neither knows.
"""

from __future__ import annotations

from typing import ClassVar

from remotejobs.scheduler import BatchResource
from remotejobs_sge.dialect import SgeDialect
from remotejobs_sge.settings import SgeSettings

__all__ = ["SgeResource"]


class SgeResource(BatchResource[SgeSettings, SgeDialect]):
    """A Grid Engine cell, over SSH (``host`` set) or with local commands on a submit host."""

    array_element_format: ClassVar[str | None] = "{id}.{index}"  # as status reports tasks
