"""Flask-Migrate projects: env.py takes its engine and models from Flask's current_app.

The projects are scaffolded by Flask-Migrate itself (``flask db init``: its own env.py and an
alembic.ini without script_location, in ``migrations/``); the application's configuration
names a database migproof was not handed, which must stay untouched.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path

import pytest
from tests.helpers.alembic_projects import Revision, line_of

from migproof.chain.project import load_project
from migproof.cli import main
from migproof.config import load_config
from migproof.errors import ConfigError
from migproof.findings import Report
from migproof.lint.recorded import lint_alembic_project
from migproof.sandbox import Sandbox
from migproof.verify import verify

APP = """
import os

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Customer(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50), nullable=False)
{extra}

def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "{url}"
{body}
    db.init_app(app)
    Migrate(app, db)
    return app
"""

APP_URL = "postgresql+psycopg://app@localhost/app"  # the application's own: never reached
CUSTOMERS = Revision(
    id="0001",
    down=None,
    upgrade="""
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    """,
    downgrade='op.drop_table("customer")',
)
EMAIL = Revision(
    id="0002",
    down="0001",
    upgrade="""
    op.add_column("customer", sa.Column("email", sa.String(length=120), nullable=True))
    op.create_index("ix_customer_email", "customer", ["email"], unique=True)
    """,
    downgrade='op.drop_index("ix_customer_email", table_name="customer")\n'
    'op.drop_column("customer", "email")',
)
EMAIL_COLUMN = "    email = db.Column(db.String(120), unique=True, index=True)\n"


def flask_project(
    root: Path,
    revisions: list[Revision],
    *,
    url: str = APP_URL,
    module: str = "app.py",
    extra: str = EMAIL_COLUMN,
    body: str = "",
    multidb: bool = False,
) -> Path:
    """An application module and the migrations directory `flask db init` makes."""
    from flask import Flask
    from flask_migrate import Migrate, init
    from flask_sqlalchemy import SQLAlchemy

    root.mkdir(parents=True, exist_ok=True)
    source = APP.replace("{url}", url).replace("{extra}", extra)
    (root / module).write_text(source.replace("{body}", textwrap.indent(body, "    ")))
    scaffold = Flask("scaffold")  # only for `flask db init`: it connects nowhere
    scaffold.config["SQLALCHEMY_DATABASE_URI"] = url
    Migrate(scaffold, SQLAlchemy(scaffold))
    with scaffold.app_context():
        init(directory=str(root / "migrations"), multidb=multidb)
    for rev in revisions:
        (root / "migrations" / "versions" / f"{rev.id}.py").write_text(rev.source())
    return root


def run(pg: Sandbox, root: Path, **overrides: object) -> Report:
    return verify(load_config(root, overrides=overrides), root, host=pg)


def statuses(report: Report) -> dict[str, tuple[str, str]]:
    return {str(r["revision"]): (str(r["upgrade"]), str(r["roundtrip"])) for r in report.records}


def test_the_applications_database_is_replaced_by_the_scratch_one(
    pg: Sandbox, tmp_path: Path
) -> None:
    with pg.database() as theirs:
        root = flask_project(
            tmp_path / "shop", [CUSTOMERS, EMAIL], url=pg.sqlalchemy_url_for(theirs)
        )
        report = run(pg, root)
        assert report.findings == []
        assert statuses(report) == {"0001": ("ok", "ok"), "0002": ("ok", "ok")}
        with pg.connect(theirs) as conn:  # the application's own database: never touched
            assert conn.execute(
                "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            ).fetchone() == (0,)


def test_an_irreversible_chain_is_upgraded_in_one_run_through_the_applications_engine(
    pg: Sandbox, tmp_path: Path
) -> None:
    """Flask-SQLAlchemy's engine lives for the whole session: its pool must not keep
    connections to the database the one-run check makes anew."""
    one_way = dataclasses.replace(EMAIL, downgrade='raise NotImplementedError("one way")')
    root = flask_project(tmp_path / "shop", [CUSTOMERS, one_way])
    report = run(pg, root, **{"verify.jobs": 1})
    assert [(f.check, f.revision) for f in report.findings] == [("MP008", "0002")]


def test_sql_files_beside_the_application_do_not_make_it_a_sql_directory(
    pg: Sandbox, tmp_path: Path
) -> None:
    root = flask_project(tmp_path / "shop", [CUSTOMERS, EMAIL])
    (root / "db").mkdir()
    (root / "db" / "V1__seed_demo_data.sql").write_text("INSERT INTO customer VALUES (1, 'a');\n")
    report = run(pg, root)
    assert report.findings == []
    assert statuses(report) == {"0001": ("ok", "ok"), "0002": ("ok", "ok")}


def test_the_models_come_from_the_application(pg: Sandbox, tmp_path: Path) -> None:
    """target_metadata is current_app's db.metadata: a column the models lack is MP110."""
    root = flask_project(tmp_path / "shop", [CUSTOMERS, EMAIL], extra="")
    report = run(pg, root)
    assert sorted((f.check, f.message) for f in report.findings) == [
        ("MP110", "models and head differ: column public.customer.email exists at head but not in the models"),
        ("MP110", "models and head differ: index ix_customer_email on public.customer exists at head but not in the models"),
    ]  # fmt: skip


def test_a_round_trip_defect_is_found_in_a_flask_project(pg: Sandbox, tmp_path: Path) -> None:
    keeps_column = dataclasses.replace(
        EMAIL, downgrade='op.drop_index("ix_customer_email", table_name="customer")'
    )
    root = flask_project(tmp_path / "shop", [CUSTOMERS, keeps_column])
    report = run(pg, root)
    found = {(f.check, f.revision) for f in report.findings}
    # the column stays: the schema is not the one before, and upgrading again fails
    assert {("MP012", "0002"), ("MP013", "0002")} <= found
    incomplete = next(f for f in report.findings if f.check == "MP012")
    assert "email" in incomplete.message


def test_the_migrations_directory_itself_and_a_factory_named_in_flaskenv(
    pg: Sandbox, tmp_path: Path
) -> None:
    root = flask_project(
        tmp_path / "shop",
        [CUSTOMERS, EMAIL],
        module="factory.py",
    )
    (root / ".flaskenv").write_text("FLASK_DEBUG=1\nFLASK_APP=factory:create_app()\n")
    report = run(pg, root / "migrations")
    assert report.findings == []
    assert statuses(report) == {"0001": ("ok", "ok"), "0002": ("ok", "ok")}


def test_revisions_import_the_applications_modules(pg: Sandbox, tmp_path: Path) -> None:
    """`flask db upgrade` runs from the application's directory, which is on sys.path: a
    revision may import the application's modules (a custom column type)."""
    email = dataclasses.replace(
        EMAIL,
        header="import shoptypes",
        upgrade=EMAIL.upgrade.replace("sa.String(length=120)", "shoptypes.Email()"),
    )
    root = flask_project(tmp_path / "shop", [CUSTOMERS, email])
    (root / "shoptypes.py").write_text(
        "import sqlalchemy as sa\n\n\nclass Email(sa.types.TypeDecorator):\n"
        "    impl = sa.String(120)\n    cache_ok = True\n"
    )
    report = run(pg, root)
    assert report.findings == []
    assert statuses(report) == {"0001": ("ok", "ok"), "0002": ("ok", "ok")}


MODULE_APP = """
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "{url}"
db = SQLAlchemy(app)
Migrate(app, db)


class Customer(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50), nullable=False)
    email = db.Column(db.String(120), unique=True, index=True)
"""


def test_a_revision_importing_a_module_level_application_does_not_reach_its_database(
    pg: Sandbox, tmp_path: Path
) -> None:
    """The revision imports app.py while the chain is read, which makes Flask-SQLAlchemy's
    engine for the application's own database; the application is loaded again for the
    scratch one."""
    with pg.database() as theirs:
        url = pg.sqlalchemy_url_for(theirs)
        email = dataclasses.replace(EMAIL, header="import app  # noqa: F401")
        root = flask_project(tmp_path / "shop", [CUSTOMERS, email], url=url)
        (root / "app.py").write_text(MODULE_APP.replace("{url}", url))
        report = run(pg, root)
        assert report.findings == []
        assert statuses(report) == {"0001": ("ok", "ok"), "0002": ("ok", "ok")}
        with pg.connect(theirs) as conn:
            assert conn.execute(
                "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            ).fetchone() == (0,)


def test_an_application_that_cannot_be_found_is_a_usage_error(
    pg: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = flask_project(tmp_path / "shop", [CUSTOMERS], module="web.py")
    with pytest.raises(
        ConfigError, match=r"cannot load the Flask application \(wsgi.py or app.py\)"
    ):
        run(pg, root)
    monkeypatch.setenv("FLASK_APP", "nowhere")
    capsys.readouterr()
    assert main(["verify", "--database-url", pg.url_for("postgres"), str(root)]) == 2
    err = capsys.readouterr().err
    assert "cannot load the Flask application (nowhere) that env.py needs" in err
    assert "FLASK_APP=module:create_app" in err


def test_a_multi_database_project_is_a_usage_error(pg: Sandbox, tmp_path: Path) -> None:
    with pg.database() as audit:
        root = flask_project(
            tmp_path / "shop",
            [CUSTOMERS],
            body=f'app.config["SQLALCHEMY_BINDS"] = {{"audit": "{pg.sqlalchemy_url_for(audit)}"}}',
            multidb=True,
        )
        with pytest.raises(ConfigError, match=r"has 1 \(audit\): migproof checks one database"):
            run(pg, root)
        with pg.connect(audit) as conn:  # the bind's database: never touched
            assert conn.execute(
                "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            ).fetchone() == (0,)


def test_an_application_that_fails_to_load_names_its_error(pg: Sandbox, tmp_path: Path) -> None:
    root = flask_project(
        tmp_path / "shop",
        [CUSTOMERS],
        body='raise KeyError("SECRET_KEY")',
    )
    with pytest.raises(
        ConfigError, match=r"loading the Flask application .* KeyError: 'SECRET_KEY'"
    ):
        run(pg, root)


def test_lint_runs_the_revisions_inside_the_application(
    pg: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = flask_project(tmp_path / "shop", [CUSTOMERS, EMAIL])
    config = load_config(root)
    ran = lint_alembic_project(config, load_project(config, root), pg)
    path = root / "migrations" / "versions" / "0002.py"
    found = {(f.check, f.revision, f.location.line if f.location else None) for f in ran.findings}
    # CREATE INDEX on a table an earlier revision made, seen holding its lock in the sandbox
    assert ("MP201", "0002", line_of(path, "op.create_index")) in found
    # read statically, the revision files are found in migrations/versions all the same
    capsys.readouterr()  # `flask db init` printed what it made
    assert main(["lint", "--static", "--format", "json", str(root)]) == 0
    records = json.loads(capsys.readouterr().out)["records"]
    assert [Path(r["file"]).name for r in records] == ["0001.py", "0002.py"]
