"""Synthetic Alembic chains of N revisions of mixed DDL, for the verify benchmarks.

Every revision has an exact downgrade, so all tools under test do their full work.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

ENV_PY = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config


def run_migrations_online():
    # pytest-alembic's documented pattern: use the engine it hands over, else the config's URL
    connectable = config.attributes.get("connection") or engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""

KINDS = [
    (  # a new table with an identity key
        'op.create_table("t{n}", sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True), '
        'sa.Column("name", sa.Text, nullable=False), sa.Column("created_at", sa.DateTime(timezone=True), '
        "server_default=sa.func.now()))",
        'op.drop_table("t{n}")',
    ),
    (  # a column with a default on an earlier table
        'op.add_column("t{p}", sa.Column("c{n}", sa.Integer, server_default="0", nullable=False))',
        'op.drop_column("t{p}", "c{n}")',
    ),
    (  # an index
        'op.create_index("ix_t{p}_name_{n}", "t{p}", ["name"])',
        'op.drop_index("ix_t{p}_name_{n}", table_name="t{p}")',
    ),
    (  # an enum type and a column of it
        'sa.Enum("a", "b", "c", name="e{n}").create(op.get_bind())\n'
        '    op.add_column("t{p}", sa.Column("s{n}", sa.Enum(name="e{n}", create_type=False)))',
        'op.drop_column("t{p}", "s{n}")\n    sa.Enum(name="e{n}").drop(op.get_bind())',
    ),
    (  # a child table with a foreign key and its index
        'op.create_table("child{n}", sa.Column("id", sa.BigInteger, primary_key=True), '
        'sa.Column("parent_id", sa.BigInteger, sa.ForeignKey("t{p}.id", ondelete="CASCADE")))\n'
        '    op.create_index("ix_child{n}_parent", "child{n}", ["parent_id"])',
        'op.drop_table("child{n}")',
    ),
    (  # a check constraint
        'op.create_check_constraint("ck_t{p}_name_{n}", "t{p}", "length(name) < 1000")',
        'op.drop_constraint("ck_t{p}_name_{n}", "t{p}", type_="check")',
    ),
]


def write_chain(root: Path, n: int, url: str = "postgresql+psycopg://localhost/bench") -> Path:
    """Write an Alembic project with ``n`` revisions under ``root``."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (root / "alembic.ini").write_text(
        f"[alembic]\nscript_location = %(here)s/migrations\nsqlalchemy.url = {url}\n"
    )
    (root / "migrations" / "env.py").write_text(ENV_PY)
    last_table = 0
    for i in range(n):
        kind = 0 if i % len(KINDS) == 0 else i % len(KINDS)
        if kind == 0:
            last_table = i
        upgrade, downgrade = KINDS[kind]
        values = {"n": i, "p": last_table}
        down = repr(f"r{i - 1:04d}") if i else "None"
        (versions / f"r{i:04d}.py").write_text(
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f'revision = "r{i:04d}"\ndown_revision = {down}\n\n\n'
            f"def upgrade():\n    {upgrade.format(**values)}\n\n\n"
            f"def downgrade():\n    {downgrade.format(**values)}\n"
        )
    return root


def time_verify(pg: Any, root: Path, **overrides: object) -> float:
    """Seconds one in-process ``verify`` of ``root`` takes on ``pg`` (a Sandbox), as the CLI
    runs it; ``overrides`` are configuration keys (``verify.jobs``). The chain must be clean."""
    from migproof.config import load_config
    from migproof.verify import verify

    config = load_config(root, overrides=overrides)
    started = time.perf_counter()
    report = verify(config, root, host=pg)
    elapsed = time.perf_counter() - started
    assert not report.findings, [f.message for f in report.findings]
    return elapsed
