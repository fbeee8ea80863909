"""sbatch options for a job spec: the ``#SBATCH`` / argv option pairs of
:meth:`remotejobs_slurm.dialect.SlurmDialect.options`, job names, walltimes, dependencies and
the site fields.

Pure: no I/O. Facts from sbatch(1) (Slurm 22.05.8,
https://manpages.ubuntu.com/manpages/lunar/man1/sbatch.1.html; https://slurm.schedmd.com/sbatch.html).
The names without a leading underscore are re-exported by :mod:`remotejobs_slurm.dialect`,
their import path.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import timedelta

from remotejobs.errors import InvalidJobSpecError
from remotejobs.models import DependencyGroup, JobSpec

__all__ = ["JOB_ID", "PLAIN", "SPEC_FIELDS", "dependency_value", "format_walltime", "io_path", "option",
           "site_options", "slurm_job_name"]

# Values that sbatch's #SBATCH tokenizer reads as one word whatever its quoting rules.
PLAIN = re.compile(r"^[A-Za-z0-9_.,:/@%+=-]+$")
# A job "123" or an array element "123_4" (squeue(1) -r, scancel(1) "job_id[_array_id]").
JOB_ID = re.compile(r"[1-9][0-9]{0,18}(_[0-9]{1,18})?")


def slurm_job_name(name: str) -> str:
    """``name`` with control characters replaced by spaces: a newline in a name would break
    every line-based Slurm output. Everything else is kept verbatim."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in name)


def format_walltime(walltime: timedelta) -> str:
    """``D-HH:MM:SS`` for sbatch --time (sbatch(1)); Slurm rounds up to whole minutes."""
    seconds = max(1, math.ceil(walltime.total_seconds()))
    days, rest = divmod(seconds, 86400)
    return f"{days}-{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def option(opt: str, value: str) -> str:
    """``--opt=value``, or the bare flag when ``value`` is empty."""
    return f"{opt}={value}" if value else opt


#: The site fields this dialect maps (see :func:`site_options`).
SPEC_FIELDS = frozenset({"account", "qos", "reservation", "constraint", "exclusive", "cores_per_process",
                         "gpus_per_node", "memory_mb_per_process", "nice", "begin", "email", "email_on",
                         "array_limit", "scheduler_options"})


def site_options(spec: JobSpec) -> list[tuple[str, str]]:
    """sbatch(1) options for the site fields of ``spec`` (``""`` value: a bare flag).

    https://slurm.schedmd.com/sbatch.html: --account, --qos, --reservation, --constraint,
    --exclusive, --cpus-per-task, --gpus-per-node, --mem-per-cpu, --nice,
    --begin (YYYY-MM-DD[THH:MM[:SS]]), --mail-user, --mail-type (BEGIN, END, FAIL);
    ``array_limit`` is the ``%N`` suffix of --array (see :meth:`remotejobs_slurm.dialect.SlurmDialect.options`).
    """
    opts: list[tuple[str, str]] = []
    for option, value in (("--account", spec.account), ("--qos", spec.qos), ("--reservation", spec.reservation),
                          ("--constraint", spec.constraint)):
        if value is not None:
            opts.append((option, value))
    if spec.exclusive:
        opts.append(("--exclusive", ""))
    for option, number in (("--cpus-per-task", spec.cores_per_process), ("--gpus-per-node", spec.gpus_per_node),
                           ("--nice", spec.nice)):
        if number is not None:
            opts.append((option, str(number)))
    if spec.memory_mb_per_process is not None:
        opts.append(("--mem-per-cpu", f"{math.ceil(spec.memory_mb_per_process / (spec.cores_per_process or 1))}M"))
    if spec.begin is not None:
        opts.append(("--begin", spec.begin.replace(microsecond=0, tzinfo=None).isoformat()))
    if spec.email is not None:
        opts.append(("--mail-user", spec.email))
        if spec.email_on:
            opts.append(("--mail-type", ",".join(sorted(e.upper() for e in spec.email_on))))
    for raw in spec.scheduler_options.get("slurm", ()):
        option, _, value = raw.partition("=")
        opts.append((option, value))
    return opts


def dependency_value(group: DependencyGroup) -> str:
    """The ``--dependency`` value (sbatch(1) "-d, --dependency"): each clause
    ``type:id[:id...]``; clauses joined by ``,`` (all must hold) or ``?`` (any may)."""
    bad = [i for c in group.clauses for i in c.job_ids if not JOB_ID.fullmatch(i)]
    if bad:
        raise InvalidJobSpecError(f"Not Slurm job ids in depends_on: {', '.join(map(repr, bad))}")
    joiner = "," if group.join == "all" else "?"
    return joiner.join(":".join([c.condition, *c.job_ids]) for c in group.clauses)


def io_path(path: str, array: bool) -> str:
    """An --output/--error value: ``%`` escaped as ``%%`` (sbatch(1) "filename pattern");
    array jobs get ``-%a`` (the element index) so elements do not share one file."""
    if "\\" in path:
        raise InvalidJobSpecError(
            f"Slurm cannot take the output path {path!r}: a backslash switches off its "
            "filename patterns", hint="Use a path without backslashes")
    return path.replace("%", "%%") + ("-%a" if array else "")
