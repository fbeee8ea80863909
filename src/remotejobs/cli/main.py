"""The ``remotejobs`` command-line client.

Every command takes ``--resource NAME`` (default ``$REMOTEJOBS_RESOURCE`` or ``local``),
``--user`` and ``--json``. Passwords are never command-line arguments: they are prompted
without echo, read from standard input (``--password-stdin``) or from the environment
variable named by ``--password-env`` (default ``REMOTEJOBS_PASSWORD``).

Exit status: 0 success, 1 a remotejobs error (message on stderr, or a JSON ``error``
object with ``--json``), 2 a usage error.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import remotejobs
from remotejobs.config import load_config
from remotejobs.errors import AuthenticationError, NotLoggedInError, RemoteJobsError
from remotejobs.models import JobInfo, JobSpec
from remotejobs.resource import ComputeResource

__all__ = ["main"]

out = Console()
err = Console(stderr=True)


class Ctx:
    def __init__(self, resource: str, user: str | None, as_json: bool) -> None:
        self.resource_name, self.user, self.as_json = resource, user, as_json

    def emit(self, data: Any, human: Callable[[], None]) -> None:
        if self.as_json:
            click.echo(json.dumps(data, default=str, indent=2))
        else:
            human()

    def open(self) -> ComputeResource:
        return remotejobs.open_resource(self.resource_name)

    def session(self, password: str | None = None) -> ComputeResource:
        """A resource with an active session: resumed, or logged in with ``password``."""
        resource = self.open()
        if password is not None:
            resource.login(self.user, password)
        elif not resource.resume(self.user):
            raise NotLoggedInError(
                "No saved session", resource=resource.name, user=self.user,
                hint=f"Run: remotejobs login --resource {resource.name}"
                + (f" --user {self.user}" if self.user else ""),
            )
        return resource


pass_ctx = click.make_pass_decorator(Ctx)


@contextmanager
def _errors(ctx: Ctx) -> Iterator[None]:
    try:
        yield
    except RemoteJobsError as exc:
        if ctx.as_json:
            click.echo(json.dumps({"error": {"type": type(exc).__name__, "message": str(exc),
                                             "transient": exc.transient}}))
        else:
            click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _info_dict(info: JobInfo) -> dict[str, Any]:
    return info.model_dump(mode="json")


def _table(infos: list[JobInfo]) -> None:
    table = Table("ID", "NAME", "STATE", "NATIVE", "EXIT", "SUBMITTED", "REASON")
    for i in infos:
        table.add_row(*(escape(c) for c in (
            i.id, i.name or "", i.state.value, i.native_state or "",
            "" if i.exit_code is None else str(i.exit_code),
            i.submit_time.strftime("%Y-%m-%d %H:%M:%S") if i.submit_time else "", i.reason or "")))
    out.print(table)


def _password(stdin: bool, env_name: str) -> str | None:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return os.environ.get(env_name) or None


@click.group()
@click.option("--resource", "-r", default=lambda: os.environ.get("REMOTEJOBS_RESOURCE", "local"),
              show_default="$REMOTEJOBS_RESOURCE or local", help="Configured resource name.")
@click.option("--user", "-u", default=None, help="User name on the resource.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.version_option(remotejobs.__version__)
@click.pass_context
def cli(click_ctx: click.Context, resource: str, user: str | None, as_json: bool) -> None:
    """Run and follow jobs on remote batch clusters."""
    click_ctx.obj = Ctx(resource, user, as_json)


@cli.command()
@pass_ctx
def backends(ctx: Ctx) -> None:
    """List the installed backends (and plugins that failed to load)."""
    with _errors(ctx):
        names, failures = remotejobs.available_backends(), remotejobs.plugin_failures()
        def human() -> None:
            for n in names:
                out.print(n)
            for plugin, error in failures.items():
                err.print(f"plugin {plugin!r} failed to load: {error}", highlight=False)
        ctx.emit({"backends": names, "failed_plugins": failures}, human)


@cli.command()
@pass_ctx
def resources(ctx: Ctx) -> None:
    """List the configured resources."""
    with _errors(ctx):
        config = load_config()
        rows = {n: config.resource(n).backend for n in config.names()}
        def human() -> None:
            for name, backend in rows.items():
                out.print(f"{name}\t{backend}", highlight=False)
        ctx.emit({"resources": rows, "config": config.source}, human)


_password_options = [
    click.option("--password-stdin", is_flag=True, help="Read the password from standard input."),
    click.option("--password-env", default="REMOTEJOBS_PASSWORD", show_default=True,
                 help="Environment variable holding the password."),
]


def password_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_password_options):
        fn = option(fn)
    return fn


@cli.command()
@password_options
@pass_ctx
def login(ctx: Ctx, password_stdin: bool, password_env: str) -> None:
    """Log in (prompting for the password if the backend needs one)."""
    with _errors(ctx):
        resource = ctx.open()
        password = _password(password_stdin, password_env)
        if password is None and resource.password_required():
            if not sys.stdin.isatty():
                raise AuthenticationError("A password is required and no terminal is available",
                                          resource=resource.name, user=ctx.user,
                                          hint=f"Use --password-stdin or set ${password_env}")
            password = click.prompt(f"Password for {ctx.user or 'you'} on {resource.name}", hide_input=True)
        resource.login(ctx.user, password)
        ctx.emit({"resource": resource.name, "user": resource.user},
                 lambda: out.print(f"Logged in to {resource.name} as {resource.user}", highlight=False))


@cli.command()
@pass_ctx
def logout(ctx: Ctx) -> None:
    """End the saved session."""
    with _errors(ctx):
        resource = ctx.open()
        resource.resume(ctx.user)
        resource.logout()
        ctx.emit({"resource": resource.name, "logged_out": True},
                 lambda: out.print(f"Logged out of {resource.name}", highlight=False))


@cli.command()
@pass_ctx
def ping(ctx: Ctx) -> None:
    """Check that the resource answers (exit 1 if not)."""
    with _errors(ctx):
        ok = ctx.open().ping()
        ctx.emit({"resource": ctx.resource_name, "reachable": ok},
                 lambda: out.print(f"{ctx.resource_name}: {'reachable' if ok else 'NOT reachable'}",
                                   highlight=False))
        if not ok:
            sys.exit(1)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.option("--name", "-J", default=None)
@click.option("--queue", "-q", default=None)
@click.option("--directory", "-d", default=None, help="Remote working directory.")
@click.option("--walltime", "-t", type=int, default=None, help="Seconds.")
@click.option("--memory-mb", type=int, default=None)
@click.option("--nodes", type=int, default=1)
@click.option("--processes-per-node", type=int, default=1)
@click.option("--env", "-e", "env", multiple=True, help="NAME=VALUE, repeatable.")
@click.option("--wait", "wait_", is_flag=True, help="Wait for the job to finish.")
@click.argument("executable")
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
@password_options
@pass_ctx
def submit(ctx: Ctx, name: str | None, queue: str | None, directory: str | None, walltime: int | None,
           memory_mb: int | None, nodes: int, processes_per_node: int, env: tuple[str, ...], wait_: bool,
           executable: str, arguments: tuple[str, ...], password_stdin: bool, password_env: str) -> None:
    """Submit EXECUTABLE [ARGUMENTS...]; prints the job id."""
    with _errors(ctx):
        environment = {}
        for item in env:
            key, sep, value = item.partition("=")
            if not sep:
                raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--env")
            environment[key] = value
        try:
            spec = JobSpec(executable=executable, arguments=arguments, name=name, queue=queue,
                           directory=directory, memory_mb=memory_mb, nodes=nodes,
                           processes_per_node=processes_per_node, environment=environment,
                           walltime=timedelta(seconds=walltime) if walltime else None)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
        resource = ctx.session(_password(password_stdin, password_env))
        job = resource.submit(spec)
        if wait_:
            info = job.wait()
            ctx.emit(_info_dict(info), lambda: _table([info]))
        else:
            ctx.emit({"id": job.id, "resource": resource.name}, lambda: click.echo(job.id))


@cli.command()
@click.argument("job_ids", nargs=-1)
@password_options
@pass_ctx
def status(ctx: Ctx, job_ids: tuple[str, ...], password_stdin: bool, password_env: str) -> None:
    """Show the given jobs, or all of this user's jobs."""
    with _errors(ctx):
        resource = ctx.session(_password(password_stdin, password_env))
        infos = [resource.status(j) for j in job_ids] if len(job_ids) == 1 else (
            list(resource.status_many(list(job_ids)).values()) if job_ids else resource.jobs())
        missing = sorted(set(job_ids) - {i.id for i in infos})
        if missing:
            raise remotejobs.JobNotFoundError(missing[0], resource=resource.name, user=resource.user)
        ctx.emit([_info_dict(i) for i in infos], lambda: _table(infos))


@cli.command()
@click.argument("job_id")
@password_options
@pass_ctx
def cancel(ctx: Ctx, job_id: str, password_stdin: bool, password_env: str) -> None:
    """Cancel a job."""
    with _errors(ctx):
        ctx.session(_password(password_stdin, password_env)).cancel(job_id)
        ctx.emit({"id": job_id, "cancelled": True}, lambda: out.print(f"Cancel requested for {job_id}"))


@cli.command()
@click.argument("local_path", type=click.Path(path_type=Path))
@click.argument("remote_dir")
@password_options
@pass_ctx
def upload(ctx: Ctx, local_path: Path, remote_dir: str, password_stdin: bool, password_env: str) -> None:
    """Upload LOCAL_PATH into REMOTE_DIR."""
    with _errors(ctx):
        remote = ctx.session(_password(password_stdin, password_env)).upload(local_path, remote_dir)
        ctx.emit({"remote_path": remote}, lambda: click.echo(remote))


@cli.command()
@click.argument("job_id")
@click.argument("local_dir", type=click.Path(path_type=Path), default=".")
@click.option("--name", default=None, help="Only this file.")
@password_options
@pass_ctx
def download(ctx: Ctx, job_id: str, local_dir: Path, name: str | None, password_stdin: bool,
             password_env: str) -> None:
    """Download a job's output files into LOCAL_DIR."""
    with _errors(ctx):
        paths = ctx.session(_password(password_stdin, password_env)).download(job_id, local_dir, name)
        ctx.emit({"files": [str(p) for p in paths]}, lambda: click.echo("\n".join(str(p) for p in paths)))


def main() -> None:
    cli(prog_name="remotejobs")
