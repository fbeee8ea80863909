"""Job commands: ``submit``, ``wait``, ``cancel``."""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from remotejobs.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TRANSIENT,
    WALLTIME,
    Ctx,
    complete_job_types,
    err,
    out,
    pass_ctx,
    password_options,
)
from remotejobs.cli.status import info_dict, print_table
from remotejobs.errors import JobNotFoundError
from remotejobs.models import JobInfo, JobSpec, JobState
from remotejobs.resource import ComputeResource

__all__ = ["COMMANDS", "parse_env"]


def parse_env(items: tuple[str, ...], hint: str = "--env") -> dict[str, str]:
    """``NAME=VALUE`` pairs as a dict; a bare ``NAME`` takes this process's value of
    ``NAME`` (so a token need not be on a command line, where other users see it).

    :raises click.BadParameter: an empty name, or a bare ``NAME`` not set here."""
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE or NAME", param_hint=hint)
        if not sep:
            if key not in os.environ:
                raise click.BadParameter(
                    f"{key} is not set in this environment (a bare NAME passes its value on); "
                    "export it first, or give NAME=VALUE", param_hint=hint)
            value = os.environ[key]
        result[key] = value
    return result


class _SubmitCommand(click.Command):
    """Remembers whether ``--`` separated the program from the options."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["remotejobs.dashdash"] = "--" in args
        return super().parse_args(ctx, args)


@click.command(cls=_SubmitCommand, context_settings={"ignore_unknown_options": True})
@click.option("--option", "-o", "options", multiple=True, metavar="NAME=VALUE",
              help="A job type option, repeatable (see: remotejobs jobtypes TYPE).")
@click.option("--name", "-J", default=None, help="Job name.")
@click.option("--queue", "-q", default=None, help="Queue (partition).")
@click.option("--directory", "-d", default=None, help="Remote working directory.")
@click.option("--walltime", "-t", type=WALLTIME, default=None,
              help="Run-time limit: 90 (minutes), 90m, 2h, 1:30:00, 1-00:00:00.")
@click.option("--memory-mb", type=int, default=None, help="Memory in MB.")
@click.option("--nodes", type=int, default=None, help="Nodes [default: 1, or the job type's].")
@click.option("--processes-per-node", type=int, default=None, help="Processes per node [default: 1].")
@click.option("--env", "-e", "env", multiple=True,
              help="NAME=VALUE, or NAME to pass this environment's value (keeps a secret off the "
                   "command line); repeatable.")
@click.option("--wait", "wait_", is_flag=True, help="Wait for the job(s) to end; exit 1 unless all COMPLETED.")
@click.argument("what", metavar="TYPE|EXECUTABLE", shell_complete=complete_job_types)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED, metavar="[DATASET|ARGUMENT]...")
@password_options
@click.pass_context
def submit(click_ctx: click.Context, options: tuple[str, ...], name: str | None, queue: str | None,
           directory: str | None, walltime: timedelta | None, memory_mb: int | None, nodes: int | None,
           processes_per_node: int | None, env: tuple[str, ...], wait_: bool, what: str,
           arguments: tuple[str, ...]) -> int:
    """Submit a job type over datasets, or a program given after ``--``; prints the id(s).

    ``submit TYPE [-o NAME=VALUE]... DATASET...``: DATASET is SOURCE:NAME (NAME may be a
    glob pattern), a NAME one source has, or a path. Several datasets make one array job
    where the backend has arrays (one job when the type takes several datasets, separate
    jobs otherwise). ``submit [OPTIONS] -- EXECUTABLE [ARGUMENTS]...`` runs a program;
    its arguments reach it verbatim (no shell interprets them).

    \b
    Example:
      remotejobs -r hpc submit reduce -o bins=200 raw:run1 raw:run2 raw:run3
      remotejobs -r hpc submit -J reduce -t 2h -- /home/alice/reduce.sh MAP1234
    """
    ctx = click_ctx.ensure_object(Ctx)
    overrides = {"name": name, "queue": queue, "directory": directory, "walltime": walltime,
                 "memory_mb": memory_mb, "nodes": nodes, "processes_per_node": processes_per_node,
                 "environment": parse_env(env) or None}
    if not click_ctx.meta.get("remotejobs.dashdash") and "/" not in what:
        from remotejobs.cli.jobtypes import submit_job_type

        return submit_job_type(ctx, what, arguments, options, overrides, wait_)
    if options:
        raise click.BadParameter("--option is for job types; a program takes its own arguments",
                                 param_hint="--option")
    try:
        spec = JobSpec(executable=what, arguments=arguments,
                       **{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    resource = ctx.session()
    job = resource.submit(spec)
    if not wait_:
        ctx.emit({"id": job.id, "resource": resource.name}, lambda: click.echo(job.id))
        return EXIT_OK
    info = job.wait()
    ctx.emit(info_dict(info), lambda: print_table([info]))
    return EXIT_OK if info.state is JobState.COMPLETED else EXIT_FAILED


def wait_for(resource: ComputeResource, ids: list[str], timeout: float | None, show_bar: bool) -> dict[str, JobInfo]:
    """Poll ``ids`` together until all are final (or gone) or ``timeout`` expires."""
    deadline = None if timeout is None else time.monotonic() + timeout
    pause, infos = 0.1, {}
    with Progress(TextColumn("waiting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, disable=not show_bar, transient=True) as bar:
        task = bar.add_task("jobs", total=len(ids))
        while True:
            infos = resource.status_many(ids)
            missing = [i for i in ids if i not in infos]
            if missing:
                raise JobNotFoundError(missing[0], resource=resource.name, user=resource.user)
            done = [i for i in infos.values()
                    if i.state.is_final or (i.state is JobState.UNKNOWN and i.native_state is None)]
            bar.update(task, completed=len(done))
            if len(done) == len(ids) or (deadline is not None and time.monotonic() >= deadline):
                return infos
            time.sleep(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))
            pause = min(2.0, pause * 1.5)


@click.command()
@click.argument("job_ids", nargs=-1, required=True)
@click.option("--timeout", type=WALLTIME, default=None, help="Give up after this long (exit 4).")
@password_options
@pass_ctx
def wait(ctx: Ctx, job_ids: tuple[str, ...], timeout: timedelta | None) -> int:
    """Wait until the jobs end; exit 1 unless all COMPLETED, 4 on --timeout.

    A progress bar counts finished jobs when several are waited on at a terminal.

    \b
    Example:
      remotejobs -r hpc wait 1234 1235 --timeout 2h
    """
    resource = ctx.session()
    ids = list(dict.fromkeys(job_ids))
    infos = wait_for(resource, ids, timeout.total_seconds() if timeout else None,
                     show_bar=len(ids) > 1 and sys.stderr.isatty() and not ctx.as_json)
    rows = [infos[i] for i in ids]
    ctx.emit([info_dict(i) for i in rows], lambda: print_table(rows))
    if any(not i.state.is_final and i.state is not JobState.UNKNOWN for i in rows):
        return EXIT_TRANSIENT
    return EXIT_OK if all(i.state is JobState.COMPLETED for i in rows) else EXIT_FAILED


@click.command()
@click.argument("job_ids", nargs=-1, required=True)
@password_options
@pass_ctx
def cancel(ctx: Ctx, job_ids: tuple[str, ...]) -> int:
    """Cancel jobs (an array id cancels every element). A job that already ended is
    reported as such; an unknown id makes the exit status 1.

    \b
    Example:
      remotejobs -r hpc cancel 1234 1235
    """
    resource = ctx.session()
    ids = list(dict.fromkeys(job_ids))
    infos = resource.status_many(ids)
    rows: list[dict[str, Any]] = []
    for job_id in ids:
        info = infos.get(job_id)
        if info is None:
            rows.append({"id": job_id, "cancelled": False, "found": False})
        elif info.state.is_final:
            rows.append({"id": job_id, "cancelled": False, "found": True, "state": info.state.value})
        else:
            resource.cancel(job_id)
            rows.append({"id": job_id, "cancelled": True, "found": True, "state": info.state.value})

    def human() -> None:
        for row in rows:
            if not row["found"]:
                err.print(f"error: Job {row['id']!r} not found [resource {resource.name!r}, "
                          f"user {resource.user!r}]", highlight=False, markup=False)
            elif row["cancelled"]:
                out.print(f"Cancel requested for {row['id']}", highlight=False, markup=False)
            else:
                out.print(f"Job {row['id']} already ended ({row['state']}); nothing to cancel",
                          highlight=False, markup=False)

    ctx.emit(rows, human)
    return EXIT_FAILED if any(not r["found"] for r in rows) else EXIT_OK


COMMANDS: list[click.Command] = [submit, wait, cancel]
