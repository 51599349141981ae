"""``--bootstrap-sql`` with a stamped file: the walk starts from the database the file builds.

jupyterhub, mlflow and buildbot build a fresh database with ``metadata.create_all()`` and
``alembic stamp head``; their base revision does nothing and the next one alters a table only
``create_all()`` made. From an empty database that chain fails at its second revision (MP010);
from a bootstrap file that holds the schema and stamps the base revision, every later revision
gets its round trip, and the whole chain goes down to the stamp and up to head again.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.helpers.alembic_projects import Revision, line_of, write_project

from migproof.cli import main
from migproof.config import load_config
from migproof.findings import Report
from migproof.sandbox import Sandbox
from migproof.sources import apply_sql_file
from migproof.verify import verify

BASE = Revision(id="r1", down=None, upgrade="pass", message="empty: create_all made the schema")
AUTH_STATE = Revision(
    id="r2",
    down="r1",
    upgrade='op.add_column("users", sa.Column("auth_state", sa.Text))',
    downgrade='op.drop_column("users", "auth_state")',
    message="add users.auth_state",
)
NAME_INDEX = Revision(
    id="r3",
    down="r2",
    upgrade='op.create_index("ix_users_name", "users", ["name"])',
    downgrade='op.drop_index("ix_users_name", table_name="users")',
    message="index users.name",
)
LAST_SEEN = Revision(
    id="r4",
    down="r3",
    upgrade='op.add_column("users", sa.Column("last_seen", sa.DateTime))',
    downgrade='op.drop_column("users", "last_seen")',
    message="add users.last_seen",
)
USERS = "CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);\n"


def stamp(revision: str, table: str = "alembic_version") -> str:
    return (
        f"CREATE TABLE {table} (version_num varchar(32) PRIMARY KEY);\n"
        f"INSERT INTO {table} VALUES ('{revision}');\n"
    )


def project(
    tmp_path: Path, revisions: list[Revision], bootstrap: str, *, configure: str = ""
) -> Path:
    root = write_project(tmp_path / "project", revisions, configure=configure)
    (root / "prod.sql").write_text(bootstrap)
    return root


def run(pg: Sandbox, root: Path, **overrides: object) -> Report:
    overrides = {"verify.bootstrap-sql": "prod.sql", **overrides}
    return verify(load_config(root, overrides=overrides), root, host=pg)


def statuses(report: Report) -> list[tuple[object, object, object]]:
    return [(r["revision"], r["upgrade"], r["roundtrip"]) for r in report.records]


def directions(report: Report, revision: str) -> list[object]:
    """The directions of the statements recorded for ``revision``'s upgrade and round trip."""
    (record,) = (r for r in report.records if r["revision"] == revision)
    statements = record["statements"]
    assert isinstance(statements, list)
    return [s["direction"] for s in statements]


STAMPED_NOTE = (
    "revision r1",
    "prod.sql is stamped at r1: taken as applied, not upgraded or round-tripped",
)
# what verify says of a project whose env.py passes no target_metadata (the projects here)
NO_MODELS = (
    "comparison with the models",
    "env.py passes no target_metadata: name the models with --models module:attr or "
    "[tool.migproof.verify] models",
)


def test_a_create_all_chain_is_round_tripped_from_its_stamped_bootstrap_file(
    pg: Sandbox, tmp_path: Path
) -> None:
    root = project(tmp_path, [BASE, AUTH_STATE, NAME_INDEX], USERS + stamp("r1"))
    report = run(pg, root)
    assert report.findings == []
    assert statuses(report) == [
        ("r1", "bootstrap", "not run"),
        ("r2", "ok", "ok"),
        ("r3", "ok", "ok"),
    ]
    # r2 and r3 ran: upgrade, downgrade, upgrade again; r1 ran nothing
    assert directions(report, "r1") == []
    assert directions(report, "r2") == ["upgrade", "downgrade"]
    assert directions(report, "r3") == ["upgrade", "downgrade"]
    assert report.skipped == [STAMPED_NOTE, NO_MODELS]


def test_a_pg_dump_file_with_its_restrict_lines_is_loaded(
    pg: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pg_dump 17.6+ (and 16.10+, 15.14+ …) wraps its output in psql's \\restrict lines."""
    dump = f"\\restrict Kx9\n{USERS}{stamp('r1')}\\unrestrict Kx9\n"
    root = project(tmp_path, [BASE, AUTH_STATE], dump)
    report = run(pg, root)
    assert report.findings == []
    assert statuses(report) == [("r1", "bootstrap", "not run"), ("r2", "ok", "ok")]
    (root / "prod.sql").write_text(USERS + "\\connect other\n" + stamp("r1"))
    url, bootstrap = pg.url_for("postgres"), str(root / "prod.sql")
    assert main(["verify", "--database-url", url, "--bootstrap-sql", bootstrap, str(root)]) == 2
    assert "psql meta-command \\connect is not SQL" in capsys.readouterr().err


def test_a_whole_pg_dump_with_its_copy_blocks_is_loaded(pg: Sandbox, tmp_path: Path) -> None:
    """pg_dump writes data as COPY … FROM stdin blocks, which no SQL parser reads (privacyidea's
    version table dumped with pg_dump): each row becomes one INSERT, line numbers kept."""
    source = pg.create_database()
    try:
        with pg.connect(source) as conn:
            conn.execute(USERS.encode())
            conn.execute(stamp("r1").encode())
            conn.execute("INSERT INTO users (name) VALUES ('it''s a\\path' || chr(9) || 'tab')")
            conn.execute("INSERT INTO users (name) VALUES (' ')")
        dump = subprocess.run(
            [str(pg.binaries.tool("pg_dump")), "--no-owner", pg.url_for(source)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        pg.drop_database(source)
    assert "FROM stdin;" in dump
    root = project(tmp_path, [BASE, AUTH_STATE], dump)
    loaded = apply_sql_file(pg, root / "prod.sql")
    try:
        with pg.connect(loaded) as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM users ORDER BY id")]
    finally:
        pg.drop_database(loaded)
    assert names == ["it's a\\path\ttab", " "]
    report = run(pg, root)
    assert report.findings == []
    assert statuses(report) == [("r1", "bootstrap", "not run"), ("r2", "ok", "ok")]


def test_a_downgrade_that_fails_only_with_rows_is_found_once_from_a_bootstrap_file_too(
    pg: Sandbox, tmp_path: Path
) -> None:
    """The downgrade to the stamp meets the same rows as the round trip did: removed, and
    the downgrade run again from where it stopped, instead of MP015 for the same cause."""
    drops_name = Revision(
        id="r2",
        down="r1",
        upgrade='op.drop_column("users", "name")',
        downgrade='op.add_column("users", sa.Column("name", sa.Text, nullable=False))',
    )
    root = project(
        tmp_path,
        [
            BASE,
            drops_name,
            Revision(
                id="r3",
                down="r2",
                upgrade='op.execute("CREATE TABLE t3 (id int)")',
                downgrade='op.execute("DROP TABLE t3")',
            ),
        ],
        USERS + stamp("r1"),
    )
    report = run(pg, root)
    assert sorted((f.check, f.revision) for f in report.findings) == [("MP104", "r2")]
    assert not [s for s in report.skipped if s[0].startswith("downgrade to r1")]


def test_a_copy_block_without_its_end_is_a_usage_error(
    pg: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = USERS + "COPY public.users (id, name) FROM stdin;\n1\tann\n"
    root = project(tmp_path, [BASE, AUTH_STATE], dump)
    url, bootstrap = pg.url_for("postgres"), str(root / "prod.sql")
    assert main(["verify", "--database-url", url, "--bootstrap-sql", bootstrap, str(root)]) == 2
    assert "a COPY … FROM stdin block has no closing \\. line" in capsys.readouterr().err


def test_every_report_format_shows_the_stamped_revisions_as_the_bootstrap_file_s(
    pg: Sandbox, tmp_path: Path
) -> None:
    import io
    import json

    from migproof.report import html_format, json_format, junit

    jsonschema = pytest.importorskip("jsonschema", reason="the test extra's jsonschema validates")

    root = project(tmp_path, [BASE, AUTH_STATE, NAME_INDEX], USERS + stamp("r1"))
    report = run(pg, root)
    out = io.StringIO()
    json_format.render(report, out)
    schema = json.loads((Path(__file__).parents[2] / "docs" / "json-schema.json").read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.loads(out.getvalue())))
    assert errors == []
    skipped = {(c.group, c.name): c.skipped for c in junit.verify_cases(report)}
    assert skipped[("r1", "upgrade")] == "r1 came with the bootstrap file (stamped there): not run"
    assert skipped[("r2", "upgrade")] is None
    assert html_format.revision_status(report.records[0], []) == "skipped"


def test_the_bootstrap_file_is_loaded_once_for_the_walk_and_mp112(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migproof import sources

    loads: list[Path] = []
    apply = sources.apply_sql_file

    def counted(host: object, path: Path, *args: object, **kwargs: object) -> str:
        loads.append(path)
        return apply(host, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sources, "apply_sql_file", counted)
    root = project(tmp_path, [BASE, AUTH_STATE, NAME_INDEX], USERS + stamp("r1"))
    assert run(pg, root).findings == []
    assert [path.name for path in loads] == ["prod.sql"]


def test_rows_in_the_bootstrap_file_s_tables_are_checked_too(pg: Sandbox, tmp_path: Path) -> None:
    empties_users = Revision(
        id="r2",
        down="r1",
        upgrade=AUTH_STATE.upgrade,
        downgrade=f'{AUTH_STATE.downgrade}\nop.execute("DELETE FROM users")',
    )
    root = project(tmp_path, [BASE, empties_users], USERS + stamp("r1"))
    assert [(f.check, f.revision) for f in run(pg, root).findings] == [("MP101", "r2")]


def test_workers_are_not_used_for_a_walk_from_the_bootstrap_file(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migproof.verify import roundtrip

    def in_parts(*args: object, **kwargs: object) -> None:
        raise AssertionError("the walk from the bootstrap file was split over workers")

    monkeypatch.setattr(roundtrip._Chain, "walk_in_parts", in_parts)
    root = project(tmp_path, [BASE, AUTH_STATE, NAME_INDEX, LAST_SEEN], USERS + stamp("r1"))
    report = run(pg, root, **{"verify.jobs": 2})
    assert report.findings == []
    assert statuses(report) == [
        ("r1", "bootstrap", "not run"),
        ("r2", "ok", "ok"),
        ("r3", "ok", "ok"),
        ("r4", "ok", "ok"),
    ]


def test_an_incomplete_downgrade_after_the_stamp_is_found_and_the_walk_goes_on(
    pg: Sandbox, tmp_path: Path
) -> None:
    leaves_index = Revision(
        id="r3",
        down="r2",
        upgrade=NAME_INDEX.upgrade,
        downgrade='op.execute("SELECT 1")  # forgets the index',
        message=NAME_INDEX.message,
    )
    root = project(tmp_path, [BASE, AUTH_STATE, leaves_index, LAST_SEEN], USERS + stamp("r1"))
    report = run(pg, root)
    r3 = root / "migrations" / "versions" / "r3.py"
    assert [
        (f.check, f.revision, f.location and f.location.path, f.location and f.location.line)
        for f in report.sorted_findings()
    ] == [
        ("MP013", "r3", r3, line_of(r3, "op.create_index(")),
        ("MP012", "r3", r3, line_of(r3, "def downgrade")),
    ]
    incomplete = next(f for f in report.findings if f.check == "MP012")
    assert incomplete.message == (
        "downgrade of r3 does not restore the schema before it: "
        "index public.ix_users_name is left behind"
    )
    # the database was rebuilt from the bootstrap file (not from empty, where r2 fails): r4 ran
    assert statuses(report) == [
        ("r1", "bootstrap", "not run"),
        ("r2", "ok", "ok"),
        ("r3", "ok", "failed"),
        ("r4", "ok", "ok"),
    ]
    assert ("downgrade to r1 and upgrade to head", "earlier revisions failed") in report.skipped


MOOD = 'sa.Enum("happy", "sad", name="mood")'
MOODS = f'op.create_table("moods", sa.Column("id", sa.Integer, primary_key=True), sa.Column("m", {MOOD}))'


def test_the_whole_chain_is_upgraded_from_the_stamp_in_one_run(pg: Sandbox, tmp_path: Path) -> None:
    """SQLAlchemy creates a named Enum once per run: r4 passes on its own, but in one run
    from r1 to head it finds mood already "created" by r2 (r3 dropped it) and fails."""
    revisions = [
        BASE,
        Revision(
            id="r2",
            down="r1",
            upgrade=MOODS,
            downgrade=f'op.drop_table("moods")\n{MOOD}.drop(op.get_bind())',
        ),
        Revision(
            id="r3",
            down="r2",
            upgrade='op.drop_table("moods")\nop.execute("DROP TYPE mood")',
            downgrade=MOODS,
        ),
        Revision(
            id="r4",
            down="r3",
            upgrade=MOODS.replace('"moods"', '"feelings"'),
            downgrade=f'op.drop_table("feelings")\n{MOOD}.drop(op.get_bind())',
        ),
    ]
    root = project(tmp_path, revisions, USERS + stamp("r1"))
    report = run(pg, root)
    assert statuses(report)[1:] == [("r2", "ok", "ok"), ("r3", "ok", "ok"), ("r4", "ok", "ok")]
    repeat = next(f for f in report.findings if f.check == "MP015")
    assert (repeat.revision, repeat.message) == (
        "r4",
        "upgrading the database loaded from prod.sql from r1 to head in one run (`alembic "
        'upgrade head` on it) fails: type "mood" does not exist',
    )
    # once: MP112 (the upgrade of the bootstrapped database on its own) would say it again
    assert sorted(f.check for f in report.findings) == ["MP015"]


def test_a_version_table_env_py_names_is_read(pg: Sandbox, tmp_path: Path) -> None:
    root = project(
        tmp_path,
        [BASE, AUTH_STATE],
        USERS + stamp("r1", "hub_version"),
        configure=', version_table="hub_version"',
    )
    report = run(pg, root)
    assert report.findings == []
    assert statuses(report) == [("r1", "bootstrap", "not run"), ("r2", "ok", "ok")]


def test_a_file_stamped_at_head_walks_nothing(pg: Sandbox, tmp_path: Path) -> None:
    root = project(
        tmp_path,
        [BASE, AUTH_STATE],
        USERS + "ALTER TABLE users ADD auth_state text;\n" + stamp("r2"),
    )
    report = run(pg, root)
    assert report.findings == []
    assert statuses(report) == [("r1", "bootstrap", "not run"), ("r2", "bootstrap", "not run")]
    assert report.skipped == [
        (
            "revisions up to r2 (2)",
            "prod.sql is stamped at r2: taken as applied, not upgraded or round-tripped",
        ),
        NO_MODELS,
        ("downgrade to r2 and upgrade to head", "no revision after them"),
    ]


def test_a_file_stamped_at_an_unknown_revision_is_a_usage_error(
    pg: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, [BASE, AUTH_STATE], USERS + stamp("f00dcafe"))
    bootstrap = root / "prod.sql"
    code = main(["verify", str(root), "--bootstrap-sql", str(bootstrap), "--database-url", pg.url])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: bootstrap file {bootstrap} stamps revision 'f00dcafe' in alembic_version, and "
        "the chain has no such revision",
        "  fix: stamp the file at the revision of this chain its schema matches (INSERT INTO "
        "alembic_version VALUES ('<revision id>')), or check that --bootstrap-sql names this "
        "project's file",
    ]


def test_every_unknown_stamp_is_named(pg: Sandbox, tmp_path: Path) -> None:
    from migproof.errors import SourceError

    table = "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);\n"
    rows = "INSERT INTO alembic_version VALUES ('r1'), ('beef'), ('cafe');\n"
    root = project(tmp_path, [BASE, AUTH_STATE], USERS + table + rows)
    with pytest.raises(SourceError) as caught:
        run(pg, root)
    assert caught.value.what == (
        f"bootstrap file {root / 'prod.sql'} stamps revisions 'beef', 'cafe' in alembic_version, "
        "and the chain has no such revisions"
    )


def test_the_summary_shows_the_revisions_the_bootstrap_file_brought(
    pg: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, [BASE, AUTH_STATE, NAME_INDEX], USERS + stamp("r1"))
    code = main(
        [
            "verify",
            str(root),
            "--bootstrap-sql",
            str(root / "prod.sql"),
            "--database-url",
            pg.url,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    cells = [[c.strip() for c in line.split("│")] for line in out.splitlines() if "│" in line]
    assert [row[:4] for row in cells] == [  # revision, message, upgrade, round trip (not time)
        ["r1", "empty: create_all made the schema", "bootstrap", "not run"],
        ["r2", "add users.auth_state", "ok", "ok"],
        ["r3", "index users.name", "ok", "ok"],
    ]
    assert "verify: no findings" in out


def test_a_file_stamped_on_one_branch_walks_the_other_and_the_merge(
    pg: Sandbox, tmp_path: Path
) -> None:
    """r2b is stamped; r2a, before it in the topological order, is walked after it."""
    revisions = [
        BASE,
        Revision(
            id="r2a",
            down="r1",
            upgrade='op.add_column("users", sa.Column("a", sa.Text))',
            downgrade='op.drop_column("users", "a")',
        ),
        Revision(
            id="r2b",
            down="r1",
            upgrade='op.add_column("users", sa.Column("b", sa.Text))',
            downgrade='op.drop_column("users", "b")',
        ),
        Revision(
            id="r3", down=("r2a", "r2b"), upgrade=NAME_INDEX.upgrade, downgrade=NAME_INDEX.downgrade
        ),
    ]
    bootstrap = USERS.replace("NOT NULL", "NOT NULL, b text") + stamp("r2b")
    report = run(pg, project(tmp_path, revisions, bootstrap))
    assert report.findings == []
    assert statuses(report) == [
        ("r1", "bootstrap", "not run"),
        ("r2b", "bootstrap", "not run"),
        ("r2a", "ok", "ok"),
        ("r3", "ok", "ok"),
    ]
    assert report.skipped == [
        (
            "revisions up to r2b (2)",
            "prod.sql is stamped at r2b: taken as applied, not upgraded or round-tripped",
        ),
        NO_MODELS,
    ]


def test_a_revision_that_fails_after_the_stamp_is_one_finding(pg: Sandbox, tmp_path: Path) -> None:
    """The walk from the stamped file upgrades that database: its MP010 is the finding,
    not again as MP112 with a fix that says to stamp the file (rucio)."""
    fails = Revision(
        id="r2",
        down="r1",
        upgrade='op.execute("ALTER TABLE nowhere ADD x int")',
        downgrade='op.execute("ALTER TABLE nowhere DROP x")',
    )
    root = project(tmp_path, [BASE, fails], USERS + stamp("r1"))
    report = run(pg, root)
    assert [(f.check, f.revision) for f in report.findings] == [("MP010", "r2")]
