"""Renderers: one module per format, each ``render(report, out)``; ``FORMATS`` maps names."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from migproof.findings import Report
from migproof.report import github, html_format, json_format, junit, sarif

__all__ = ["FORMATS", "render_machine"]

# The text format is drawn by rich (report/terminal.py); these write plain text to a stream.
FORMATS: dict[str, Callable[[Report, TextIO], None]] = {
    "json": json_format.render,
    "junit": junit.render,
    "sarif": sarif.render,
    "github": github.render,
    "html": html_format.render,
}


def render_machine(report: Report, fmt: str, out: TextIO) -> None:
    FORMATS[fmt](report, out)
