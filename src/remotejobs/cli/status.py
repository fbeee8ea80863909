"""``status``: a table of jobs that fits the terminal, filters, and ``--watch``."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from rich.live import Live
from rich.table import Table
from rich.text import Text

from remotejobs.cli._common import WALLTIME, Ctx, out, pass_ctx, password_options
from remotejobs.errors import JobNotFoundError
from remotejobs.models import JobInfo, JobState
from remotejobs.resource import ComputeResource

__all__ = ["COMMANDS", "info_dict", "job_table", "print_table", "select"]

_RECENT = timedelta(days=1)


def info_dict(info: JobInfo) -> dict[str, Any]:
    """One job as JSON-ready data."""
    return info.model_dump(mode="json")


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%m-%d %H:%M:%S") if value else ""


def job_table(infos: Sequence[JobInfo]) -> Table:
    """A table that folds long cells to fit the console width (ids are never cut)."""
    table = Table(expand=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("ID", no_wrap=True)
    table.add_column("NAME", overflow="ellipsis", max_width=30)
    table.add_column("STATE", no_wrap=True)
    table.add_column("EXIT", no_wrap=True, justify="right")
    table.add_column("SUBMITTED", no_wrap=True)
    table.add_column("REASON", overflow="fold", ratio=1)
    for i in infos:
        table.add_row(*(Text(c) for c in (
            i.id, i.name or "", i.state.value, "" if i.exit_code is None else str(i.exit_code),
            _when(i.submit_time), i.reason or "")))
    return table


def print_table(infos: Sequence[JobInfo]) -> None:
    out.print(job_table(infos))


def _ended(info: JobInfo) -> bool:
    return info.state.is_final or (info.state is JobState.UNKNOWN and info.native_state is None)


def select(infos: Sequence[JobInfo], *, all_: bool, states: Sequence[str], since: timedelta | None,
           name: str | None, now: datetime | None = None) -> list[JobInfo]:
    """The listing rules: without ``all_``, unfinished jobs and those that ended (or, with
    no end time known, were submitted) within ``since`` (default one day); then the state
    and name filters; sorted by submit time, oldest first (unknown times first)."""
    now = now or datetime.now(UTC)
    horizon = now - (since or _RECENT)
    chosen = []
    for info in infos:
        if states and info.state.value not in states:
            continue
        if name and not fnmatch.fnmatchcase(info.name or "", name):
            continue
        if not all_ and _ended(info):
            moment = info.end_time or info.submit_time
            if moment is not None and _aware(moment) < horizon:
                continue
        chosen.append(info)
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(chosen, key=lambda i: (_aware(i.submit_time) if i.submit_time else epoch, i.id))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.astimezone()


def _fetch(resource: ComputeResource, ids: Sequence[str]) -> list[JobInfo]:
    if not ids:
        return resource.jobs()
    infos = resource.status_many(list(ids))
    missing = [i for i in ids if i not in infos]
    if missing:
        raise JobNotFoundError(missing[0], resource=resource.name, user=resource.user)
    return [infos[i] for i in dict.fromkeys(ids)]


@click.command()
@click.argument("job_ids", nargs=-1)
@click.option("--all", "-a", "all_", is_flag=True, help="Also jobs that ended more than a day ago.")
@click.option("--state", "-s", "states", multiple=True, type=click.Choice([s.value for s in JobState],
              case_sensitive=False), help="Only jobs in this state (repeatable).")
@click.option("--since", type=WALLTIME, default=None,
              help="Show ended jobs from this far back (default 1d; e.g. 2h, 3d).")
@click.option("--name", "-n", default=None, help="Only jobs whose name matches this glob pattern.")
@click.option("--watch", "-w", is_flag=True, help="Refresh in place until the jobs shown have ended.")
@click.option("--interval", type=float, default=2.0, show_default=True, help="Seconds between --watch refreshes.")
@password_options
@pass_ctx
def status(ctx: Ctx, job_ids: tuple[str, ...], all_: bool, states: tuple[str, ...], since: timedelta | None,
           name: str | None, watch: bool, interval: float) -> None:
    """Show jobs: the given ids, or your unfinished jobs and those that ended in the last
    day, oldest submission first. Exit 1 if an id is unknown.

    \b
    Example:
      remotejobs -r hpc status --state RUNNING --name 'reduce*'
      remotejobs -r hpc status 1234 --watch
    """
    resource = ctx.session()
    wanted = [s.upper() for s in states]

    def rows() -> list[JobInfo]:
        found = _fetch(resource, job_ids)
        return found if job_ids and not wanted and not name else select(
            found, all_=all_ or bool(job_ids), states=wanted, since=since, name=name)

    infos = rows()
    if watch and not ctx.as_json:
        with Live(job_table(infos), console=out, auto_refresh=False) as live:
            while infos and not all(_ended(i) for i in infos):
                time.sleep(max(0.1, interval))
                infos = rows()
                live.update(job_table(infos), refresh=True)
        return
    while watch and infos and not all(_ended(i) for i in infos):  # --json --watch: the final listing
        time.sleep(max(0.1, interval))
        infos = rows()
    ctx.emit([info_dict(i) for i in infos], lambda: print_table(infos))


COMMANDS: list[click.Command] = [status]
