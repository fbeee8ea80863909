"""The root ``remotejobs`` group and the entry point.

Every command takes the global ``--resource NAME`` (default ``$REMOTEJOBS_RESOURCE`` or
``local``) and ``--user``, and ``--json`` / ``--debug`` before or after the command
name. Passwords are never command-line arguments: they are prompted without echo, read
from standard input (``--password-stdin``) or from the environment variable named by
``--password-env`` (default ``REMOTEJOBS_PASSWORD``).

Exit statuses are documented in :mod:`remotejobs.cli._common` (0 ok, 1 failed or not
found, 2 usage, 3 authentication, 4 transient).

Adding commands: write a module in this package that defines ``COMMANDS`` (a list of
click commands or groups, each with an ``Example:`` section in its help) and name it in
:data:`COMMAND_MODULES`; :func:`build` gives every command ``--json`` and ``--debug``.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence

import click

import remotejobs
from remotejobs.cli._common import EXIT_OK, EXIT_USAGE, Ctx, add_common_params, complete_resources, report_error
from remotejobs.errors import RemoteJobsError

__all__ = ["COMMAND_MODULES", "build", "cli", "main"]

#: Modules of this package that contribute commands (each defines ``COMMANDS``).
COMMAND_MODULES: tuple[str, ...] = ("info", "session", "jobs", "status", "files", "jobtypes", "agent", "workflow")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--resource", "-r", default=lambda: os.environ.get("REMOTEJOBS_RESOURCE", "local"),
              show_default="$REMOTEJOBS_RESOURCE or local", help="Configured resource name.",
              shell_complete=complete_resources)
@click.option("--user", "-u", default=None, help="User name on the resource.")
@click.option("--no-agent", is_flag=True, help="Do not use (or start) the session agent.")
@click.version_option(remotejobs.__version__, "--version")
@click.pass_context
def cli(click_ctx: click.Context, resource: str, user: str | None, no_agent: bool) -> None:
    """Run and follow jobs on remote batch clusters.

    Exit status: 0 ok, 1 a job failed or was not found, 2 usage, 3 authentication,
    4 transient (retry later).

    \b
    Example:
      remotejobs -r hpc login --user alice
    """
    state = click_ctx.ensure_object(Ctx)
    state.resource_name, state.user = resource, user
    state.no_agent = state.no_agent or no_agent


def build() -> click.Group:
    """Register the commands of :data:`COMMAND_MODULES` on :data:`cli` (idempotent)."""
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"remotejobs.cli.{name}")
        for command in module.COMMANDS:
            if command.name not in cli.commands:
                cli.add_command(command)
    add_common_params(cli)
    return cli


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit with its documented status."""
    group = build()
    state = Ctx()
    try:
        _run(group, state, argv)
    finally:
        state.close()  # every resource the command opened; saved sessions stay


def _run(group: click.Group, state: Ctx, argv: Sequence[str] | None) -> None:
    try:
        result = group.main(args=list(argv) if argv is not None else None, prog_name="remotejobs",
                            standalone_mode=False, obj=state)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except RemoteJobsError as exc:
        if state.debug:
            traceback.print_exception(exc, file=sys.stderr)
        sys.exit(report_error(state, exc))
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else EXIT_OK)
