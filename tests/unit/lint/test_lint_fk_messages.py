"""MP204 names each table it blocks once: a self-referencing key (designate's zones)."""

from __future__ import annotations

from pathlib import Path

from migproof.config import Config
from migproof.findings import Finding
from migproof.lint import SqlSource, lint_sources

SETUP = (
    "CREATE TABLE zones (id int PRIMARY KEY, parent_id int);\n"
    "CREATE INDEX zones_parent_id_idx ON zones (parent_id);\n"
    "CREATE TABLE records (id int PRIMARY KEY, zone_id int);\n"
    "CREATE INDEX records_zone_id_idx ON records (zone_id);\n"
)


def mp204(statement: str) -> Finding:
    sql = f"SET lock_timeout = '1s';\n{statement}\n"
    findings = lint_sources([SqlSource(sql, Path("m.sql"), setup_sql=SETUP)], Config())
    (finding,) = [f for f in findings if f.check == "MP204"]
    assert str(finding.location) == "m.sql:2:1"
    return finding


def test_a_self_referencing_key_names_its_table_once() -> None:
    finding = mp204(
        "ALTER TABLE zones ADD CONSTRAINT zones_parent_fk FOREIGN KEY (parent_id)"
        " REFERENCES zones (id);"
    )
    assert finding.message == (
        "adding a validated foreign key scans public.zones and blocks writes to public.zones"
        " until it is checked"
    )
    assert finding.fix == (
        "ALTER TABLE zones ADD CONSTRAINT zones_parent_fk FOREIGN KEY (parent_id) REFERENCES"
        " zones (id) NOT VALID; then, in a later migration, ALTER TABLE ... VALIDATE"
        " CONSTRAINT ..."
    )


def test_a_self_referencing_key_on_a_new_column_names_its_table_once() -> None:
    finding = mp204("ALTER TABLE zones ADD COLUMN pool_id int DEFAULT 1 REFERENCES public.zones;")
    assert finding.message == (
        "adding a validated foreign key scans public.zones and blocks writes to public.zones"
        " until it is checked"
    )
    # the SQL of the fix names it twice, as the statement must
    assert finding.fix == (
        "ADD COLUMN pool_id without REFERENCES, then ALTER TABLE public.zones ADD CONSTRAINT"
        " ... FOREIGN KEY (pool_id) REFERENCES public.zones NOT VALID; and VALIDATE CONSTRAINT"
        " in a later migration"
    )


def test_a_key_to_another_table_names_both() -> None:
    finding = mp204(
        "ALTER TABLE records ADD CONSTRAINT records_zone_fk FOREIGN KEY (zone_id)"
        " REFERENCES zones (id);"
    )
    assert finding.message == (
        "adding a validated foreign key scans public.records and blocks writes to"
        " public.records and public.zones until it is checked"
    )
    assert finding.fix == (
        "ALTER TABLE records ADD CONSTRAINT records_zone_fk FOREIGN KEY (zone_id) REFERENCES"
        " zones (id) NOT VALID; then, in a later migration, ALTER TABLE ... VALIDATE"
        " CONSTRAINT ..."
    )
