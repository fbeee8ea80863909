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
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import click
from rich.console import Console

import remotejobs
from remotejobs._walltime import parse_walltime as _parse_walltime
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
        self._sessions: dict[str, ComputeResource] = {}
        self.no_agent = False
        self._agent: Any = None
        self.opened: list[ComputeResource] = []

    def close(self) -> None:
        """Close every resource this invocation opened directly: connections are released,
        a session saved by ``login`` stays for the next command (until ``logout``). Sessions
        held by the agent stay there."""
        while self.opened:
            resource = self.opened.pop()
            try:
                resource.close()
            except RemoteJobsError as exc:  # the command's outcome stands
                click.echo(f"warning: closing {resource.name} failed: {exc}", err=True)

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

    def open(self, name: str | None = None) -> ComputeResource:
        """The resource named ``name`` (default ``--resource``), not logged in; SSH login
        prompts (2FA codes, a key's passphrase) are asked on the terminal
        (:func:`terminal_prompts`). Closed by :meth:`close` when the command ends."""
        resource = remotejobs.open_resource(name or self.resource_name, interactive_handler=terminal_prompts)
        self.opened.append(resource)
        return resource

    def session(self) -> ComputeResource:
        """The ``--resource`` with an active session (see :meth:`session_for`)."""
        return self.session_for(self.resource_name)

    def session_for(self, name: str) -> ComputeResource:
        """Resource ``name`` with an active session: resumed, or logged in with
        :meth:`password`; one per name for the whole command.

        :raises NotLoggedInError: nothing to resume and no password given.
        """
        if name in self._sessions:
            return self._sessions[name]
        password = self.password()
        client = self.agent(name)
        if client is not None:
            from remotejobs.agent import AgentResource

            try:
                self._sessions[name] = AgentResource.attach(client, name, self.user, password)
                return self._sessions[name]
            except AuthenticationError:
                pass  # the agent has no terminal for 2FA prompts or a key's passphrase: log in here
        resource = self.open(name)
        if password is not None:
            resource.login(self.user, password)
        elif not resource.resume(self.user):
            raise NotLoggedInError(
                "No saved session", resource=resource.name, user=self.user,
                hint=f"Run: remotejobs login {resource.name}" + (f" --user {self.user}" if self.user else ""),
            )
        self._sessions[name] = resource
        return resource


    def agent(self, name: str) -> Any:
        """The session agent's client (started on demand) when ``name`` should go
        through it, else None: not for the ``local`` backend, ``--no-agent`` or
        ``REMOTEJOBS_AGENT=0``; an agent directory that is not private is reported once
        and the command runs without the agent."""
        from remotejobs.agent import AgentError, agent_enabled, connect
        from remotejobs.config import load_config

        if self.no_agent or not agent_enabled() or load_config().resource(name).backend == "local":
            return None
        if self._agent is None:
            try:
                self._agent = connect(start=True)
            except AgentError as exc:
                err.print(f"warning: {exc}", highlight=False, markup=False)
                self.no_agent = True
                return None
        return self._agent


def terminal_prompts(title: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
    """Answer an SSH login's prompts on the terminal (stderr), hidden unless the server asks
    to echo. At the end of input the answers are empty, and the login fails with its error."""
    for line in (title, instructions):
        if line.strip():
            click.echo(line.strip(), err=True)
    answers = []
    for text, echo in prompts:
        try:
            answers.append(click.prompt(text.strip().rstrip(":"), hide_input=not echo, default="",
                                        show_default=False, err=True))
        except click.exceptions.Abort:
            answers.append("")
    return answers


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


# -- shell completion of names -------------------------------------------------------------
def complete_resources(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    """Configured resource names (for ``--resource`` and ``login RESOURCE``)."""
    try:
        from remotejobs.config import load_config

        return [n for n in load_config().names() if n.startswith(incomplete)]
    except RemoteJobsError:
        return []


def complete_job_types(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    """Job type names (for ``submit TYPE`` and ``jobtypes TYPE``)."""
    try:
        from remotejobs.jobtypes import job_types

        return [n for n in job_types() if n.startswith(incomplete)]
    except RemoteJobsError:
        return []


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
def parse_walltime(text: str) -> timedelta:
    """:func:`remotejobs._walltime.parse_walltime` for the command line.

    :raises click.BadParameter: not a walltime (the message lists the forms).
    """
    try:
        return _parse_walltime(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--walltime") from exc


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
