"""Commands that describe the installation: ``backends``, ``resources``, ``completion``."""

from __future__ import annotations

import os

import click
from click.shell_completion import get_completion_class

import remotejobs
from remotejobs.cli._common import Ctx, err, out, pass_ctx
from remotejobs.config import load_config

__all__ = ["COMMANDS"]


@click.command()
@pass_ctx
def backends(ctx: Ctx) -> None:
    """List the installed backends (and plugins that failed to load).

    \b
    Example:
      remotejobs backends --json
    """
    names, failures = remotejobs.available_backends(), remotejobs.plugin_failures()

    def human() -> None:
        for n in names:
            out.print(n, highlight=False, markup=False)
        for plugin, error in failures.items():
            err.print(f"plugin {plugin!r} failed to load: {error}", highlight=False, markup=False)

    ctx.emit({"backends": names, "failed_plugins": failures}, human)


@click.command()
@pass_ctx
def resources(ctx: Ctx) -> None:
    """List the configured resources and their backends.

    \b
    Example:
      remotejobs resources
    """
    config = load_config()
    rows = {n: config.resource(n).backend for n in config.names()}

    def human() -> None:
        for name, backend in rows.items():
            out.print(f"{name}\t{backend}", highlight=False, markup=False)

    ctx.emit({"resources": rows, "config": config.source}, human)


def _your_shell() -> str:
    shell = os.path.basename(os.environ.get("SHELL", ""))
    return shell if shell in ("bash", "zsh", "fish") else "bash"


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]),
                default=_your_shell)
@pass_ctx
def completion(ctx: Ctx, shell: str) -> None:
    """Print the shell completion script for SHELL (default: your $SHELL).

    Load it in the current shell with ``eval "$(remotejobs completion bash)"``, or save
    it where your shell reads completions.

    \b
    Example:
      remotejobs completion bash > ~/.local/share/bash-completion/completions/remotejobs
    """
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - the Choice above lists only known shells
        raise click.BadParameter(f"no completion for {shell!r}")
    from remotejobs.cli.main import cli

    script = cls(cli, {}, "remotejobs", "_REMOTEJOBS_COMPLETE").source()
    ctx.emit({"shell": shell, "script": script}, lambda: click.echo(script))


COMMANDS: list[click.Command] = [backends, resources, completion]
