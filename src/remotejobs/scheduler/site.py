"""Helpers the scheduler dialects share to map the JobSpec site fields.

Pure functions; each dialect cites the syntax it renders. Values that a scheduler
cannot express raise :class:`~remotejobs.errors.InvalidJobSpecError` naming the field.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from remotejobs.errors import InvalidJobSpecError
from remotejobs.models import JobSpec

__all__ = ["feature_names", "pbs_datetime", "per_process_memory", "priority_of_nice", "split_option"]

_FEATURE = re.compile(r"[A-Za-z0-9_.-]+")


def pbs_datetime(begin: datetime) -> str:
    """``CCYYMMDDhhmm.SS``: the ``-a date_time`` form qsub takes in Torque, PBS
    Professional/OpenPBS (``[[[[CC]YY]MM]DD]hhmm[.SS]``) and Grid Engine
    (``[[CC]YY]MMDDhhmm[.SS]``), given in full so nothing defaults to "today"/"tomorrow".
    A time zone is dropped: the value is the cluster's local time (JobSpec.begin)."""
    return begin.replace(tzinfo=None).strftime("%Y%m%d%H%M.%S")


def split_option(raw: str) -> tuple[str, str]:
    """A validated ``scheduler_options`` entry as (flag, value): ``-x`` -> (``-x``, ``""``),
    ``-l=select=1`` -> (``-l``, ``select=1``): the first ``=`` separates the value, which
    the dialect passes as the option's own argument."""
    flag, _, value = raw.partition("=")
    return flag, value


def feature_names(spec: JobSpec, backend: str) -> list[str]:
    """``spec.constraint`` as a list of node feature names joined by ``&`` or ``:`` (an
    "and" of features: the only constraint a node property list can say)."""
    if spec.constraint is None:
        return []
    names = [n for n in re.split(r"&+|:", spec.constraint) if n]
    bad = [n for n in names if not _FEATURE.fullmatch(n)]
    if bad or not names:
        raise InvalidJobSpecError(
            f"The {backend} backend takes constraint as feature names joined by '&', not {spec.constraint!r}",
            hint="Give constraint='feature1&feature2' (letters, digits, _ . -); "
            f"{backend} cannot express '|', '!' or counts")
    return names


def priority_of_nice(spec: JobSpec, low: int, high: int, backend: str) -> int | None:
    """``-nice`` as a qsub ``-p`` priority (higher runs earlier) within [low, high]."""
    if spec.nice is None:
        return None
    priority = -spec.nice
    if not low <= priority <= high:
        raise InvalidJobSpecError(
            f"nice={spec.nice} is outside what {backend} accepts (qsub -p {low}..{high}, "
            "given as -nice)", hint=f"Give nice between {-high} and {-low}")
    return priority


def per_process_memory(spec: JobSpec, backend: str) -> int | None:
    """``memory_mb_per_process`` (None when unset); refused together with ``memory_mb``
    where the scheduler has one memory request for both."""
    if spec.memory_mb_per_process is None:
        return None
    if spec.memory_mb is not None:
        raise InvalidJobSpecError(
            f"The {backend} backend takes memory_mb or memory_mb_per_process, not both",
            hint="Give the memory per node (memory_mb) or per process (memory_mb_per_process)")
    return math.ceil(spec.memory_mb_per_process)
