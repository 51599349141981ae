"""The Progress protocol long-running library calls report through; the CLI renders it."""

from __future__ import annotations

from typing import Protocol

__all__ = ["NullProgress", "Progress"]


class Progress(Protocol):
    """Receives progress from library code; ``report/terminal.py`` draws it with rich."""

    def start(self, description: str, total: int | None = None) -> None:
        """Begin a phase of ``total`` steps (None: unknown)."""

    def advance(self, description: str | None = None) -> None:
        """One step of the current phase is done."""

    def finish(self) -> None:
        """The current phase is over."""


class NullProgress:
    """Progress that shows nothing: the default for library calls and machine formats."""

    def start(self, description: str, total: int | None = None) -> None:
        del description, total

    def advance(self, description: str | None = None) -> None:
        del description

    def finish(self) -> None:
        return None
