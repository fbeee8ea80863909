"""Session commands: ``login``, ``logout``, ``session``, ``ping``."""

from __future__ import annotations

import sys
from typing import Any

import click

from remotejobs.cli._common import EXIT_TRANSIENT, Ctx, complete_resources, out, pass_ctx, password_options
from remotejobs.errors import AuthenticationError, NotLoggedInError
from remotejobs.resource import ComputeResource

__all__ = ["COMMANDS"]


@click.command()
@click.argument("resource_name", metavar="[RESOURCE]", required=False, shell_complete=complete_resources)
@click.option("--user", "-u", "user", default=None, help="User name (overrides the global --user).")
@click.option("--ask-password", "-p", is_flag=True,
              help="Prompt for a password even where the backend could log in without one (SSH passwords).")
@password_options
@pass_ctx
def login(ctx: Ctx, resource_name: str | None, user: str | None, ask_password: bool) -> None:
    """Log in to RESOURCE (default: --resource), prompting for the password without echo
    if the backend needs one. The session is kept for later commands.

    \b
    Example:
      remotejobs login hpc --user alice
      echo "$PW" | remotejobs login scarf --user alice --password-stdin
    """
    if resource_name:
        ctx.resource_name = resource_name
    if user:
        ctx.user = user
    resource = ctx.open()
    password = ctx.password()
    if password is None and (ask_password or resource.password_required()):
        if not sys.stdin.isatty():
            raise AuthenticationError("A password is required and no terminal is available",
                                      resource=resource.name, user=ctx.user,
                                      hint=f"Use --password-stdin or set ${ctx.password_env}")
        password = click.prompt(f"Password for {ctx.user or 'you'} on {resource.name}", hide_input=True,
                                err=True)
    client = ctx.agent(resource.name)
    if client is not None:
        from remotejobs.agent import AgentResource

        resource = AgentResource.attach(client, resource.name, ctx.user, password)
    else:
        resource.login(ctx.user, password)
    del password
    ctx.emit({"resource": resource.name, "user": resource.user, "logged_in": True},
             lambda: out.print(f"Logged in to {resource.name} as {resource.user}", highlight=False, markup=False))


@click.command()
@click.argument("resource_name", metavar="[RESOURCE]", required=False)
@pass_ctx
def logout(ctx: Ctx, resource_name: str | None) -> None:
    """End the saved session on RESOURCE (default: --resource).

    \b
    Example:
      remotejobs logout hpc
    """
    if resource_name:
        ctx.resource_name = resource_name
    resource: ComputeResource
    try:
        resource = ctx.session()
    except NotLoggedInError:
        resource = ctx.open()
    resource.logout()
    ctx.emit({"resource": resource.name, "logged_out": True},
             lambda: out.print(f"Logged out of {resource.name}", highlight=False, markup=False))


@click.command()
@password_options
@pass_ctx
def session(ctx: Ctx) -> None:
    """Show who is logged in on the resource (exit 3 when nobody is), and what the
    session agent holds for it.

    \b
    Example:
      remotejobs -r hpc session
    """
    resource = ctx.session()
    held: list[dict[str, Any]] = []
    client = ctx.agent(resource.name)
    if client is not None:
        held = [s for s in client.request("sessions") if s["resource"] == resource.name]
    row = {"resource": resource.name, "backend": resource.backend_name, "user": resource.user,
           "logged_in": resource.logged_in, "agent": client is not None, "agent_sessions": held}

    def human() -> None:
        via = " through the session agent" if client is not None else ""
        out.print(f"User {resource.user} is logged in to {resource.name} ({resource.backend_name}){via}",
                  highlight=False, markup=False)
        for s in held:
            out.print(f"  agent session: {s['user']}, idle {s['idle_seconds']}s", highlight=False, markup=False)

    ctx.emit(row, human)


@click.command()
@pass_ctx
def ping(ctx: Ctx) -> int:
    """Check that the resource answers (exit 4, transient, if it does not). Needs no login.

    \b
    Example:
      remotejobs -r hpc ping
    """
    ok = ctx.open().ping()
    ctx.emit({"resource": ctx.resource_name, "reachable": ok},
             lambda: out.print(f"{ctx.resource_name}: {'reachable' if ok else 'NOT reachable'}",
                               highlight=False, markup=False))
    return 0 if ok else EXIT_TRANSIENT


COMMANDS: list[click.Command] = [login, logout, session, ping]
