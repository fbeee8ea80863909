"""Golden command outputs for dialect tests.

A golden file ``<name>.txt`` holds ``# key: value`` header lines (``origin`` — where the
output comes from: captured from which system, or hand-written from which reference —
``command``, ``exit_status``, optional ``note``), then ``--- stdout``, the stdout text,
``--- stderr``, the stderr text.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from remotejobs.transport.base import CommandResult

__all__ = ["load_golden"]


def load_golden(directory: Path, name: str) -> CommandResult:
    """The :class:`CommandResult` recorded in ``directory/<name>.txt``.

    :raises ValueError: the file does not say where it comes from, or lacks a header.
    """
    text = (directory / f"{name}.txt").read_text(encoding="utf-8")
    head, _, rest = text.partition("--- stdout\n")
    stdout, _, stderr = rest.partition("--- stderr\n")
    meta = dict(line[2:].split(": ", 1) for line in head.splitlines() if line.startswith("# ") and ": " in line)
    missing = {"origin", "command", "exit_status"} - set(meta)
    if missing:
        raise ValueError(f"golden file {name}.txt lacks header(s): {', '.join(sorted(missing))}")
    return CommandResult(argv=tuple(shlex.split(meta["command"])), exit_status=int(meta["exit_status"]),
                         stdout=stdout, stderr=stderr)
