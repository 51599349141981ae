"""``--bootstrap-sql`` given a file that cannot be a bootstrapped database: a usage error.

An empty file (or one of comments and whitespace only) would load nothing and quietly
re-check the walk from an empty database; a missing, unreadable or non-UTF-8 file would fail
somewhere later. Each is exit 2 with ``error: …`` naming the file and ``fix: …``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.helpers.alembic_projects import Revision, write_project

from migproof.cli import main
from migproof.errors import SourceError
from migproof.sandbox import Sandbox
from migproof.verify.parity import read_bootstrap

USERS = Revision(
    id="r1",
    down=None,
    upgrade='op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))',
    downgrade='op.drop_table("users")',
)


def verify(pg: Sandbox, root: Path, bootstrap: Path) -> int:
    return main(["verify", str(root), "--bootstrap-sql", str(bootstrap), "--database-url", pg.url])


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty"),
        (b"  \n\t\n", "is empty"),
        (
            b"-- pg_dump of prod, to fill in\n/* nothing yet */\n\n",
            "holds only comments, no SQL statement",
        ),
        (b"/* outer /* nested */ still a comment */\n;\n", "holds only comments, no SQL statement"),
    ],
    ids=["empty", "whitespace", "comments", "nested-comment"],
)
def test_a_bootstrap_file_without_statements_is_a_usage_error(
    pg: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, problem: str
) -> None:
    root = write_project(tmp_path / "project", [USERS])
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_bytes(content)
    assert verify(pg, root, bootstrap) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: bootstrap file {bootstrap} {problem}",
        "  fix: put the schema of the database that was set up out of band in it (e.g. "
        "`pg_dump --schema-only --no-owner` of it), or leave out --bootstrap-sql",
    ]


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "nope.sql"


def _directory(tmp_path: Path) -> Path:
    return tmp_path


def _latin1(tmp_path: Path) -> Path:
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_bytes("CREATE TABLE café (id int);\n".encode("latin-1"))
    return bootstrap


@pytest.mark.parametrize(
    ("make", "error", "fix"),
    [
        (
            _missing,
            "no such bootstrap file: {path}",
            "check --bootstrap-sql, or bootstrap-sql in [tool.migproof.verify] of pyproject.toml",
        ),
        (
            _directory,
            "bootstrap file {path} is a directory",
            "name the SQL file in --bootstrap-sql, or bootstrap-sql in [tool.migproof.verify] of "
            "pyproject.toml",
        ),
        (
            _latin1,
            "cannot read bootstrap file {path}: it is not UTF-8 (byte 0xe9 at offset 16)",
            "save it as UTF-8 (e.g. `iconv -f LATIN1 -t UTF-8`)",
        ),
    ],
    ids=["missing", "directory", "not-utf8"],
)
def test_a_bootstrap_file_that_cannot_be_read_is_a_usage_error(
    pg: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Path],
    error: str,
    fix: str,
) -> None:
    root = write_project(tmp_path / "project", [USERS])
    bootstrap = make(tmp_path)
    assert verify(pg, root, bootstrap) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {error.format(path=bootstrap)}",
        f"  fix: {fix}",
    ]


def test_an_unreadable_bootstrap_file_is_a_source_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # chmod 000 does not stop root, who runs this suite too: the read fails as it would
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_text("CREATE TABLE users (id int);\n")

    def refuse(self: Path, *args: object, **kwargs: object) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(SourceError) as caught:
        read_bootstrap(bootstrap)
    assert (caught.value.what, caught.value.fix, caught.value.exit_code) == (
        f"cannot read bootstrap file {bootstrap}: [Errno 13] Permission denied: '{bootstrap}'",
        "check the file's permissions",
        2,
    )


def test_a_bootstrap_file_with_a_statement_passes(
    pg: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_project(tmp_path / "project", [USERS])
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_text("-- set up by hand\nCREATE TABLE legacy (id int);\n")
    assert verify(pg, root, bootstrap) == 0
    assert "error:" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "text",
    [
        "CREATE TABLE users (id int);",
        "/* a /* nested */ comment */ CREATE TABLE users (id int);",
        "-- a dump\nINSERT INTO notes VALUES ('-- not a comment');\n",
        "\\restrict abc\nCREATE TABLE users (id int);\n",  # pg_dump 17.6+
    ],
    ids=["statement", "after-nested-comment", "dashes-in-a-string", "psql-meta-command"],
)
def test_a_bootstrap_file_with_statements_is_read(tmp_path: Path, text: str) -> None:
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_text(text)
    # pg_dump's psql meta-command lines are blanked: the lines after them keep their numbers
    assert read_bootstrap(bootstrap) == text.replace("\\restrict abc\n", "\n")


def test_a_bad_bootstrap_file_fails_before_the_walk(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usage error comes first: a long chain is not walked only to be thrown away."""
    from migproof.config import load_config
    from migproof.verify import roundtrip
    from migproof.verify import verify as run_verify

    def walked(*args: object, **kwargs: object) -> None:
        raise AssertionError("the chain was walked before the bootstrap file was read")

    monkeypatch.setattr(roundtrip, "walk_chain", walked)
    root = write_project(tmp_path / "project", [USERS])
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_text("-- nothing yet\n")
    config = load_config(root, overrides={"verify.bootstrap_sql": str(bootstrap)})
    with pytest.raises(SourceError, match="holds only comments"):
        run_verify(config, root, host=pg)
