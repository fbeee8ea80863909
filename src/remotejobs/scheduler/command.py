""":class:`Command`: an argv list plus optional standard input, as dialects build them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Command"]


@dataclass(frozen=True)
class Command:
    """An argv list plus optional text fed to its standard input."""

    argv: tuple[str, ...]
    stdin: str | None = None

    @classmethod
    def of(cls, *argv: str, stdin: str | None = None) -> Command:
        return cls(tuple(argv), stdin)
