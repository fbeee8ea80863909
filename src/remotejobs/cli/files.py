"""File commands: ``upload`` and ``download``."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from remotejobs.cli._common import Ctx, err, pass_ctx, password_options
from remotejobs.jobtypes import element_files, is_array_element
from remotejobs.transport.base import transfer_progress

__all__ = ["COMMANDS", "activity"]

T = TypeVar("T")


@contextmanager
def activity(ctx: Ctx, text: str) -> Iterator[Callable[[str], None]]:
    """A transient progress bar on a terminal (nothing with ``--json`` or when piped): the
    bytes of the file being moved (fed by the transports through
    :data:`~remotejobs.transport.base.transfer_progress`, also from the session agent),
    and a count of files; yields a function that updates its text."""
    show = sys.stderr.isatty() and not ctx.as_json
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeElapsedColumn(), console=err, disable=not show,
                  transient=True) as bar:
        task = bar.add_task(text, total=None)
        files = [0, -1]  # files seen, bytes done of the current one

        def moved(done: int, total: int) -> None:
            if done < files[1] or files[1] < 0:
                files[0] += 1
            files[1] = done
            bar.update(task, completed=done, total=total or None,
                       description=f"{text} (file {files[0]})" if files[0] > 1 else text)
            if done == total:
                bar.refresh()  # every finished file is drawn complete at least once

        token = transfer_progress.set(moved)
        try:
            yield lambda t: bar.update(task, description=t)
        finally:
            transfer_progress.reset(token)


@click.command()
@click.argument("local_paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.argument("remote_dir")
@password_options
@pass_ctx
def upload(ctx: Ctx, local_paths: tuple[Path, ...], remote_dir: str) -> None:
    """Upload LOCAL_PATH... into REMOTE_DIR (relative to your home on the resource);
    prints the remote paths.

    \b
    Example:
      remotejobs -r hpc upload model.py params.json inbox
    """
    resource = ctx.session()
    with activity(ctx, "uploading") as show:
        show(f"uploading {local_paths[0].name}" if len(local_paths) == 1 else f"uploading {len(local_paths)} files")
        remote = resource.upload_many(local_paths, remote_dir)  # one round trip where the transport can
    ctx.emit({"remote_paths": remote, "remote_path": remote[0]}, lambda: click.echo("\n".join(remote)))


@click.command()
@click.argument("job_id")
@click.argument("local_dir", type=click.Path(path_type=Path), default=".")
@click.option("--name", default=None, help="Only this file (e.g. stdout).")
@password_options
@pass_ctx
def download(ctx: Ctx, job_id: str, local_dir: Path, name: str | None) -> None:
    """Download a job's output files into LOCAL_DIR (default: the current directory);
    for an array, give one element's id (e.g. ``1234_2``) or the array's id.

    \b
    Example:
      remotejobs -r hpc download 1234 ./out --name stdout
    """
    resource = ctx.session()
    with activity(ctx, f"downloading the output of {job_id}"):
        if resource.array_element_format is None or not is_array_element(job_id):
            paths = resource.download(job_id, local_dir, name)
        else:  # one element of an array: its own stdout-I/stderr-I, not its siblings'
            local_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=local_dir, prefix=".remotejobs-") as tmp:
                got = resource.download(job_id, tmp, name)
                keep = set(element_files([p.name for p in got], job_id))
                paths = []
                for path in got:
                    if path.name in keep:
                        os.replace(path, local_dir / path.name)
                        paths.append(local_dir / path.name)
    ctx.emit({"files": [str(p) for p in paths]}, lambda: click.echo("\n".join(str(p) for p in paths)))


COMMANDS: list[click.Command] = [upload, download]
