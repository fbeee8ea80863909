"""MkDocs hooks: parts of pages generated from the code, so they cannot drift from it.

Markers a page may contain (each alone on a line):

- ``<!-- settings: BACKEND -->``: a table of BACKEND's settings (``batch``: the settings
  every batch backend shares) (name, type, default,
  description), read from its pydantic settings model. The description is the ``#:``
  comment above the field in the source; a field without one fails the build, so every
  new setting is documented where it is defined.
- ``<!-- cli-reference -->``: every ``remotejobs`` command with its usage, help text and
  options, walked from the click command definitions.
- ``<!-- include: PATH -->``: the file PATH (relative to the repository root) verbatim,
  e.g. CHANGELOG.md.

``<!-- doctest: ... -->`` comments steer tests/docs/test_pages.py; they, and the blocks of a
``<!-- doctest: setup`` section (up to its ``-->`` line), are left out of the site.

Links from a page to repository files outside ``docs/`` (``[x](../examples/y.py)``) become
the path in code (the site only holds the documentation), so pages read well both on the
site and in a checkout.
"""

from __future__ import annotations

import inspect
import re
import tokenize
from io import StringIO
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[1]
_MARKER = re.compile(r"^<!-- (settings|cli-reference|include)(?::\s*(\S+))? -->$", re.MULTILINE)
_DOCTEST = re.compile(r"^<!-- doctest: setup\b[^\n]*\n.*?^-->[ \t]*\n|^<!-- doctest: [^\n]*-->[ \t]*\n",
                      re.MULTILINE | re.DOTALL)
_OUTSIDE = re.compile(r"(?<!!)\[([^\]]+)\]\((?:\.\./)+([^)#\s]+)\)")


class DocsBuildError(PluginError):
    """A generated part could not be made (the build fails with this message)."""


def on_page_markdown(markdown: str, **_: Any) -> str:
    def replace(match: re.Match[str]) -> str:
        kind, arg = match.group(1), match.group(2)
        if kind == "settings":
            return settings_table(arg or "")
        if kind == "cli-reference":
            return cli_reference()
        return (ROOT / (arg or "")).read_text(encoding="utf-8")

    markdown = _DOCTEST.sub("", _MARKER.sub(replace, markdown))
    return _OUTSIDE.sub(lambda m: f"{m.group(1)} (`{m.group(2)}` in the repository)", markdown)


# --------------------------------------------------------------------------- settings
def _field_comments(model: type) -> dict[str, str]:
    """``#:`` comments directly above annotated fields, over the model's MRO (subclass wins)."""
    found: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        try:
            source = inspect.getsource(cls)
        except (OSError, TypeError):
            continue
        pending: list[str] = []
        lines = source.splitlines()
        for token in tokenize.generate_tokens(StringIO(source).readline):
            if token.type == tokenize.COMMENT and token.string.startswith("#:"):
                pending.append(token.string[2:].strip())
            elif token.type == tokenize.NAME and pending and token.start[1] == 4:
                line = lines[token.start[0] - 1].strip()
                if re.match(rf"{token.string}\s*:", line):
                    found[token.string] = " ".join(pending)
                pending = []
            elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT):
                pending = []
    return found


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if not getattr(annotation, "__args__", None) else None
    text = text or str(annotation).replace("typing.", "")
    return re.sub(r"\b[\w.]+\.(\w+)", r"\1", text)


def settings_table(backend: str) -> str:
    from remotejobs._plugins import get_registry

    if backend == "batch":  # the settings every SSH batch backend shares
        from remotejobs.scheduler import BatchSettings

        model: type = BatchSettings
    else:
        model = get_registry().load(backend).settings_model
    comments = _field_comments(model)
    rows = ["| setting | type | default | description |", "|---|---|---|---|"]
    missing = []
    for name, field in model.model_fields.items():
        if name not in comments:
            missing.append(name)
            continue
        if field.is_required():
            default = "required"
        else:  # a default_factory (a dict, a set ...) is shown as the value it makes
            value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
            default = f"`{value!r}`"
        rows.append(f"| `{name}` | `{_type_name(field.annotation)}` | {default} | {comments[name]} |")
    if missing:
        raise DocsBuildError(f"settings of backend {backend!r} without a '#:' description in "
                             f"{model.__module__}.{model.__qualname__}: {', '.join(missing)}")
    return "\n".join(rows)


# --------------------------------------------------------------------------- CLI
def cli_reference() -> str:
    import click

    from remotejobs.cli.main import cli

    out: list[str] = []

    def walk(command: click.Command, path: list[str]) -> None:
        ctx = click.Context(command, info_name=" ".join(path))
        if path[1:]:
            out.append(f"### `{' '.join(path)}`\n")
            out.append("```text\n" + command.get_help(ctx).strip() + "\n```\n")
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, [*path, name])

    walk(cli, ["remotejobs"])
    return "\n".join(out)
