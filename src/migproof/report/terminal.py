"""Terminal output: one console for results (stdout), one for progress and errors (stderr)."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.markup import escape

from migproof.errors import MigproofError, mask_password
from migproof.findings import CAUGHT_NOTE, Finding, Report, Severity

if TYPE_CHECKING:
    from rich.progress import TaskID

__all__ = ["Consoles", "RichProgress", "make_consoles", "print_bug_notice", "print_error", "render"]

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


@dataclass(frozen=True, slots=True)
class Consoles:
    """Results go to ``out`` (stdout); progress and errors to ``err`` (stderr)."""

    out: Console
    err: Console


def make_consoles(out: TextIO | None = None, err: TextIO | None = None) -> Consoles:
    """Consoles for one run; colour only on a terminal and never with NO_COLOR."""
    no_color = bool(os.environ.get("NO_COLOR"))
    return Consoles(
        out=text_console(out or sys.stdout, no_color=no_color),
        err=text_console(err or sys.stderr, no_color=no_color),
    )


def text_console(file: TextIO, *, no_color: bool, width: int | None = None) -> Console:
    """A console for migproof's text: no highlighting of numbers and paths, and no emoji
    codes (rich would turn the location ``m.sql:100:`` into a hundred-points emoji)."""
    return Console(
        file=file,
        no_color=no_color,
        width=width,
        highlight=False,
        soft_wrap=width is None,
        emoji=False,
    )


def print_error(console: Console, exc: MigproofError) -> None:
    """``error: <what>`` then ``  fix: <fix>``, passwords masked."""
    console.print(f"[bold red]error:[/] {escape(mask_password(exc.what))}")
    if exc.fix:
        console.print(f"  [bold]fix:[/] {escape(mask_password(exc.fix))}")


def print_bug_notice(console: Console, exc: BaseException) -> None:
    console.print(
        f"[bold red]error:[/] a bug in migproof: {escape(type(exc).__name__)}: "
        f"{escape(mask_password(str(exc)))}\n"
        "  rerun as `migproof --debug <command> ...` (or with MIGPROOF_DEBUG=1) for the"
        " traceback, and report it"
    )


class RichProgress:
    """``Progress`` drawn by rich on stderr; silent when stderr is not a terminal."""

    def __init__(self, console: Console, *, enabled: bool = True) -> None:
        # imported here: the commands that draw no progress bar do not pay for it
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._enabled = enabled and console.is_terminal
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def start(self, description: str, total: int | None = None) -> None:
        if not self._enabled:
            return
        if self._task is None:
            self._progress.start()
        else:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(escape(description), total=total)

    def advance(self, description: str | None = None) -> None:
        if self._task is None:
            return
        if description:
            self._progress.update(self._task, advance=1, description=escape(description))
        else:
            self._progress.update(self._task, advance=1)

    def finish(self) -> None:
        if self._task is not None:
            self._progress.stop()
            self._task = None


def render(report: Report, out: Console) -> None:
    """Findings, one block each, what was not checked and why, then a one-line summary."""
    for finding in report.sorted_findings():
        _render_finding(finding, out)
    if report.skipped:
        out.print("not checked:")
        for what, why in _grouped(_caught_shortened(report.skipped)):
            out.print(f"    {escape(what)}: {escape(why)}")
    counts = {s: sum(1 for f in report.findings if f.severity is s) for s in Severity}
    if not report.findings:
        out.print(f"[green]{escape(report.command)}: no findings[/]")
        return
    parts = [f"{n} {s.value}{'s' if n != 1 else ''}" for s, n in counts.items() if n]
    out.print(f"{escape(report.command)}: {', '.join(parts)}")


# verify's note for an upgrade that caught its own failed statements (skypilot's guarded
# revisions: one per revision, 18 of them); past a few, the rest is one line
_CAUGHT_SHOWN = 3


def _caught_shortened(skipped: list[tuple[str, str]]) -> list[tuple[str, str]]:
    caught = [item for item in skipped if item[1].startswith(CAUGHT_NOTE)]
    if len(caught) <= _CAUGHT_SHOWN + 2:
        return skipped
    hidden = {id(item) for item in caught[_CAUGHT_SHOWN:]}
    kept = [item for item in skipped if id(item) not in hidden]
    at = kept.index(caught[_CAUGHT_SHOWN - 1]) + 1
    more = (
        f"statements of {len(hidden)} more upgrades",
        "failed, and the revisions caught the errors: what they would have done was not"
        " checked (the JSON report names each)",
    )
    return [*kept[:at], more, *kept[at:]]


_REVISION_ONLY = re.compile(r"revision [^\s:]+$")


def _grouped(skipped: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Consecutive revisions skipped for one reason as one line: ``revisions r2 … r40 (39)``."""
    lines: list[tuple[str, str]] = []
    run: list[str] = []
    reason = ""

    def flush() -> None:
        if len(run) > 2:
            lines.append((f"revisions {run[0]} … {run[-1]} ({len(run)})", reason))
        else:
            lines.extend((f"revision {rid}", reason) for rid in run)
        run.clear()

    for what, why in skipped:
        # only "revision <id>" itself: "revision X: what of it" is an entry of its own
        rid = what.removeprefix("revision ") if _REVISION_ONLY.match(what) else None
        if rid is not None and (not run or why == reason):
            run.append(rid)
            reason = why
            continue
        flush()
        if rid is not None:
            run.append(rid)
            reason = why
        else:
            lines.append((what, why))
    flush()
    return lines


def _render_finding(finding: Finding, out: Console) -> None:
    where = f"{finding.location}: " if finding.location else ""
    revision = f"[{finding.revision}] " if finding.revision else ""
    style = _SEVERITY_STYLE[finding.severity]
    # PostgreSQL's detail lines (the constraints that depend on a dropped table) under the
    # first, indented: a line at column 0 would read as a finding of its own
    first, *rest = finding.message.splitlines() or [""]
    out.print(f"{escape(where)}[{style}]{finding.check}[/] {escape(revision)}{escape(first)}")
    for line in rest:
        out.print(f"    {escape(line)}")
    if finding.statement:
        _print_block(out, "    statement: ", finding.statement.strip())
    for title, body in finding.context:
        out.print(f"    {escape(title)}:")
        for line in body.rstrip().splitlines():
            out.print(f"      {escape(line)}")
    if finding.fix:
        _print_block(out, "    [bold]fix:[/] ", finding.fix, width=len("    fix: "))


def _print_block(out: Console, head: str, text: str, *, width: int | None = None) -> None:
    """The first line after ``head``, the others indented under it."""
    lines = text.splitlines() or [""]
    out.print(head + escape(lines[0]))
    indent = " " * (width if width is not None else len(head))
    for line in lines[1:]:
        out.print(indent + escape(line))
