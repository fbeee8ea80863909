"""Helpers the scheduler dialects share to map the JobSpec site fields.

Pure functions; each dialect cites the syntax it renders. Values that a scheduler
cannot express raise :class:`~remotejobs.errors.InvalidJobSpecError` naming the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime

from remotejobs.errors import InvalidJobSpecError
from remotejobs.models import JobSpec

__all__ = ["feature_names", "pbs_datetime", "per_process_memory", "priority_of_nice", "qsub_site_options",
           "split_option"]

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


def qsub_site_options(spec: JobSpec, backend: str, mail_points: Mapping[str, str],
                      safe: Callable[[str, str], str]) -> list[tuple[str, str]]:
    """The qsub options Torque and PBS Professional/OpenPBS write alike, in this order:
    ``-p <priority>`` (-1024..+1023, given as -nice), ``-a`` (:func:`pbs_datetime`),
    ``-M <user list>``, ``-m <points>`` (``mail_points`` maps each ``email_on`` word to the
    scheduler's letter: Torque's ``fail`` is ``f``, PBS's ``a``), then
    ``scheduler_options[backend]`` (:func:`split_option`; ``""`` value: a bare flag).
    ``safe(value, what)`` returns a free-text value qsub may get, or raises
    :class:`~remotejobs.errors.InvalidJobSpecError` naming ``what``. Each dialect cites
    the syntax (torque doc/man1/qsub.1.in, openpbs doc/man1/qsub.1B)."""
    opts: list[tuple[str, str]] = []
    priority = priority_of_nice(spec, -1024, 1023, backend)
    if priority is not None:
        opts.append(("-p", str(priority)))
    if spec.begin is not None:
        opts.append(("-a", pbs_datetime(spec.begin)))
    if spec.email is not None:
        opts.append(("-M", safe(spec.email, "e-mail address")))
        if spec.email_on:
            opts.append(("-m", "".join(sorted(mail_points[e] for e in spec.email_on))))
    for raw in spec.scheduler_options.get(backend, ()):
        flag, value = split_option(raw)
        opts.append((flag, safe(value, f"scheduler option {flag}") if value else ""))
    return opts
