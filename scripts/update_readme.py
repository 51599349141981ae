"""Regenerate the README's generated sections from the registries: rules and options.

    python scripts/update_readme.py          # rewrite README.md in place
    python scripts/update_readme.py --check  # exit 1 when README.md is stale

tests/unit/test_readme.py runs the check, so a rule or option added without regenerating
the README fails the suite.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from migproof.checks import all_checks
from migproof.config import option_docs

README = Path(__file__).resolve().parent.parent / "README.md"


def rules_markdown() -> str:
    lines = ["| code | name | severity | default | what it finds |", "|---|---|---|---|---|"]
    for info in all_checks():
        default = "on" if info.enabled_by_default else "off"
        summary = info.summary.replace("|", "\\|")
        lines.append(
            f"| {info.code} | `{info.name}` | {info.severity.value} | {default} | {summary} |"
        )
    return "\n".join(lines)


def options_markdown() -> str:
    lines = ["| key | type | default | environment | what it does |", "|---|---|---|---|---|"]
    for option in option_docs():
        env = f"`{option.env}`" if option.env else ""
        default = option.default.replace("|", "\\|")
        lines.append(f"| `{option.key}` | {option.type} | `{default}` | {env} | {option.doc} |")
    return "\n".join(lines)


SECTIONS = {"rules": rules_markdown, "options": options_markdown}


def regenerate(text: str) -> str:
    for name, make in SECTIONS.items():
        pattern = re.compile(
            rf"(<!-- begin generated: {name} -->\n)(?:.*?\n)?(<!-- end generated: {name} -->)", re.S
        )
        if not pattern.search(text):
            raise SystemExit(f"README.md has no generated section {name!r}")
        body = make() + "\n"
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    current = README.read_text(encoding="utf-8")
    fresh = regenerate(current)
    if "--check" in argv:
        if fresh != current:
            print("README.md is stale: run `python scripts/update_readme.py`")
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
