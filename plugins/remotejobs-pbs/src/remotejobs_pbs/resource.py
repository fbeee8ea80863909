"""The ``pbs`` backend: a :class:`BatchResource` speaking PBS Professional / OpenPBS.

Costs: a status of any number of jobs is one ``qstat -f -F json -x -t`` call (``qstat -f
-x -t`` where qstat has no ``-F``: ``resource.probes.unavailable`` then holds
``qstat-json``), plus one marker read when some finished without a conclusive exit status
or are no longer shown (a server without job history, or past ``job_history_duration``),
plus one text ``qstat`` for ids a JSON answer silently left out (openpbs/openpbs #2672).

The dialect declares it all (:meth:`PbsDialect.answer`): an array's subjobs are settled
one by one with their own exit markers (``$PBS_JOBID`` of a subjob is ``123[4].server``)
by :class:`BatchResource` before they are aggregated into the array's status.
"""

from __future__ import annotations

from remotejobs.scheduler.batch import BatchResource
from remotejobs_pbs.dialect import PbsDialect
from remotejobs_pbs.settings import PbsSettings

__all__ = ["PbsResource", "PbsSettings"]


class PbsResource(BatchResource[PbsSettings, PbsDialect]):
    """PBS Professional or OpenPBS server over SSH or locally."""
