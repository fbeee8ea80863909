"""Workflow commands: ``workflow status|resume|cancel NAME`` on the journal a workflow
script keeps (see docs/workflows.md). Resources are opened by the configuration names
recorded in the journal."""

from __future__ import annotations

import click

from remotejobs.cli._common import EXIT_FAILED, EXIT_OK, Ctx, pass_ctx
from remotejobs.workflow.journal import Journal, JournalRow, workflow_names
from remotejobs.workflow.resume import cancel_recorded, resume

__all__ = ["COMMANDS"]

_FINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT")


def _row(row: JournalRow) -> dict[str, object]:
    return {"step": row.label, "kind": row.kind, "resource": row.resource, "job_id": row.job_id,
            "state": row.state, "reason": row.reason, "result": row.result}


def _table(rows: list[JournalRow]) -> None:
    width = max([len(r.label) for r in rows] + [4])
    click.echo(f"{'STEP':<{width}}  {'KIND':<6}  {'RESOURCE':<12}  {'JOB':<12}  {'STATE':<10}  REASON")
    for r in rows:
        click.echo(f"{r.label:<{width}}  {r.kind:<6}  {r.resource:<12}  {r.job_id or '-':<12}  {r.state:<10}  "
                   f"{r.reason or r.result or ''}")


@click.group()
def workflow() -> None:
    """Workflows recorded in journals (status, resume, cancel).

    \b
    Example:
      remotejobs workflow status park
    """


@workflow.command()
@click.argument("name", required=False)
@pass_ctx
def status(ctx: Ctx, name: str | None) -> None:
    """The steps of workflow NAME as last recorded (without NAME: the workflows).

    \b
    Example:
      remotejobs workflow status park --json
    """
    if name is None:
        names = workflow_names()
        ctx.emit({"workflows": names}, lambda: click.echo("\n".join(names)))
        return
    journal = Journal(name, create=False)
    rows = journal.rows()
    journal.close()
    ctx.emit({"workflow": name, "steps": [_row(r) for r in rows]}, lambda: _table(rows))


@workflow.command(name="resume")
@click.argument("name")
@click.option("--timeout", type=float, default=None, help="Stop waiting after this many seconds.")
@pass_ctx
def resume_command(ctx: Ctx, name: str, timeout: float | None) -> int:
    """Take up workflow NAME in this process: re-attach to its jobs, submit held steps
    when their conditions hold, wait; exit 1 unless every step completed.

    \b
    Example:
      remotejobs workflow resume park --timeout 3600
    """
    wf = resume(name)
    outcomes = wf.wait(timeout=timeout, progress=None if not ctx.as_json else False)
    rows = wf.journal.rows() if wf.journal is not None else []
    ctx.emit({"workflow": name, "steps": [_row(r) for r in rows]}, lambda: _table(rows))
    wf.close()
    return EXIT_OK if all(o.state.value == "COMPLETED" for o in outcomes.values()) else EXIT_FAILED


@workflow.command()
@click.argument("name")
@pass_ctx
def cancel(ctx: Ctx, name: str) -> None:
    """Cancel every unfinished step of workflow NAME (submitted jobs are cancelled on
    their resources; held steps will not be submitted).

    \b
    Example:
      remotejobs workflow cancel park
    """
    cancelled = cancel_recorded(name)
    ctx.emit({"workflow": name, "cancelled": cancelled},
             lambda: click.echo("\n".join(cancelled) or "nothing to cancel"))


COMMANDS: list[click.Command] = [workflow]
