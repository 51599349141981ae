"""The fast parse path yields exactly the trees pglast's validating constructors build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pglast import ast, parser  # the test compares against pglast itself

from migproof.lint.pgsql import comments, identifiers, parse_statements, without_comments

CASES = Path(__file__).resolve().parents[3] / "src/migproof/lint/cases"
SQL = sorted(p for p in CASES.glob("*/*.sql") if p.parent.name != "MP901")


def _same(a: Any, b: Any, where: str = "", *, locations: bool = True) -> None:
    assert type(a) is type(b), where
    if isinstance(a, tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]", locations=locations)
    elif isinstance(a, ast.Node):
        for slot in getattr(type(a), "__slots__"):  # noqa: B009 - pglast's stubs omit it
            if slot in ("location", "stmt_location") and not locations:
                continue
            x, y = getattr(a, slot), getattr(b, slot)
            _same(x, y, f"{where}.{type(a).__name__}.{slot}", locations=locations)
    else:
        assert a == b, where


@pytest.mark.parametrize("path", SQL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_parse_equals_validated_parse(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast = [s.node for s in parse_statements(text)]
    validated = [raw.stmt for raw in parser.parse_sql(text)]
    _same(tuple(fast), tuple(validated))


def test_validation_is_restored_after_parsing() -> None:
    parse_statements("SELECT 1")
    with pytest.raises(ValueError, match="Bad value"):
        ast.RangeVar(relname=1)  # type: ignore[call-overload]


def test_comments_and_identifiers() -> None:
    sql = 'SELECT 1; -- one\n/* two */ CREATE TABLE "Quoted""Name" (x int);\n'
    assert comments(sql) == [("-- one", 1, 11), ("/* two */", 2, 1)]
    assert identifiers(sql) == ['Quoted"Name', "x"]


@pytest.mark.parametrize("path", SQL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parse_migration_defers_only_data_statements(path: Path) -> None:
    from migproof.lint.pgsql import Deferred, parse_migration

    text = path.read_text(encoding="utf-8")
    full, deferred = parse_statements(text), parse_migration(text)
    assert [(s.line, s.column, s.end_line, s.offset, s.text) for s in deferred] == [
        (s.line, s.column, s.end_line, s.offset, s.text) for s in full
    ]
    for eager, lazy in zip(full, deferred, strict=True):
        if isinstance(lazy.node, Deferred):
            assert type(eager.node).__name__ in {
                "InsertStmt",
                "UpdateStmt",
                "DeleteStmt",
                "SelectStmt",
            }
            _same(lazy.node.parse(), eager.node, locations=False)  # relative to the statement
        else:
            _same(lazy.node, eager.node)


def test_parse_migration_reports_syntax_errors_like_parse_statements() -> None:
    from migproof.lint.pgsql import SqlSyntaxError, parse_migration

    with pytest.raises(SqlSyntaxError) as exc:
        parse_migration("INSERT INTO t VALUES (1);\nSELEC 2;\n")
    assert (exc.value.line, exc.value.column) == (2, 1)


def test_parse_nodes_gives_the_statements_nodes_and_the_same_syntax_errors() -> None:
    from migproof.lint.pgsql import SqlSyntaxError, parse_nodes

    sql = "SELECT 1;\n-- note\nCREATE TABLE t (id int);\n"
    assert parse_nodes(sql) == [s.node for s in parse_statements(sql)]
    with pytest.raises(SqlSyntaxError) as caught:
        parse_nodes("SELECT 1;\nCREATE TABLE t (id int,);\n")
    assert (caught.value.line, caught.value.column) == (2, 24)
    assert caught.value.message == 'syntax error at or near ")"'


def test_a_statement_shown_on_one_line_loses_its_comments_not_its_strings() -> None:
    """synapse's CREATE TABLE with a -- comment after its opening bracket read as if the
    rest of the statement were commented out."""
    sql = (
        "CREATE TABLE x ( -- server name\n"
        "  destination TEXT NOT NULL, /* a /* nested */ one */ note text DEFAULT '-- kept'\n)"
    )
    assert " ".join(without_comments(sql).split()) == (
        "CREATE TABLE x ( destination TEXT NOT NULL, note text DEFAULT '-- kept' )"
    )
    assert without_comments("SELECT 1") == "SELECT 1"
