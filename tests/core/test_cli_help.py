"""Every command of the real ``remotejobs`` executable (including commands added later
by other modules) has ``--help`` with an example that parses, and takes ``--json``."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import warnings
from datetime import timedelta

import click
import pytest

from remotejobs.cli._common import parse_walltime
from remotejobs.cli.main import build

EXE = shutil.which("remotejobs", path=os.path.dirname(sys.executable)) or "remotejobs"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


COMMANDS = _commands(build())


def _examples(help_text: str) -> list[str]:
    lines = help_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "Example:")
    examples = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        examples.append(line.strip())
    return examples


def _parse(argv: list[str]) -> None:
    """Parse ``argv`` down to the last command, as the executable would, without running it."""
    group: click.Command = build()
    ctx = group.make_context("remotejobs", list(argv), resilient_parsing=False)
    while isinstance(group, click.Group):
        with warnings.catch_warnings():  # click 8.2+: protected_args is deprecated, still filled
            warnings.simplefilter("ignore", DeprecationWarning)
            args = [*ctx.protected_args, *ctx.args]
        if not args:
            return
        name, command, rest = group.resolve_command(ctx, args)
        assert command is not None, argv
        ctx = command.make_context(name or "", rest, parent=ctx)
        group = command


def test_the_command_list_is_complete() -> None:
    names = {path[0] for path, _ in COMMANDS}
    assert names >= {"login", "logout", "session", "ping", "resources", "backends", "submit", "status",
                     "wait", "cancel", "upload", "download", "completion", "jobtypes", "datasets", "agent"}


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_has_an_example_that_parses(path: tuple[str, ...]) -> None:
    done = subprocess.run([EXE, *path, "--help"], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--json" in done.stdout, f"{' '.join(path)} lacks --json"
    examples = _examples(done.stdout)
    assert examples, f"{' '.join(path)} --help shows no example"
    for example in examples:
        words = shlex.split(example)
        assert "remotejobs" in words, example
        words = words[words.index("remotejobs") + 1:]
        words = words[: next((i for i, w in enumerate(words) if w in ("|", ">", ";", "&&")), len(words))]
        assert words[: len(path)] == list(path) or set(path) <= set(words), example
        _parse(words)


@pytest.mark.parametrize(("text", "expected"), [
    ("90", timedelta(minutes=90)), ("90m", timedelta(minutes=90)), ("1:30:00", timedelta(minutes=90)),
    ("2h", timedelta(hours=2)), ("1-00:00:00", timedelta(days=1)), ("45s", timedelta(seconds=45)),
    ("1.5h", timedelta(minutes=90)), ("10:30", timedelta(minutes=10, seconds=30)),
    ("2-12", timedelta(days=2, hours=12)), ("1d", timedelta(days=1)),
])
def test_walltime_forms(text: str, expected: timedelta) -> None:
    assert parse_walltime(text) == expected


@pytest.mark.parametrize("text", ["", "0", "soon", "1:2:3:4", "-5", "2x"])
def test_bad_walltimes_say_what_is_valid(text: str) -> None:
    with pytest.raises(click.BadParameter, match="90m, 2h"):
        parse_walltime(text)
