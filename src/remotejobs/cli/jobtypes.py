"""Job type commands: ``jobtypes``, ``datasets``, and ``submit TYPE DATASET...``."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from remotejobs.cli._common import EXIT_FAILED, EXIT_OK, Ctx, complete_job_types, out, pass_ctx
from remotejobs.datasets import Dataset, DatasetNotFoundError, DatasetSource, dataset_sources
from remotejobs.errors import InvalidJobSpecError
from remotejobs.jobtypes import JobSet, JobType, job_types, submit
from remotejobs.models import JobState

__all__ = ["COMMANDS", "resolve_datasets", "submit_job_type"]


def _job_type(name: str) -> JobType:
    types = job_types()
    if name not in types:
        raise InvalidJobSpecError(
            f"No job type named {name!r}; job types: {', '.join(types) or 'none'}",
            hint="List them with: remotejobs jobtypes; to run a program instead: remotejobs submit -- PROGRAM ARGS")
    return types[name]


@click.command()
@click.argument("name", required=False, shell_complete=complete_job_types)
@pass_ctx
def jobtypes(ctx: Ctx, name: str | None) -> None:
    """List the job types (or show one: its options, datasets and resources).

    Job types are TOML (or ICAT Job Portal XML) files in the job-types directory.

    \b
    Example:
      remotejobs jobtypes
      remotejobs jobtypes reduce --json
    """
    if name is None:
        types = job_types()
        ctx.emit({n: t.summary() for n, t in types.items()}, lambda: _list(types))
        return
    job_type = _job_type(name)
    ctx.emit(job_type.summary(), lambda: _show(job_type))


def _list(types: dict[str, JobType]) -> None:
    if not types:
        out.print("No job types (see: remotejobs jobtypes --help)", highlight=False, markup=False)
    for name, job_type in types.items():
        line = f"{name} is {job_type.kind}" + (f": {job_type.description}" if job_type.description else "")
        out.print(escape(line), highlight=False)


def _show(job_type: JobType) -> None:
    takes = {"none": "no dataset", "one": "one dataset per job", "many": "several datasets in one job"}
    out.print(escape(f"{job_type.name} ({job_type.kind}; takes {takes[job_type.datasets]}"
                     + (f" of type {', '.join(job_type.dataset_types)}" if job_type.dataset_types else "") + ")"),
              highlight=False)
    if job_type.description:
        out.print(escape(job_type.description), highlight=False)
    out.print(escape(f"command: {job_type.command}"), highlight=False)
    table = Table("OPTION", "TYPE", "DEFAULT", "VALID", "FOR TYPES", "HELP", box=None, header_style="bold")
    for o in job_type.options:
        table.add_row(*(escape(c) for c in (
            o.name + (" (required)" if o.required else ""), o.type, "" if o.default is None else str(o.default),
            o.describe(), ", ".join(o.dataset_types), o.help)))
    if job_type.options:
        out.print(table)


def _sources(names: Sequence[str] = ()) -> dict[str, DatasetSource]:
    sources = dataset_sources()
    for name in names:
        if name not in sources:
            raise DatasetNotFoundError(name, f"No dataset source named {name!r}; sources: "
                                       f"{', '.join(sources) or 'none'}",
                                       hint="Add a [datasets.<name>] table to the configuration")
    return {n: s for n, s in sources.items() if not names or n in names}


def _listing(ctx: Ctx, source: DatasetSource) -> list[Dataset]:
    resource = ctx.session_for(source.resource_name) if source.resource_name else None
    return source.datasets(resource)


@click.command()
@click.argument("sources", nargs=-1)
@click.option("--type", "-t", "dtype", default=None, help="Only datasets of this type.")
@click.option("--metadata", "-m", is_flag=True, help="Show each dataset's metadata.")
@pass_ctx
def datasets(ctx: Ctx, sources: tuple[str, ...], dtype: str | None, metadata: bool) -> None:
    """List the datasets of the configured sources (or of SOURCES only).

    \b
    Example:
      remotejobs datasets raw --metadata
    """
    found = [d for s in _sources(sources).values() for d in _listing(ctx, s) if not dtype or d.type == dtype]

    def human() -> None:
        table = Table("SOURCE:NAME", "TYPE", "LOCATION", *(["METADATA"] if metadata else []), box=None,
                      header_style="bold")
        for d in found:
            table.add_row(*(escape(c) for c in (f"{d.source}:{d.name}", d.type, d.location,
                                                *([str(dict(d.metadata))] if metadata else []))))
        out.print(table)

    ctx.emit([d.to_dict() for d in found], human)


def resolve_datasets(ctx: Ctx, words: Sequence[str], job_type: JobType) -> list[Dataset]:
    """Datasets named on the command line: ``SOURCE:NAME`` (NAME may be a glob pattern),
    a bare NAME found in exactly one source, or a path (containing ``/``) taken as a
    dataset of the job type's first dataset type."""
    chosen: list[Dataset] = []
    cache: dict[str, list[Dataset]] = {}

    def listing(source: DatasetSource) -> list[Dataset]:
        if source.name not in cache:
            cache[source.name] = _listing(ctx, source)
        return cache[source.name]

    for word in words:
        source_name, sep, pattern = word.partition(":")
        if sep and "/" not in source_name:
            source = _sources([source_name])[source_name]
            matches = [d for d in listing(source) if fnmatch.fnmatchcase(d.name, pattern)]
            if not matches:
                names = ", ".join(d.name for d in listing(source)[:20]) or "none"
                raise DatasetNotFoundError(word, f"No dataset matches {pattern!r} in source {source_name!r}; "
                                           f"it has: {names}")
            chosen.extend(matches)
        elif "/" in word:
            dtype = job_type.dataset_types[0] if job_type.dataset_types else "file"
            chosen.append(Dataset(word.rstrip("/").rsplit("/", 1)[-1] or word, dtype, word))
        else:
            hits = [d for s in _sources().values() for d in listing(s) if d.name == word]
            if len(hits) != 1:
                where = "no source has it" if not hits else "several sources have it: " + ", ".join(
                    f"{d.source}:{d.name}" for d in hits)
                raise DatasetNotFoundError(word, f"Dataset {word!r}: {where}",
                                           hint="Name it as SOURCE:NAME, or give its path")
            chosen.extend(hits)
    return list({(d.source, d.name): d for d in chosen}.values())


def parse_options(items: Sequence[str]) -> dict[str, str]:
    """``--option NAME=VALUE`` pairs."""
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--option")
        result[key.strip()] = value
    return result


def submit_job_type(ctx: Ctx, type_name: str, words: Sequence[str], options: Sequence[str],
                    overrides: dict[str, Any], wait: bool) -> int:
    """``submit TYPE [--option k=v] DATASET...``: one array, one job, or separate jobs."""
    job_type = _job_type(type_name)
    values = parse_options(options)
    chosen = resolve_datasets(ctx, words, job_type)
    job_type.check_datasets(chosen)
    job_type.values(values, chosen)  # option errors before any login or connection
    resource = ctx.session()
    jobs: JobSet = submit(job_type, resource, values, chosen, **overrides)
    if not wait:
        ctx.emit(jobs.to_dict(), lambda: _print_set(jobs, len(chosen)))
        return EXIT_OK
    infos = jobs.wait()
    data = {**jobs.to_dict(), "states": {n: i.state.value for n, i in infos.items()}}

    def human() -> None:
        for n, i in infos.items():
            out.print(f"{n}\t{i.id}\t{i.state.value}", highlight=False, markup=False)

    ctx.emit(data, human)
    return EXIT_OK if all(i.state is JobState.COMPLETED for i in infos.values()) else EXIT_FAILED


def _print_set(jobs: JobSet, count: int) -> None:
    what = {"array": f"one array job {jobs.ids[0]}", "single": f"job {jobs.ids[0]}",
            "separate": f"{len(jobs.ids)} jobs"}[jobs.mode]
    over = f" over {count} dataset{'s' if count != 1 else ''}" if count else ""
    out.print(escape(f"Submitted {jobs.job_type}{over} as {what} on {jobs.resource.name}"), highlight=False)
    for name, job_id in jobs.elements:
        out.print(escape(f"  {name}\t{job_id}"), highlight=False)


COMMANDS: list[click.Command] = [jobtypes, datasets]
