"""Shared machinery of the command modules: the per-invocation state, output, exit
statuses, walltime parsing and the decorators every command uses.

Exit statuses (stable; scripts may rely on them):

===  ==========================================================================
0    success
1    a job failed, or a job / file / dataset was not found, or another error that
     retrying unchanged will not fix
2    usage: a bad option or argument, bad configuration, an unknown job type or
     option value, an operation the backend does not support
3    authentication: no session, wrong credentials, an unknown SSH host key
4    transient: the resource could not be reached or timed out; retry later
===  ==========================================================================
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import click
from rich.console import Console

import remotejobs
from remotejobs.errors import (
    AuthenticationError,
    ConfigurationError,
    HostKeyError,
    InvalidJobSpecError,
    JobNotFoundError,
    NotLoggedInError,
    PluginError,
    RemoteJobsError,
    UnsupportedOperationError,
)
from remotejobs.resource import ComputeResource

__all__ = [
    "EXIT_AUTH",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_TRANSIENT",
    "EXIT_USAGE",
    "Ctx",
    "err",
    "exit_status_for",
    "out",
    "parse_walltime",
    "pass_ctx",
    "password_options",
    "report_error",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_TRANSIENT = 0, 1, 2, 3, 4

out = Console()
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


class Ctx:
    """State of one ``remotejobs`` invocation (the click context object).

    Commands open resources only through :meth:`open` and :meth:`session`, so that one
    place decides how a resource is reached (directly, or through the session agent)
    and closed.
    """

    def __init__(self) -> None:
        self.resource_name = "local"
        self.user: str | None = None
        self.as_json = False
        self.debug = False
        self.password_stdin = False
        self.password_env = "REMOTEJOBS_PASSWORD"  # noqa: S105 - a variable name

    def password(self) -> str | None:
        """The password from standard input (``--password-stdin``) or the environment
        variable named by ``--password-env``, or None. Read once."""
        if self.password_stdin:
            self.password_stdin = False
            self._password: str | None = sys.stdin.readline().rstrip("\n")
            return self._password
        return getattr(self, "_password", None) or os.environ.get(self.password_env) or None

    def emit(self, data: Any, human: Callable[[], None]) -> None:
        """Print ``data`` as JSON with ``--json``, else call ``human``."""
        if self.as_json:
            click.echo(json.dumps(data, default=str, indent=2))
        else:
            human()

    def open(self) -> ComputeResource:
        """The resource named by ``--resource``, not logged in."""
        return remotejobs.open_resource(self.resource_name)

    def session(self) -> ComputeResource:
        """A resource with an active session: resumed, or logged in with :meth:`password`.

        :raises NotLoggedInError: nothing to resume and no password given.
        """
        resource = self.open()
        password = self.password()
        if password is not None:
            resource.login(self.user, password)
        elif not resource.resume(self.user):
            raise NotLoggedInError(
                "No saved session", resource=resource.name, user=self.user,
                hint=f"Run: remotejobs --resource {resource.name}"
                + (f" --user {self.user}" if self.user else "") + " login",
            )
        return resource


pass_ctx = click.make_pass_decorator(Ctx, ensure=True)


def exit_status_for(exc: RemoteJobsError) -> int:
    """The documented exit status for an error (see the module docstring)."""
    if isinstance(exc, AuthenticationError | NotLoggedInError | HostKeyError):
        return EXIT_AUTH
    if exc.transient:
        return EXIT_TRANSIENT
    if isinstance(exc, JobNotFoundError):
        return EXIT_FAILED
    if isinstance(exc, ConfigurationError | PluginError | UnsupportedOperationError | InvalidJobSpecError):
        return EXIT_USAGE
    return EXIT_FAILED


def report_error(ctx: Ctx, exc: RemoteJobsError) -> int:
    """Print ``exc`` as one line (or a JSON ``error`` object); return the exit status."""
    status = exit_status_for(exc)
    if ctx.as_json:
        click.echo(json.dumps({"error": {
            "type": type(exc).__name__, "message": str(exc), "resource": exc.resource, "user": exc.user,
            "transient": exc.transient, "hint": exc.hint, "exit_status": status}}))
    else:
        click.echo(f"error: {exc}", err=True)
    return status


# -- the options every command carries ------------------------------------------------
def _set_json(click_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        click_ctx.ensure_object(Ctx).as_json = True


def _set_debug(click_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        click_ctx.ensure_object(Ctx).debug = True


def common_params() -> list[click.Parameter]:
    """``--json`` and ``--debug``, accepted after any command as well as before it."""
    return [
        click.Option(["--json"], is_flag=True, expose_value=False, callback=_set_json,
                     help="Machine-readable output (errors too, as an 'error' object)."),
        click.Option(["--debug"], is_flag=True, expose_value=False, callback=_set_debug,
                     help="Show the traceback of an error."),
    ]


def add_common_params(command: click.Command) -> None:
    """Give ``command`` (and, for a group, every subcommand) ``--json`` and ``--debug``."""
    names = {n for p in command.params for n in getattr(p, "opts", [])}
    for param in common_params():
        if not set(param.opts) & names:
            command.params.append(param)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_common_params(sub)


def _set_password_stdin(click_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        click_ctx.ensure_object(Ctx).password_stdin = True


def _set_password_env(click_ctx: click.Context, _param: click.Parameter, value: str) -> None:
    click_ctx.ensure_object(Ctx).password_env = value


_password_options = [
    click.option("--password-stdin", is_flag=True, expose_value=False, callback=_set_password_stdin,
                 help="Read the password from standard input."),
    click.option("--password-env", default="REMOTEJOBS_PASSWORD", show_default=True, expose_value=False,
                 callback=_set_password_env, help="Environment variable holding the password."),
]


def password_options(fn: F) -> F:
    """``--password-stdin`` and ``--password-env`` (never the password itself); read by
    :meth:`Ctx.password`."""
    for option in reversed(_password_options):
        fn = option(fn)
    return fn


# -- walltimes ---------------------------------------------------------------------------
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SUFFIXED = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_CLOCK = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def parse_walltime(text: str) -> timedelta:
    """A walltime from the forms people type, minutes when no unit is given.

    ``90`` (minutes), ``90m``, ``45s``, ``2h``, ``1.5h``, ``1d``, ``MM:SS``, ``H:MM:SS``,
    ``D-HH``, ``D-HH:MM``, ``D-HH:MM:SS`` (Slurm's ``--time`` forms,
    https://slurm.schedmd.com/sbatch.html#OPT_time).

    :raises click.BadParameter: anything else, or a zero walltime.
    """
    value = text.strip().lower()
    seconds: float | None = None
    suffixed = _SUFFIXED.match(value)
    clock = _CLOCK.match(value)
    if suffixed:
        seconds = float(suffixed.group(1)) * _UNITS[suffixed.group(2)]
    elif clock:
        days, a, b, c = clock.groups()
        if days is not None:  # D-HH[:MM[:SS]]
            seconds = int(days) * 86400 + int(a) * 3600 + int(b or 0) * 60 + int(c or 0)
        elif c is not None:  # H:MM:SS
            seconds = int(a) * 3600 + int(b) * 60 + int(c)
        elif b is not None:  # MM:SS
            seconds = int(a) * 60 + int(b)
        else:  # minutes
            seconds = int(a) * 60
    if seconds is None or seconds < 1:
        raise click.BadParameter(
            f"{text!r} is not a walltime; use minutes (90), a unit (90m, 2h, 45s, 1d), "
            "H:MM:SS (1:30:00) or D-HH:MM:SS (1-00:00:00)", param_hint="--walltime")
    return timedelta(seconds=seconds)


class WalltimeType(click.ParamType):  # type: ignore[type-arg]  # generic since click 8.2
    """A click type for :func:`parse_walltime`."""

    name = "WALLTIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_walltime(str(value))
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


WALLTIME = WalltimeType()


def format_duration(delta: timedelta) -> str:
    """``1-02:03:04`` or ``02:03:04``."""
    total = int(delta.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{days}-{clock}" if days else clock
