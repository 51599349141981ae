"""Data preservation and parity through ``migproof.verify.verify``, as users run them."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import REPO
from tests.helpers.alembic_projects import write_project
from tests.integration.verify_data.test_verify_data_alembic import ITEMS, ORDERS, REBUILD_ITEMS

from migproof.catalog.lockfile import write_lockfile
from migproof.config import load_config
from migproof.errors import SourceError
from migproof.findings import Report
from migproof.sandbox import Sandbox
from migproof.verify import verify


def run(pg: Sandbox, root: Path, **overrides: object) -> Report:
    return verify(load_config(root, overrides=overrides), root, host=pg)


def checks(report: Report) -> list[tuple[str, str | None]]:
    return sorted((f.check, f.revision) for f in report.findings)


def test_rows_lost_by_a_downgrade_and_no_data(pg: Sandbox, tmp_path: Path) -> None:
    root = write_project(tmp_path, [ORDERS, ITEMS, REBUILD_ITEMS])
    assert checks(run(pg, root)) == [("MP101", "r3")]
    assert checks(run(pg, root, **{"verify.data": False})) == []


def test_the_shop_example_agrees_with_its_models_and_schema_file(pg: Sandbox) -> None:
    shop = REPO / "examples" / "shop"
    report = run(pg, shop, **{"verify.schema-sql": str(shop / "schema.sql")})
    assert report.findings == []


def test_models_schema_file_bootstrap_and_lock_file(pg: Sandbox, tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", [ORDERS, ITEMS])
    (root / "app_models_e2e.py").write_text(
        "import sqlalchemy as sa\n"
        "metadata = sa.MetaData()\n"
        "sa.Table('orders', metadata, sa.Column('id', sa.BigInteger, primary_key=True))\n"
    )
    schema = root / "create_database.sql"
    schema.write_text("CREATE TABLE orders (id bigint PRIMARY KEY);\n")
    bootstrap = root / "prod.sql"
    bootstrap.write_text("CREATE TABLE orders (id bigint PRIMARY KEY);\n")
    clean = run(pg, root, **{"verify.data": False})
    assert checks(clean) == []
    from migproof.catalog import Snapshot

    write_lockfile(root / "migproof.schema.json", Snapshot())  # an empty schema was locked
    report = run(
        pg,
        root,
        **{
            "verify.data": False,
            "verify.models": "app_models_e2e:metadata",
            "verify.schema-sql": str(schema),
            "verify.bootstrap-sql": str(bootstrap),
        },
    )
    codes = [f.check for f in report.findings]
    assert sorted(set(codes)) == ["MP110", "MP111", "MP112", "MP113"]
    bootstrap_failure = next(f for f in report.findings if f.check == "MP112")
    assert bootstrap_failure.revision == "r1"
    assert 'relation "orders" already exists' in bootstrap_failure.message


def test_a_schema_file_with_invalid_sql_stops_verify_with_a_usage_error(
    pg: Sandbox, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "project", [ORDERS])
    schema = root / "schema.sql"
    schema.write_text("CREATE TABLE a (id int);\nCREATE TABLE b (id nosuchtype);\n")
    with pytest.raises(SourceError) as caught:
        run(pg, root, **{"verify.schema-sql": str(schema)})
    assert caught.value.what == f'{schema}:2: type "nosuchtype" does not exist'
