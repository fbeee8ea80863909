"""``agent``: run, start, stop and inspect the session agent."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime

import click

from remotejobs.agent import DEFAULT_IDLE_TIMEOUT, connect, socket_path
from remotejobs.cli._common import EXIT_FAILED, EXIT_OK, Ctx, out, pass_ctx

__all__ = ["COMMANDS"]


@click.group()
def agent() -> None:
    """The session agent, which keeps logged-in sessions and warm connections between
    commands (started on demand; stops when idle; never stores a password).

    \b
    Example:
      remotejobs agent status
    """


@agent.command()
@click.option("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT, show_default=True,
              help="Stop after this many seconds without a request.")
@pass_ctx
def run(ctx: Ctx, idle_timeout: float) -> None:
    """Run the agent in the foreground (the command line starts it this way on demand).

    \b
    Example:
      remotejobs agent run --idle-timeout 3600
    """
    from remotejobs.agent._server import serve

    serve(socket_path(), idle_timeout)


@agent.command()
@click.option("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT, show_default=True,
              help="Stop after this many seconds without a request.")
@pass_ctx
def start(ctx: Ctx, idle_timeout: float) -> None:
    """Start the agent in the background unless it runs; print its pid and socket.

    \b
    Example:
      remotejobs agent start --idle-timeout 3600
    """
    client = connect(start=True, idle_timeout=idle_timeout)
    assert client is not None  # start=True either connects or raises
    hello = client.request("hello")
    client.close()
    ctx.emit({**hello, "socket": str(socket_path())},
             lambda: out.print(f"agent pid {hello['pid']} on {socket_path()}", highlight=False, markup=False))


@agent.command()
@pass_ctx
def stop(ctx: Ctx) -> int:
    """Stop the agent (its sessions end with it); exit 1 if none was running.

    \b
    Example:
      remotejobs agent stop
    """
    client = connect(start=False)
    if client is None:
        ctx.emit({"stopped": False, "running": False}, lambda: out.print("No agent is running", highlight=False))
        return EXIT_FAILED
    client.request("stop")
    client.close()
    deadline = time.monotonic() + 10
    while socket_path().exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    ctx.emit({"stopped": True}, lambda: out.print("Agent stopped", highlight=False, markup=False))
    return EXIT_OK


@agent.command()
@pass_ctx
def status(ctx: Ctx) -> int:
    """Show whether the agent runs, and the sessions it holds (exit 1 if not running).

    \b
    Example:
      remotejobs agent status --json
    """
    client = None
    with contextlib.suppress(Exception):
        client = connect(start=False)
    if client is None:
        ctx.emit({"running": False, "socket": str(socket_path())},
                 lambda: out.print(f"No agent is running (socket {socket_path()})", highlight=False, markup=False))
        return EXIT_FAILED
    hello, sessions = client.request("hello"), client.request("sessions")
    client.close()

    def human() -> None:
        out.print(f"agent pid {hello['pid']} on {socket_path()}", highlight=False, markup=False)
        for s in sessions:
            since = datetime.fromtimestamp(s["since"], UTC).astimezone().strftime("%H:%M:%S")
            out.print(f"  {s['user']} on {s['resource']} ({s['backend']}) since {since}, idle {s['idle_seconds']}s",
                      highlight=False, markup=False)

    ctx.emit({"running": True, **hello, "socket": str(socket_path()), "sessions": sessions}, human)
    return EXIT_OK


COMMANDS: list[click.Command] = [agent]
