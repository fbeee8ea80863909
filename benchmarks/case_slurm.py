"""Slurm cases on the live test cluster: submit, status of many ids, and waiting.

References in the same run: a local ``sbatch`` loop (the floor any client pays), and
PSI/J's Slurm executor (psij-python, run in this process on this node, so without any SSH
cost). remotejobs is measured over SSH and, for submit, on the login node (no host).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import Comparison, Row, timed
from benchmarks._context import Context
from remotejobs.models import JobSpec


def _psij_executor(bin_dir: Path, poll: int = 30) -> Any:
    """PSI/J's Slurm executor whose ``sbatch``/``squeue`` come from ``bin_dir`` (PSI/J
    runs them by name from PATH)."""
    from psij import JobExecutor
    from psij.executors.batch.slurm import SlurmExecutorConfig

    os.environ["PATH"] = f"{bin_dir}:{os.environ['PATH']}"
    work = Path(tempfile.mkdtemp(prefix="rj-bench-psij-"))
    config = SlurmExecutorConfig(work_directory=work, queue_polling_interval=poll, initial_queue_polling_delay=0)
    return JobExecutor.get_instance("slurm", config=config)


def _psij_job(executable: str = "/bin/true", *args: str) -> Any:
    from psij import Job, JobAttributes
    from psij import JobSpec as PsijSpec

    return Job(PsijSpec(executable=executable, arguments=list(args), name="rjbench",
                        attributes=JobAttributes(queue_name="debug")))


def submit(ctx: Context) -> list[Comparison]:
    """Milliseconds per submitted (held) job."""
    n = 5 if ctx.smoke else 50
    spec = JobSpec(executable="/bin/true", name="rjbench")
    over_ssh = ctx.resource(ctx.held_bin)
    login_node = ctx.resource(ctx.held_bin, over_ssh=False)
    over_ssh.submit(spec)  # warm: connection, job root
    login_node.submit(spec)
    case = "submit one job"
    ours = Row(case, "remotejobs over SSH", "ms", timed(lambda: over_ssh.submit(spec), n))
    ours_local = Row(case, "remotejobs on the login node", "ms", timed(lambda: login_node.submit(spec), n))
    sbatch = Row(case, "local sbatch loop", "ms", timed(lambda: ctx.local_sbatch(ctx.user), n), reference=True)
    executor = _psij_executor(ctx.held_bin)

    def psij_submit() -> None:
        job = _psij_job()
        executor.submit(job)
        ctx.foreign_ids.append(str(job.native_id))

    psij_submit()
    psij_row = Row(case, "PSI/J (locally)", "ms", timed(psij_submit, n), reference=True)
    batch = [spec.model_copy(update={"name": f"rjbench-{k}"}) for k in range(n)]
    many = Row(case, "remotejobs submit_many over SSH", "ms",
               [t / n for t in timed(lambda: over_ssh.submit_many(batch), 3 if ctx.smoke else 5)])
    return [
        Comparison(case + " (submit_many, per job)", many, [sbatch, psij_row], "<= 1.3x local sbatch",
                   goal=("local sbatch loop", 1.3)),
        Comparison(case, ours, [sbatch, psij_row], "<= 1.3x local sbatch", goal=("local sbatch loop", 1.3)),
        Comparison(case + " (login node)", ours_local, [sbatch, psij_row], "<= 1.1x local sbatch",
                   goal=("local sbatch loop", 1.1)),
    ]


def status(ctx: Context) -> list[Comparison]:
    """Milliseconds for the status of N ids: one remotejobs call beside PSI/J's poll
    (``squeue -O JobArrayID,StateCompact,Reason -t all --me`` and its parser)."""
    from psij.executors.batch.slurm import SlurmJobExecutor

    sizes = [1, 10] if ctx.smoke else [1, 10, 100, 1000]
    ids = [ctx.local_sbatch(ctx.user) for _ in range(max(sizes))]
    if not ctx.smoke:  # a busy cluster: another user's queued jobs
        for _ in range(2000):
            ctx.local_sbatch(ctx.other_user)
    resource = ctx.resource(ctx.held_bin)
    executor = SlurmJobExecutor.__new__(SlurmJobExecutor)  # parser only; no polling thread
    psij_argv = [f"{ctx.slurm}/squeue", "-O", "JobArrayID,StateCompact,Reason", "-t", "all", "-u", ctx.user]

    def psij_poll() -> None:
        import subprocess

        done = subprocess.run(psij_argv, capture_output=True, text=True, check=True)
        executor.parse_status_output(0, done.stdout)

    out = []
    repeat = 3 if ctx.smoke else 7
    for size in sizes:
        batch = ids[:size]
        got = resource.status_many(batch)
        if len(got) != size:
            raise SystemExit(f"status_many returned {len(got)} of {size} jobs")
        case = f"status of {size} ids"
        ours = Row(case, "remotejobs over SSH", "ms", timed(lambda b=batch: resource.status_many(b), repeat))  # type: ignore[misc]
        ref = Row(case, "PSI/J poll (locally)", "ms", timed(psij_poll, repeat), reference=True)
        out.append(Comparison(case, ours, [ref], "<= PSI/J at every size", goal=("PSI/J poll (locally)", 1.0)))
    return out


def wait(ctx: Context) -> list[Comparison]:
    """Scheduler status calls, and how late completion is seen, while one job that
    runs ``seconds`` is waited on: ``Job.wait()`` beside PSI/J's ``wait()`` at 1 s polling."""
    seconds = 2 if ctx.smoke else 5
    resource = ctx.resource(ctx.counted_bin)
    stamp = f"rj-bench-end-{os.getpid()}"
    script = f"sleep {seconds}; date +%s.%N > $HOME/{stamp}"
    before = ctx.calls(ctx.counted_bin)
    start = time.time()
    job = resource.submit(JobSpec(executable="/bin/sh", arguments=["-c", script], name="rjbench"))
    job.wait(latency=1.0)
    seen = time.time()
    ours_calls = ctx.calls(ctx.counted_bin) - before
    ended = float(resource.transport.run(["cat", stamp]).stdout)
    resource.transport.run(["rm", "-f", "--", stamp])
    ours_late = seen - ended

    executor = _psij_executor(ctx.counted_bin, poll=1)
    psij_stamp = Path(tempfile.mkdtemp(prefix="rj-bench-psij-")) / "end"
    before = ctx.calls(ctx.counted_bin)
    pjob = _psij_job("/bin/sh", "-c", f"sleep {seconds}; date +%s.%N > {psij_stamp}")
    executor.submit(pjob)
    ctx.foreign_ids.append(str(pjob.native_id))
    pjob.wait()
    psij_seen = time.time()
    psij_calls = ctx.calls(ctx.counted_bin) - before
    psij_late = psij_seen - float(psij_stamp.read_text())
    case = f"status calls while one {seconds} s job is waited on"
    calls = Comparison(case, Row(case, "remotejobs Job.wait(latency=1.0)", "calls", [ours_calls]),
                       [Row(case, "PSI/J wait() at 1 s polling", "calls", [psij_calls], reference=True)],
                       "<= 1 call per poll cycle", goal=None)
    late = f"completion seen after the job ended ({time.time() - start:.0f} s run)"
    latency = Comparison(late, Row(late, "remotejobs Job.wait(latency=1.0)", "s", [ours_late]),
                         [Row(late, "PSI/J wait() at 1 s polling", "s", [psij_late], reference=True)],
                         "<= 1 s", limit=1.0)
    return [calls, latency, _many_waiters(ctx, seconds)]


def _many_waiters(ctx: Context, seconds: int) -> Comparison:
    """Status calls while 10 threads wait on 5 jobs (two each) for ``seconds``: one shared
    poller, so about as many calls as for one waiter (target: <= 1 per poll cycle)."""
    import threading

    resource = ctx.resource(ctx.counted_bin)
    jobs = resource.submit_many([JobSpec(executable="/bin/sleep", arguments=[str(seconds)], name=f"rjbench-w{k}")
                                 for k in range(5)])
    before, cycles = ctx.calls(ctx.counted_bin), resource.poller.cycles
    threads = [threading.Thread(target=jobs[k % 5].wait, kwargs={"latency": 1.0}) for k in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    calls = ctx.calls(ctx.counted_bin) - before
    case = f"status calls while 10 waiters wait on 5 {seconds} s jobs"
    return Comparison(case, Row(case, "remotejobs, 10 x Job.wait(latency=1.0)", "calls", [calls]),
                      [Row(case, "poll cycles of the shared poller", "calls",
                           [resource.poller.cycles - cycles], reference=True)],
                      "<= 1 call per poll cycle", goal=("poll cycles of the shared poller", 1.0))
