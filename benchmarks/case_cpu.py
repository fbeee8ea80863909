"""Client CPU and memory cases: parsing scheduler output, array aggregation, and the
memory of many tracked jobs. Inputs are real outputs of this run's cluster (one captured
line per format, replicated with other ids), so the parsers see the real format.

Reference: PSI/J's Slurm parser (``SlurmJobExecutor.parse_status_output``) on the output
of the command PSI/J itself runs, which has fewer fields than remotejobs asks for.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from benchmarks._common import ROOT, Comparison, Row
from benchmarks._context import Context
from remotejobs.transport.base import CommandResult


def _once_ms(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _template_lines(ctx: Context) -> tuple[str, str, Any]:
    """One real squeue line in remotejobs' format, one in PSI/J's, and the dialect."""
    job = ctx.local_sbatch(ctx.user)
    resource = ctx.resource(ctx.held_bin)
    dialect = resource.dialect
    ours = resource.transport.run(list(dialect.status_command([job]).argv)).stdout.splitlines()[0]
    psij = subprocess.run([f"{ctx.slurm}/squeue", "-h", "-O", "JobArrayID,StateCompact,Reason", "-j", job],
                          capture_output=True, text=True, check=True).stdout.splitlines()[0]
    return ours.replace(job, "{id}"), psij.replace(job, "{id}"), dialect


def parse(ctx: Context) -> list[Comparison]:
    """Seconds to parse N squeue lines into infos for N ids (N = 100,000)."""
    from psij.executors.batch.slurm import SlurmJobExecutor

    n = 10_000 if ctx.smoke else 100_000
    ours_line, psij_line, dialect = _template_lines(ctx)
    ids = [str(10_000_000 + i) for i in range(n)]
    ours_text = "\n".join(ours_line.replace("{id}", i) for i in ids) + "\n"
    psij_text = "\n".join(psij_line.replace("{id}", i) for i in ids) + "\n"
    result = CommandResult(argv=("squeue",), exit_status=0, stdout=ours_text, stderr="")
    got = dialect.parse_status(result, ids)
    if len(got) != n:
        raise SystemExit(f"parse returned {len(got)} of {n} jobs")
    executor = SlurmJobExecutor.__new__(SlurmJobExecutor)
    repeat = 1 if ctx.smoke else 3
    case = f"parse {n:,} squeue lines"
    ours = Row(case, "remotejobs (all fields)", "s", [_once_ms(lambda: dialect.parse_status(result, ids)) / 1000
                                                      for _ in range(repeat)])
    ref = Row(case, "PSI/J (3 fields)", "s", [_once_ms(lambda: executor.parse_status_output(0, psij_text)) / 1000
                                               for _ in range(repeat)], reference=True)
    return [Comparison(case, ours, [ref], "< 0.5 s", limit=0.5)]


def arrays(ctx: Context) -> list[Comparison]:
    """Seconds to aggregate A arrays of E elements each (100 x 1,000) into A infos."""
    n_arrays, per = (10, 1000) if ctx.smoke else (100, 1000)
    ours_line, _, dialect = _template_lines(ctx)
    array_ids = [str(20_000_000 + a) for a in range(n_arrays)]
    fields = ours_line.split("|")
    lines = []
    for array in array_ids:
        for index in range(per):
            fields[0], fields[1] = f"{array}_{index}", array
            lines.append("|".join(fields).replace("{id}", array))
    result = CommandResult(argv=("squeue",), exit_status=0, stdout="\n".join(lines) + "\n", stderr="")
    got = dialect.parse_status(result, array_ids)
    if len(got) != n_arrays:
        raise SystemExit(f"array aggregation returned {len(got)} of {n_arrays} arrays")
    case = f"aggregate {n_arrays} arrays x {per:,} elements"
    ours = Row(case, "remotejobs", "s", [_once_ms(lambda: dialect.parse_status(result, array_ids)) / 1000
                                         for _ in range(1 if ctx.smoke else 3)])
    return [Comparison(case, ours, [], "linear, < 0.3 s", limit=0.3)]


_MEMORY_PROBE = r"""
import gc, json, sys, time
n, which = int(sys.argv[1]), sys.argv[2]
def rss():  # VmHWM: peak of this address space (ru_maxrss would carry the parent's peak over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
if which == "remotejobs":
    from remotejobs import open_resource
    from remotejobs.models import JobInfo, JobState
    r = open_resource("local")
    from remotejobs.job import Job
    base = rss()
    cpu = time.process_time()
    jobs = [Job(str(i), r) for i in range(n)]
    # as a status call makes them (dialects build infos with JobInfo.trusted)
    infos = {str(i): JobInfo.trusted(str(i), JobState.QUEUED, name=f"job{i}") for i in range(n)}
else:
    from psij import Job, JobSpec
    base = rss()
    cpu = time.process_time()
    jobs = [Job(JobSpec(executable="/bin/true", name=f"job{i}")) for i in range(n)]
cpu = time.process_time() - cpu
gc.collect()
print(json.dumps({"base": base, "peak": rss(), "cpu": cpu}))
"""


def memory(ctx: Context) -> list[Comparison]:
    """Client RSS (MB) of a fresh process tracking N jobs (handles and their infos)."""
    n = 1000 if ctx.smoke else 10_000
    out = {}
    for which in ("remotejobs", "psij"):
        done = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(n), which], capture_output=True, text=True,
                              check=True, cwd=ROOT)
        out[which] = json.loads(done.stdout)
    case = f"RSS of a client tracking {n:,} jobs"
    ours = Row(case, "remotejobs", "MB", [out["remotejobs"]["peak"]],
               note=f"{out['remotejobs']['peak'] - out['remotejobs']['base']:.1f} MB and "
                    f"{out['remotejobs']['cpu']:.2f} s CPU for the jobs")
    ref = Row(case, "PSI/J", "MB", [out["psij"]["peak"]], reference=True,
              note=f"{out['psij']['peak'] - out['psij']['base']:.1f} MB and {out['psij']['cpu']:.2f} s CPU "
                   "for the jobs")
    return [Comparison(case, ours, [ref], "below PSI/J", goal=("PSI/J", 1.0))]
