"""Finding migrations: layouts with down files, Alembic projects, order, bad paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from migproof.config import Config, LintConfig
from migproof.errors import ConfigError, SourceError
from migproof.lint import lint_paths
from migproof.lint.files import discover


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def found(report_root: Path, paths: list[Path], **lint: object) -> list[tuple[str, str]]:
    report = lint_paths(paths, Config(root=report_root, lint=LintConfig(**lint)))  # type: ignore[arg-type]
    return [
        (f.check, f"{f.location.path.relative_to(report_root)}:{f.location.line}")
        for f in report.sorted_findings()
        if f.location is not None
    ]


def test_golang_migrate_pairs_use_the_down_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "db/1_init.up.sql": "CREATE TYPE mood AS ENUM ('a');\n",
            "db/1_init.down.sql": "SELECT 1;\n",
            "db/2_more.up.sql": "CREATE TYPE level AS ENUM ('b');\n",
            "db/2_more.down.sql": "DROP TYPE level;\n",
        },
    )
    assert found(tmp_path, [tmp_path / "db"]) == [("MP503", "db/1_init.up.sql:1")]


def test_natural_order_decides_which_tables_exist(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "m/10_index.sql": "SET lock_timeout = '1s';\nCREATE INDEX t_v ON t (v);\n",
            "m/2_table.sql": "CREATE TABLE t (v int);\nCREATE INDEX t_v0 ON t (v);\n",
        },
    )
    assert found(tmp_path, [tmp_path / "m"]) == [("MP201", "m/10_index.sql:2")]


def test_dbmate_sections_and_transaction(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "20240101_a.sql": "-- migrate:up\nCREATE INDEX CONCURRENTLY i ON t (c);\n\n"
            "-- migrate:down\nDROP INDEX entity.i;\n",
            "20240102_b.sql": "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY j ON t (c);\n"
            "-- migrate:down\nDROP INDEX j;\n",
        },
    )
    assert found(tmp_path, [tmp_path], protected_schemas=("entity",)) == [
        ("MP203", "20240101_a.sql:2"),
        ("MP504", "20240101_a.sql:5"),
    ]


def test_goose_sections(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "00001_a.sql": "-- +goose Up\nCREATE TYPE mood AS ENUM ('a');\n-- +goose Down\nSELECT 1;\n",
            "00002_b.sql": "-- +goose NO TRANSACTION\n-- +goose Up\n"
            "CREATE INDEX CONCURRENTLY i ON t (c);\n-- +goose Down\nDROP INDEX CONCURRENTLY i;\n",
        },
    )
    assert found(tmp_path, [tmp_path]) == [("MP503", "00001_a.sql:2")]


def test_no_transaction_directive_runs_dbmate_goose_and_golang_files_outside_a_transaction(
    tmp_path: Path,
) -> None:
    concurrent = "CREATE INDEX CONCURRENTLY i ON t (c);\nCREATE INDEX CONCURRENTLY j ON t (d);\n"
    files = {
        "dbmate/20240101_a.sql": f"-- migrate:up\n{concurrent}-- migrate:down\nSELECT 1;\n",
        "goose/00001_a.sql": f"-- +goose Up\n{concurrent}-- +goose Down\nSELECT 1;\n",
        "golang/1_a.up.sql": concurrent,
    }
    write(tmp_path, files)
    assert found(tmp_path, [tmp_path]) == [
        ("MP203", "dbmate/20240101_a.sql:2"),
        ("MP203", "dbmate/20240101_a.sql:3"),
        ("MP203", "golang/1_a.up.sql:1"),
        ("MP203", "golang/1_a.up.sql:2"),
        ("MP203", "goose/00001_a.sql:2"),
        ("MP203", "goose/00001_a.sql:3"),
    ]
    directive = "-- migproof: no-transaction\n"
    write(tmp_path, {name: directive + text for name, text in files.items()})
    assert found(tmp_path, [tmp_path]) == []


def test_syntax_error_in_a_down_section_points_into_the_file(tmp_path: Path) -> None:
    write(tmp_path, {"1_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\nDROP TABL x;\n"})
    assert found(tmp_path, [tmp_path]) == [("MP901", "1_a.sql:4")]


ALEMBIC_INI = "[alembic]\nscript_location = %(here)s/migrations\n"
REVISION = '''"""r"""
import psycopg2 as pg
from sqlalchemy import create_engine

revision = "{rev}"
down_revision = None


def upgrade():
    conn = pg.connect("postgresql://localhost/app")
    engine = create_engine("postgresql://localhost/app")  # migproof: ignore MP510 -- read-only
    engine.connect()


def downgrade():
    pass
'''


def test_alembic_project_revision_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "alembic.ini": ALEMBIC_INI,
            "migrations/versions/a1_x.py": REVISION.format(rev="a1"),
            "migrations/versions/b2_y.py": REVISION.format(rev="b" * 40),
            "migrations/versions/c3_broken.py": "def upgrade(:\n",
            "migrations/versions/__init__.py": "",
        },
    )
    assert found(tmp_path, [tmp_path]) == [
        ("MP510", "migrations/versions/a1_x.py:10"),
        ("MP509", "migrations/versions/b2_y.py:5"),
        ("MP510", "migrations/versions/b2_y.py:10"),
        ("MP901", "migrations/versions/c3_broken.py:1"),
    ]


def test_malformed_alembic_ini_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, {"alembic.ini": "[alembic\nscript_location = x\n"})
    with pytest.raises(ConfigError):
        discover([tmp_path], Config(root=tmp_path))


def test_missing_path_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as exc:
        discover([tmp_path / "nope.sql"], Config(root=tmp_path))
    assert "does not exist" in exc.value.what


def test_other_files_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, {"notes.txt": "x"})
    with pytest.raises(SourceError):
        discover([tmp_path / "notes.txt"], Config(root=tmp_path))


def test_exclude_and_hidden_directories(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "legacy/old.sql": "DROP TABLE x;\n",
            ".venv/lib/x.sql": "DROP TABLE y;\n",
            "new/a.sql": "SELECT 1;\n",
        },
    )
    assert found(tmp_path, [tmp_path], exclude=("legacy/*",)) == []
    report = lint_paths([tmp_path], Config(root=tmp_path, lint=LintConfig(exclude=("legacy/*",))))
    assert [r["file"] for r in report.records] == [str(tmp_path / "new/a.sql")]


def test_python_suppressions_in_a_revision_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "r.py": 'import psycopg\nrevision = "r1"\n\n\ndef upgrade():\n'
            "    # migproof: ignore revision-opens-connection -- reads a lookup once\n"
            '    psycopg.connect("")\n'
            "    # migproof: ignore MP5100 -- typo\n"
            '    psycopg.connect("")\n'
            "    x = 1  # migproof: ignore MP509\n",
        },
    )
    assert found(tmp_path, [tmp_path / "r.py"]) == [
        ("MP902", "r.py:8"),
        ("MP510", "r.py:9"),
        ("MP903", "r.py:10"),
    ]


def test_a_file_level_suppression_after_the_last_line_of_code_counts(tmp_path: Path) -> None:
    body = 'import psycopg\nrevision = "r1"\n\n\ndef upgrade():\n    psycopg.connect("")\n'
    write(tmp_path, {"r.py": body + "\n# migproof: ignore-file MP510 -- reads a lookup once\n"})
    assert found(tmp_path, [tmp_path / "r.py"]) == []
    # a statement suppression there covers no statement: it is unused
    write(tmp_path, {"r.py": body + "\n# migproof: ignore MP510\n"})
    assert found(tmp_path, [tmp_path / "r.py"]) == [("MP510", "r.py:6"), ("MP903", "r.py:8")]


def test_golang_migrate_runs_a_multi_statement_file_as_one_transaction(tmp_path: Path) -> None:
    concurrently = "CREATE INDEX CONCURRENTLY i ON t (c);\n"
    write(
        tmp_path,
        {
            "1_alone.up.sql": concurrently,
            "2_mixed.up.sql": "SET lock_timeout = '1s';\n" + concurrently,
            "3_explicit.up.sql": "BEGIN;\nSELECT 1;\nCOMMIT;\n" + concurrently,
        },
    )
    assert found(tmp_path, [tmp_path]) == [("MP203", "2_mixed.up.sql:2")]


def test_a_file_reached_twice_is_linted_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "db/1_a.sql": "CREATE INDEX i ON t (x);\n",
            "db/node_modules/2_b.sql": "SELECT 1;\n",
        },
    )
    (tmp_path / "db" / "3_link.sql").symlink_to(tmp_path / "db" / "1_a.sql")
    sources = discover(
        [tmp_path / "db", tmp_path / "db" / "1_a.sql", tmp_path / "db"], Config(root=tmp_path)
    ).sources
    assert [s.path.name for s in sources if s.path] == ["1_a.sql"]


@pytest.mark.parametrize("ini", [None, "[alembic]\nscript_location = {alembic_dir}\n"])
def test_revision_files_are_found_without_a_usable_alembic_ini(
    tmp_path: Path, ini: str | None
) -> None:
    revision = 'revision = "{0}"\ndown_revision = None\n\n\ndef upgrade():\n    pass\n'
    write(
        tmp_path,
        {
            "migrations/versions/r1.py": revision.format("r1"),
            "migrations/versions/__init__.py": "",
            "migrations/env.py": "from alembic import context\n",
            "tools/helper.py": "print('not a revision')\n",
        },
    )
    if ini is not None:
        write(tmp_path, {"alembic.ini": ini})
    found = discover([tmp_path], Config(root=tmp_path)).revisions
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["migrations/versions/r1.py"]
    direct = discover([tmp_path / "migrations" / "versions"], Config(root=tmp_path)).revisions
    assert [p.name for p in direct] == ["r1.py"]


def test_files_are_read_with_universal_newlines_and_must_be_utf8(tmp_path: Path) -> None:
    (tmp_path / "1_crlf.sql").write_bytes(b"SELECT 1;\r\nCREATE INDEX i ON t (c);\r\n")
    (tmp_path / "2_cr.sql").write_bytes(b"SELECT 1;\rSELECT 2;\rDROP TABLE t;\r")
    sources = discover([tmp_path], Config(root=tmp_path)).sources
    assert [s.sql for s in sources] == [
        "SELECT 1;\nCREATE INDEX i ON t (c);\n",
        "SELECT 1;\nSELECT 2;\nDROP TABLE t;\n",
    ]
    assert found(tmp_path, [tmp_path]) == [
        ("MP201", "1_crlf.sql:2"),
        ("MP210", "1_crlf.sql:2"),
        ("MP404", "2_cr.sql:3"),
        ("MP210", "2_cr.sql:3"),
    ]
    (tmp_path / "3_latin1.sql").write_bytes(b"SELECT '\xe9';\n")
    with pytest.raises(SourceError, match=r"3_latin1\.sql is not UTF-8 text: invalid continuation"):
        discover([tmp_path], Config(root=tmp_path))


def test_links_to_directories_are_not_followed_and_broken_links_are_not_files(
    tmp_path: Path,
) -> None:
    write(tmp_path, {"real/1_a.sql": "SELECT 1;\n", "lib/node_modules/x.sql": "SELECT 1;\n"})
    (tmp_path / "linked").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "2_gone.sql").symlink_to(tmp_path / "missing.sql")
    (tmp_path / "3_b.sql").symlink_to(tmp_path / "real" / "1_a.sql")
    sources = discover([tmp_path], Config(root=tmp_path)).sources
    # real/1_a.sql is reached first through 3_b.sql: linted once, under that name
    assert [s.path.relative_to(tmp_path).as_posix() for s in sources if s.path] == ["3_b.sql"]


@pytest.mark.parametrize(
    "separator",
    ["path_separator = ;", "version_path_separator = ;", ""],
    ids=["path_separator", "version_path_separator", "legacy-spaces"],
)
def test_version_locations_are_split_as_alembic_splits_them(tmp_path: Path, separator: str) -> None:
    from migproof.lint.revisions import revision_directories

    joined = "db/a db/b" if not separator else "db/a;db/b"
    write(
        tmp_path,
        {
            "alembic.ini": f"[alembic]\nscript_location = migrations\n{separator}\n"
            f"version_locations = {joined}\n",
            "db/a/r1.py": "",
            "db/b/r2.py": "",
        },
    )
    found = revision_directories(tmp_path / "alembic.ini")
    assert found == [(tmp_path / "db" / "a").resolve(), (tmp_path / "db" / "b").resolve()]


@pytest.mark.parametrize(
    ("body", "reported"),
    [
        (
            'engine = create_engine(URL)\n    if engine.dialect.name == "postgresql":\n        pass',
            False,
        ),
        ("dialect = create_engine(URL).dialect", False),
        ("engine = create_engine(URL)\n    with engine.connect() as conn:\n        pass", True),
        ("create_engine(URL).connect()", True),
        ("Session(create_engine(URL))", True),
    ],
    ids=["dialect-of-a-name", "dialect-on-the-spot", "connect", "connect-on-the-spot", "passed-on"],
)
def test_an_engine_asked_only_for_its_dialect_connects_nowhere(
    tmp_path: Path, body: str, reported: bool
) -> None:
    source = (
        'from sqlalchemy import create_engine\nfrom sqlalchemy.orm import Session\n\nURL = "sqlite://"\n'
        'revision = "a1"\ndown_revision = None\n\n\ndef upgrade():\n    ' + body + "\n"
    )
    write(tmp_path, {"r.py": source})
    assert [code for code, _ in found(tmp_path, [tmp_path / "r.py"])] == (
        ["MP510"] if reported else []
    )


def test_the_drop_type_fix_quotes_a_name_sql_must_quote(tmp_path: Path) -> None:
    """rucio's types are upper case: an unquoted DROP TYPE in the fix would name another."""
    from migproof.config import Config
    from migproof.lint import lint_paths

    write(
        tmp_path,
        {
            "db/1_init.up.sql": "CREATE TYPE \"STATE_CHK\" AS ENUM ('a');\nCREATE TYPE mood AS ENUM ('b');\n",
            "db/1_init.down.sql": "SELECT 1;\n",
        },
    )
    report = lint_paths([tmp_path / "db"], Config(root=tmp_path))
    fixes = sorted(f.fix or "" for f in report.findings if f.check == "MP503")
    assert fixes == [
        'add DROP TYPE public."STATE_CHK"; to the downgrade',
        "add DROP TYPE public.mood; to the downgrade",
    ]


def test_sql_kept_per_database_is_said_not_read(tmp_path: Path) -> None:
    """synapse keeps deltas as x.sql, x.sql.postgres and x.sql.sqlite: the last two were
    passed over without a word."""
    write(
        tmp_path,
        {
            "delta/1_a.sql": "SELECT 1;\n",
            "delta/2_b.sql.postgres": "SELECT 2;\n",
            "delta/3_c.sql.sqlite": "SELECT 3;\n",
            "delta/dump.sql.gz": "",  # not SQL for a database: nothing to say
            "delta/mysql": "",  # no .sql. in its name at all
        },
    )
    report = lint_paths([tmp_path / "delta"], Config(root=tmp_path))
    assert [r["file"] for r in report.records] == [str(tmp_path / "delta/1_a.sql")]
    assert report.skipped == [
        (
            "2 files named *.sql.* (2_b.sql.postgres, …)",
            "not read: lint reads files ending .sql; give the PostgreSQL ones that ending",
        )
    ]
    write(tmp_path, {"only/x.sql": "SELECT 1;\n"})
    assert lint_paths([tmp_path / "only"], Config(root=tmp_path)).skipped == []
