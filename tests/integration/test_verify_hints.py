"""MP010's hint for a chain that assumes a schema created outside the migrations.

Projects such as jupyterhub, mlflow and buildbot create a fresh database with
``metadata.create_all()`` and ``alembic stamp head``: their base revision does nothing, and
the next one alters a table no revision created. Walked from an empty database, that
revision fails with ``relation "users" does not exist``; the finding says why and what to
put in a ``--bootstrap-sql`` file. An undefined table any earlier revision did create (and
drop), or any other error, gets no such hint.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.helpers.alembic_projects import Revision, line_of, write_project

from migproof.config import load_config
from migproof.findings import Finding, Report
from migproof.sandbox import Sandbox
from migproof.verify import verify

ADD_AUTH_STATE = Revision(
    id="r2",
    down="r1",
    upgrade='op.add_column("users", sa.Column("auth_state", sa.Text))',
    downgrade='op.drop_column("users", "auth_state")',
)

SEEMS = (
    'no revision before r2 creates relation "users", and no table exists before r2: the chain '
    "seems to start from a schema created outside the migrations (as `metadata.create_all()` "
    "then `alembic stamp head` do)."
)


def run(pg: Sandbox, root: Path, **overrides: object) -> Report:
    return verify(load_config(root, overrides=overrides), root, host=pg)


def upgrade_failures(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.check == "MP010"]


def test_a_chain_whose_base_revision_does_nothing_gets_the_bootstrap_hint(
    pg: Sandbox, tmp_path: Path
) -> None:
    write_project(tmp_path, [Revision(id="r1", down=None, upgrade="pass"), ADD_AUTH_STATE])
    report = run(pg, tmp_path)
    r2 = tmp_path / "migrations" / "versions" / "r2.py"
    assert [
        (
            f.check,
            f.revision,
            f.location.path if f.location else None,
            f.location and f.location.line,
        )
        for f in report.findings
    ] == [("MP010", "r2", r2, line_of(r2, "op.add_column("))]
    (finding,) = report.findings
    assert finding.message == 'upgrade fails: relation "users" does not exist'
    assert finding.fix == (
        f"{SEEMS} Write that schema as it stood at r1 to a SQL file: the tables `create_all()` "
        "made when r1 was head (e.g. `pg_dump --schema-only --no-owner "
        "--exclude-table=public.alembic_version` of such a database), then `CREATE TABLE "
        "public.alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO public.alembic_version "
        "VALUES ('r1');`. Pass the file as `--bootstrap-sql FILE` (bootstrap-sql in "
        "[tool.migproof.verify] of pyproject.toml): the walk then starts from the database it "
        "builds, takes r1 and every revision before as applied, and round-trips r2 and the "
        "revisions after it"
    )


def test_the_bootstrap_hint_names_the_table_of_the_projects_own_config_file(
    pg: Sandbox, tmp_path: Path
) -> None:
    write_project(tmp_path, [Revision(id="r1", down=None, upgrade="pass"), ADD_AUTH_STATE])
    (tmp_path / "migproof.toml").write_text("[verify]\njobs = 1\n")
    (finding,) = run(pg, tmp_path).findings
    assert finding.fix is not None
    assert "(bootstrap-sql in [verify] of migproof.toml): the walk then starts" in finding.fix
    assert "tool.migproof" not in finding.fix


def test_a_failing_base_revision_names_the_empty_database_as_its_start(
    pg: Sandbox, tmp_path: Path
) -> None:
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade='op.create_index("ix_users_name", "users", ["name"])',
                downgrade='op.drop_index("ix_users_name")',
            )
        ],
    )
    (finding,) = upgrade_failures(run(pg, tmp_path))
    assert finding.revision == "r1"
    assert finding.fix is not None
    assert finding.fix.startswith(
        'no revision before r1 creates relation "users", and no table exists before r1: '
    )
    assert finding.fix.endswith(
        " Write those tables as they stood before r1 to a SQL file (e.g. `pg_dump --schema-only"
        " --no-owner` of a database `create_all()` made of them), with no version table, and"
        " pass it as `--bootstrap-sql FILE` (bootstrap-sql in [tool.migproof.verify] of"
        " pyproject.toml): the walk then starts from the database it builds, at base, and"
        " round-trips every revision, r1 included"
    )
    # as it says (mlflow): r1 is round-tripped too
    bootstrap = tmp_path / "initial.sql"
    bootstrap.write_text("CREATE TABLE users (id serial PRIMARY KEY, name text);\n")
    report = run(pg, tmp_path, **{"verify.bootstrap-sql": str(bootstrap)})
    assert report.findings == []
    assert [(r["revision"], r["roundtrip"]) for r in report.records] == [("r1", "ok")]


def test_a_bootstrap_file_that_stamps_nothing_is_the_base_the_chain_upgrades_from(
    pg: Sandbox, tmp_path: Path
) -> None:
    # mlflow: create_all() of its first tables, then `alembic upgrade head` from base, never
    # a stamp: every revision is walked from the database the file builds
    root = write_project(
        tmp_path / "project", [Revision(id="r1", down=None, upgrade="pass"), ADD_AUTH_STATE]
    )
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_text("CREATE TABLE users (id serial PRIMARY KEY, name text);\n")
    report = run(pg, root, **{"verify.bootstrap-sql": str(bootstrap)})
    assert report.findings == []
    assert [(r["revision"], r["upgrade"], r["roundtrip"]) for r in report.records] == [
        ("r1", "ok", "ok"),
        ("r2", "ok", "ok"),
    ]
    # the downgrade to base and the upgrade to head ran too
    assert [what for what, _ in report.skipped] == ["comparison with the models"]
    # and what the walk checks, it checks from there: a downgrade that leaves the column
    left = dataclasses.replace(ADD_AUTH_STATE, downgrade="pass")
    root = write_project(tmp_path / "left", [Revision(id="r1", down=None, upgrade="pass"), left])
    report = run(pg, root, **{"verify.bootstrap-sql": str(bootstrap)})
    assert [(f.check, f.revision) for f in report.findings] == [
        ("MP006", "r2"),
        ("MP012", "r2"),
        ("MP013", "r2"),
    ]


def test_with_a_bootstrap_file_that_stamps_nothing_and_fails_the_hint_says_to_stamp_it(
    pg: Sandbox, tmp_path: Path
) -> None:
    sessions = Revision(
        id="r3",
        down="r2",
        upgrade='op.create_table("sessions", sa.Column("id", sa.Integer, primary_key=True))',
        downgrade='op.drop_table("sessions")',
    )
    root = write_project(
        tmp_path / "project",
        [Revision(id="r1", down=None, upgrade="pass"), ADD_AUTH_STATE, sessions],
    )
    bootstrap = tmp_path / "prod.sql"  # a schema the chain cannot upgrade: the walk starts empty
    bootstrap.write_text(
        "CREATE TABLE users (id serial PRIMARY KEY, name text);\n"
        "CREATE TABLE sessions (id serial PRIMARY KEY);\n"
    )
    report = run(pg, root, **{"verify.bootstrap-sql": str(bootstrap)})
    assert [(f.check, f.revision) for f in report.findings] == [("MP010", "r2"), ("MP112", "r3")]
    finding = report.findings[0]
    assert finding.fix == (
        f"{SEEMS} prod.sql stamps no revision and the chain does not upgrade on the database it"
        " builds (MP112), so the walk started from an empty database, "
        "where r2 cannot run. Stamp prod.sql at the revision its schema matches: end it with "
        "`CREATE TABLE public.alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO "
        "public.alembic_version VALUES ('r1');`. Then the walk starts from the database prod.sql "
        "builds, takes r1 and every revision before as applied, and round-trips r2 and the "
        "revisions after it"
    )


def test_with_a_stamped_bootstrap_file_there_is_nothing_to_hint(
    pg: Sandbox, tmp_path: Path
) -> None:
    root = write_project(
        tmp_path / "project", [Revision(id="r1", down=None, upgrade="pass"), ADD_AUTH_STATE]
    )
    bootstrap = tmp_path / "prod.sql"  # what the hint says to write, as pg_dump writes it
    bootstrap.write_text(
        "SELECT pg_catalog.set_config('search_path', '', false);\n"
        "CREATE TABLE public.users (id serial PRIMARY KEY, name text);\n"
        "CREATE TABLE public.alembic_version (version_num varchar(32) PRIMARY KEY);\n"
        "INSERT INTO public.alembic_version VALUES ('r1');\n"
    )
    report = run(pg, root, **{"verify.bootstrap-sql": str(bootstrap)})
    assert report.findings == []
    assert [(r["revision"], r["roundtrip"]) for r in report.records] == [
        ("r1", "not run"),
        ("r2", "ok"),
    ]


def test_an_empty_downgrade_the_bootstrap_file_stands_in_for_is_not_confirmed(
    pg: Sandbox, tmp_path: Path
) -> None:
    # mlflow's first revision: taken as applied from the file, never run here
    first = Revision(
        id="r1",
        down=None,
        upgrade='op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))',
    )
    root = write_project(tmp_path / "project", [first, ADD_AUTH_STATE])
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_text(
        "CREATE TABLE users (id serial PRIMARY KEY, name text);\n"
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);\n"
        "INSERT INTO alembic_version VALUES ('r1');\n"
    )
    report = run(pg, root, **{"verify.bootstrap-sql": str(bootstrap)})
    assert [(f.check, f.revision, f.severity.value) for f in report.findings] == [
        ("MP006", "r1", "warning")
    ]
    assert report.findings[0].message.endswith("(not confirmed: it did not run)")


def test_a_failing_base_revision_is_walked_from_the_bootstrap_file_that_it_needs(
    pg: Sandbox, tmp_path: Path
) -> None:
    root = write_project(
        tmp_path / "project",
        [
            Revision(
                id="r1",
                down=None,
                upgrade='op.create_index("ix_users_name", "users", ["name"])',
                downgrade='op.drop_index("ix_users_name")',
            ),
            Revision(
                id="r2",
                down="r1",
                upgrade='op.create_table("t2", sa.Column("id", sa.Integer, primary_key=True))',
                downgrade='op.drop_table("t2")',
            ),
        ],
    )
    bootstrap = tmp_path / "prod.sql"  # t2 too: upgrading it fails at r2 (MP112)
    bootstrap.write_text(
        "CREATE TABLE users (id serial PRIMARY KEY, name text);\nCREATE TABLE t2 (id int);\n"
    )
    # r1 cannot run on an empty database: the walk goes from the file, as far as it upgrades
    report = run(pg, root, **{"verify.bootstrap-sql": str(bootstrap)})
    assert [(r["revision"], r["roundtrip"]) for r in report.records] == [
        ("r1", "ok"),
        ("r2", "not run"),
    ]
    (finding,) = upgrade_failures(report)
    assert finding.revision == "r2"
    assert finding.fix is not None
    assert finding.fix.endswith("else leave that object out of it (it is made by r2, after r1)")
    # as it says (rucio): the walk goes on after r1
    bootstrap.write_text(
        "CREATE TABLE users (id serial PRIMARY KEY, name text);\n"
        "CREATE INDEX ix_users_name ON users (name);\n"
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);\n"
        "INSERT INTO alembic_version VALUES ('r1');\n"
    )
    assert upgrade_failures(run(pg, root, **{"verify.bootstrap-sql": str(bootstrap)})) == []


def test_a_table_an_earlier_revision_dropped_gets_no_hint(pg: Sandbox, tmp_path: Path) -> None:
    write_project(
        tmp_path,
        [
            Revision(
                id="r0",
                down=None,
                upgrade='op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))',
                downgrade='op.drop_table("users")',
            ),
            Revision(
                id="r1",
                down="r0",
                upgrade='op.drop_table("users")',
                downgrade='op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))',
            ),
            ADD_AUTH_STATE,
        ],
    )
    report = run(pg, tmp_path)
    assert [(f.check, f.revision) for f in report.findings] == [("MP010", "r2")]
    (finding,) = report.findings
    assert finding.message == 'upgrade fails: relation "users" does not exist'
    assert finding.fix is None  # r0 created users: the schema is not from outside the chain


def test_an_undefined_table_next_to_tables_the_chain_created_gets_no_hint(
    pg: Sandbox, tmp_path: Path
) -> None:
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade='op.create_table("groups", sa.Column("id", sa.Integer, primary_key=True))',
                downgrade='op.drop_table("groups")',
            ),
            ADD_AUTH_STATE,
        ],
    )
    (finding,) = upgrade_failures(run(pg, tmp_path))
    assert (finding.revision, finding.message) == (
        "r2",
        'upgrade fails: relation "users" does not exist',
    )
    assert finding.fix is None  # the chain builds its own schema: more likely a wrong name


def test_another_error_after_an_empty_base_revision_gets_no_hint(
    pg: Sandbox, tmp_path: Path
) -> None:
    write_project(
        tmp_path,
        [
            Revision(id="r1", down=None, upgrade="pass"),
            Revision(
                id="r2",
                down="r1",
                upgrade='op.execute("CREATE TABLE users (id int, id int)")',
                downgrade='op.execute("DROP TABLE users")',
            ),
        ],
    )
    (finding,) = upgrade_failures(run(pg, tmp_path))
    assert (finding.revision, finding.message) == (
        "r2",
        'upgrade fails: column "id" specified more than once',
    )
    assert finding.fix is None


def test_the_hint_reads_postgresql_s_error_code_where_there_is_one() -> None:
    from migproof.chain.stepper import StepFailure
    from migproof.verify.hints import missing_object

    def failure(sqlstate: str | None) -> StepFailure:
        error = 'relation "users" does not exist'
        return StepFailure("r2", "upgrade", error, None, None, None, sqlstate=sqlstate)

    assert missing_object(failure("42P01")) == ("relation", "users")
    assert missing_object(failure(None)) == ("relation", "users")  # the message alone
    # the same words under another code (a RAISE in a function) are not a missing table
    assert missing_object(failure("P0001")) is None


def test_a_stamped_bootstrap_file_without_the_table_says_to_put_the_schema_in_it(
    pg: Sandbox, tmp_path: Path
) -> None:
    root = write_project(
        tmp_path / "project", [Revision(id="r1", down=None, upgrade="pass"), ADD_AUTH_STATE]
    )
    bootstrap = tmp_path / "prod.sql"  # stamped, but the schema create_all() made is missing
    bootstrap.write_text(
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);\n"
        "INSERT INTO alembic_version VALUES ('r1');\n"
    )
    (finding,) = upgrade_failures(run(pg, root, **{"verify.bootstrap-sql": str(bootstrap)}))
    assert finding.revision == "r2"
    assert finding.fix == (
        f"{SEEMS} prod.sql is stamped at r1 but creates no table: put the schema as it stood at "
        "r1 in it (e.g. `pg_dump --schema-only --no-owner` of a database `create_all()` made "
        "then)"
    )


def test_a_file_that_stamps_nothing_is_walked_as_far_as_it_goes_when_base_needs_it(
    pg: Sandbox, tmp_path: Path
) -> None:
    # mailman: its first revision drops a table of the schema before Alembic, so the chain
    # runs from that schema or not at all; the file's schema already has a later index
    legacy = Revision(
        id="r1",
        down=None,
        upgrade='op.drop_table("version")',
        downgrade='op.create_table("version", sa.Column("id", sa.Integer, primary_key=True,'
        " autoincrement=False))",
    )
    index = Revision(
        id="r3",
        down="r2",
        upgrade='op.create_index("ix_users_name", "users", ["name"])',
        downgrade='op.drop_index("ix_users_name", table_name="users")',
    )
    root = write_project(tmp_path / "project", [legacy, ADD_AUTH_STATE, index])
    bootstrap = tmp_path / "storm.sql"
    bootstrap.write_text(
        "CREATE TABLE version (id int PRIMARY KEY);\n"
        "CREATE TABLE users (id serial PRIMARY KEY, name text);\n"
        "CREATE INDEX ix_users_name ON users (name);\n"
    )
    report = run(pg, root, **{"verify.bootstrap-sql": str(bootstrap)})
    assert [(r["revision"], r["upgrade"], r["roundtrip"]) for r in report.records] == [
        ("r1", "ok", "ok"),
        ("r2", "ok", "ok"),
        ("r3", "failed", "not run"),
    ]
    (finding,) = report.findings  # MP010 alone: MP112 would say the same
    assert (finding.check, finding.revision) == ("MP010", "r3")
    assert finding.fix is not None
    assert finding.fix.startswith(
        "the walk started from storm.sql at base (it stamps no revision, and the first revision"
        " cannot run on an empty database), and storm.sql already holds what r3 makes"
    )
    # a file without what the first revision needs: it fails there, once
    bootstrap.write_text(bootstrap.read_text().replace("CREATE TABLE version", "CREATE TABLE v"))
    report = run(pg, root, **{"verify.bootstrap-sql": str(bootstrap)})
    assert [(f.check, f.revision) for f in report.findings] == [("MP010", "r1")]


def test_a_type_of_another_database_is_said_so_not_a_schema_made_outside(
    pg: Sandbox, tmp_path: Path
) -> None:
    """mlrun's chains were written for SQLite and MySQL: `sa.BLOB` renders `BLOB`, which
    PostgreSQL lacks; the hint said the chain started from a schema made outside it."""
    blob = Revision(
        id="r1",
        down=None,
        upgrade='op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("body", sa.BLOB))',
        downgrade='op.drop_table("t")',
    )
    write_project(tmp_path, [blob])
    (finding,) = upgrade_failures(run(pg, tmp_path))
    assert finding.message.endswith('type "blob" does not exist')
    assert finding.fix == (
        "blob is not a PostgreSQL type: the revision renders a type of another database"
        " (SQLite, MySQL), as a chain written for it does; use sa.LargeBinary, which SQLAlchemy"
        " renders for each database"
    )
    mysql = dataclasses.replace(
        blob,
        upgrade=blob.upgrade.replace("sa.BLOB", "mysql.MEDIUMBLOB"),
        header="from sqlalchemy.dialects import mysql",
    )
    write_project(tmp_path, [mysql])
    (finding,) = upgrade_failures(run(pg, tmp_path))
    assert finding.fix is not None and finding.fix.startswith("MEDIUMBLOB is not a PostgreSQL")
    # lint's MP010 says the same
    from migproof.chain.project import load_project
    from migproof.lint.recorded import lint_alembic_project

    config = load_config(tmp_path)
    (finding,) = upgrade_failures(lint_alembic_project(config, load_project(config, tmp_path), pg))
    assert finding.fix is not None and finding.fix.startswith("MEDIUMBLOB is not a PostgreSQL")
