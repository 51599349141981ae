"""The rule registry: ids, names, aliases, documentation sections."""

from __future__ import annotations

import re

import pytest

from migproof.checks import all_checks, find_check, resolve_check
from migproof.errors import ConfigError
from migproof.lint.cases import load_case
from migproof.lint.pgsql import ast, enums
from migproof.lint.registry import REQUIRED_SECTIONS, all_rules

LINT = [c for c in all_checks() if c.family.startswith("lint:")]


@pytest.mark.parametrize("info", LINT, ids=lambda i: i.code)
def test_rule_has_every_doc_section_and_a_case(info: object) -> None:
    from migproof.checks import CheckInfo

    assert isinstance(info, CheckInfo)
    headings = re.findall(r"^## (.+)$", info.docs, flags=re.MULTILINE)
    for section in REQUIRED_SECTIONS:
        assert section in headings, f"{info.code} lacks '## {section}'"
    assert headings[: len(REQUIRED_SECTIONS)] == list(REQUIRED_SECTIONS), "sections in order"
    assert load_case(info.code) is not None, f"{info.code} has no case"
    assert info.summary and not info.summary.endswith(".")


def test_rule_functions_are_named_after_the_hazard() -> None:
    for rule in all_rules():
        assert rule.check.__name__ == rule.info.name.replace("-", "_")
        assert re.fullmatch(r"MP[2-6]\d\d", rule.code)


def test_off_by_default_advisory_family() -> None:
    advisory = [r for r in all_rules() if r.code.startswith("MP6")]
    assert advisory
    assert all(not r.info.enabled_by_default for r in advisory)


@pytest.mark.parametrize(
    ("squawk", "code"),
    [
        ("require-concurrent-index-creation", "MP201"),
        ("require-concurrent-index-deletion", "MP202"),
        ("ban-concurrent-index-creation-in-transaction", "MP203"),
        ("adding-foreign-key-constraint", "MP204"),
        ("constraint-missing-not-valid", "MP205"),
        ("adding-not-nullable-field", "MP207"),
        ("disallowed-unique-constraint", "MP208"),
        ("require-timeout-settings", "MP210"),
        ("changing-column-type", "MP301"),
        ("adding-field-with-default", "MP302"),
        ("prefer-repack", "MP305"),
        ("renaming-column", "MP401"),
        ("renaming-table", "MP402"),
        ("ban-drop-column", "MP403"),
        ("ban-drop-table", "MP404"),
        ("ban-drop-database", "MP405"),
        ("ban-drop-not-null", "MP406"),
        ("ban-truncate-cascade", "MP407"),
        ("adding-required-field", "MP408"),
        ("transaction-nesting", "MP506"),
        ("ban-uncommitted-transaction", "MP507"),
        ("identifier-too-long", "MP508"),
        ("prefer-text-field", "MP602"),
        ("prefer-bigint-over-int", "MP604"),
        ("unused-ignore", "MP903"),
    ],
)
def test_squawk_names_resolve(squawk: str, code: str) -> None:
    info = find_check(squawk)
    assert info is not None and info.code == code


def test_unknown_rule_names_the_nearest() -> None:
    with pytest.raises(ConfigError) as exc:
        resolve_check("index-without-concurently", where="lint.disable")
    assert exc.value.fix == "did you mean 'index-without-concurrently'?"


@pytest.mark.parametrize(
    ("nodes", "kinds", "error"),
    [
        ((ast.IndexStmt,), (enums.ConstrType.CONSTR_CHECK,), "IndexStmt nodes have no kinds"),
        ((ast.Constraint,), (enums.AlterTableType.AT_AddColumn,), "are not"),
    ],
)
def test_rule_kinds_must_belong_to_the_node_class(
    nodes: tuple[type, ...], kinds: tuple[object, ...], error: str
) -> None:
    from migproof.lint.engine import _dispatch_keys
    from migproof.lint.registry import Rule

    info = find_check("MP201")
    assert info is not None
    rule = Rule(
        info=info,
        kind="statement",
        check=lambda n, c: iter(()),
        nodes=nodes,
        kinds=frozenset(kinds),
    )
    with pytest.raises(ValueError, match=error):
        _dispatch_keys(rule)


def test_rules_are_dispatched_by_kind() -> None:
    from migproof.config import Config
    from migproof.lint.engine import Linter

    linter = Linter(Config())
    fk = linter.statement_rules[(ast.Constraint, enums.ConstrType.CONSTR_FOREIGN)]
    default = linter.statement_rules.get((ast.Constraint, enums.ConstrType.CONSTR_DEFAULT), [])
    assert {code for _, code, _ in fk} >= {"MP204", "MP501"}
    assert not {code for _, code, _ in default} & {"MP204", "MP501"}
