"""Renderers: one module per format, each ``render(report, out)``; ``FORMATS`` names them.

A format's module is imported when a report is written in it, not at start-up (the HTML and
JUnit writers alone cost 30 ms of imports that ``migproof --help`` has no use for).
"""

from __future__ import annotations

import importlib
from typing import TextIO

from migproof.findings import Report

__all__ = ["FORMATS", "render_machine"]

# The text format is drawn by rich (report/terminal.py); these write plain text to a stream.
# Format name -> module of this package.
FORMATS: dict[str, str] = {
    "json": "json_format",
    "junit": "junit",
    "sarif": "sarif",
    "github": "github",
    "html": "html_format",
}


def render_machine(report: Report, fmt: str, out: TextIO) -> None:
    """Write ``report`` to ``out`` in the machine format ``fmt`` (a key of FORMATS)."""
    module = importlib.import_module(f"{__name__}.{FORMATS[fmt]}")
    module.render(report, out)
