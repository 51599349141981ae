"""``migproof rules [ID]``: every check migproof makes, or one check's documentation."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from migproof.checks import all_checks, resolve_check
from migproof.report.terminal import make_consoles

__all__ = ["command"]


@click.command("rules")
@click.argument("rule_id", required=False, metavar="[ID]")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
    help="markdown: the table the README embeds, or the page of ID.",
)
@click.option(
    "--write-docs",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Write one Markdown page per check into DIR (docs/rules).",
)
def command(rule_id: str | None, fmt: str, write_docs: Path | None) -> int:
    """List every check, or print the documentation of ID.

    Every check: lint, verify, guard and the SQL runner's.

    ID is a code (MP201), a name (index-without-concurrently) or a squawk rule name.
    """
    from migproof.lint.docs import check_page, rules_table, write_pages

    consoles = make_consoles()
    out = consoles.out
    checks = all_checks()
    if write_docs is not None:
        written = write_pages(checks, write_docs)
        consoles.err.print(f"wrote {len(written)} pages to {escape(str(write_docs))}")
        return 0
    if rule_id is not None:
        info = resolve_check(rule_id, where="migproof rules")
        out.print(check_page(info), markup=False, highlight=False, end="")
        return 0
    if fmt == "markdown":
        out.print(rules_table(checks), markup=False, highlight=False, end="")
        return 0
    width = max(len(i.name) for i in checks)
    for info in checks:
        default = "on " if info.enabled_by_default else "off"
        out.print(
            f"{info.code}  {info.severity.value:<7}  {default}  {info.name:<{width}}  "
            f"{info.summary}",
            markup=False,
            highlight=False,
        )
    return 0
