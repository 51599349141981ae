"""Write miniature Alembic projects for tests: an alembic.ini, an env.py, revision files.

As alembic's own test suite does (``alembic/testing/env.py``), scenarios are built from
source text, so each test shows the revision that makes it fire.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

ENV_CONFIG_URL = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
target_metadata = None


def run_migrations_online():
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata{configure})
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""

ENV_OUTER_TRANSACTION = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config

# One outer transaction around everything: nothing is committed until the run ends.
engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
with engine.begin() as connection:
    context.configure(connection=connection)
    context.run_migrations()
"""

ENV_FROM_ENVIRONMENT = """
import os

from alembic import context
from sqlalchemy import create_engine, pool

# The application's settings, not the Alembic config, know the URL (seed 003/004 style).
DATABASE_URL = os.environ["APP_DATABASE_URL"]


def run_migrations_online():
    engine = create_engine(DATABASE_URL, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""

ENV_ASYNC = """
import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config

config = context.config


def do_run_migrations(connection):
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations():
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


asyncio.run(run_async_migrations())
"""

ENV_HARDCODED = """
from alembic import context
from sqlalchemy import create_engine, pool

# A production URL baked into env.py: migproof must refuse to run anything there.
engine = create_engine("{url}", poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""

ENV_GIVEN_CONNECTION = """
from alembic import context

config = context.config

# Written to be run from the application's code only (Alembic's cookbook recipe, as dagster
# does): the caller hands in the connection.
connection = config.attributes.get("connection", None)
if connection is None:
    raise Exception("No connection set in alembic config: run the migrations from the app")
context.configure(connection=connection)
with context.begin_transaction():
    context.run_migrations()
"""


@dataclass(frozen=True)
class Revision:
    """One revision file: its id, parent(s) and the bodies of upgrade() and downgrade()."""

    id: str
    down: str | tuple[str, ...] | None
    upgrade: str
    downgrade: str = "pass"
    message: str = ""
    header: str = ""
    filename: str | None = None

    def source(self) -> str:
        down = repr(self.down)
        return (
            f'"""{self.message or self.id}"""\n\n'
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"{self.header}\n"
            f"revision = {self.id!r}\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{textwrap.indent(textwrap.dedent(self.upgrade).strip(), '    ')}\n\n\n"
            f"def downgrade():\n{textwrap.indent(textwrap.dedent(self.downgrade).strip(), '    ')}\n"
        )


def write_project(
    root: Path,
    revisions: list[Revision],
    *,
    env: str = ENV_CONFIG_URL,
    configure: str = "",
    url: str = "postgresql+psycopg://localhost/app",
    sections: dict[str, str] | None = None,
) -> Path:
    """Write alembic.ini, migrations/env.py and one file per revision under ``root``."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    ini = f"[alembic]\nscript_location = %(here)s/migrations\nsqlalchemy.url = {url}\n"
    for name, body in (sections or {}).items():
        ini += f"\n[{name}]\n{body}\n"
    (root / "alembic.ini").write_text(ini)
    (root / "migrations" / "env.py").write_text(env.replace("{configure}", configure))
    for rev in revisions:
        path = versions / (rev.filename or f"{rev.id}.py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rev.source())
    return root


def line_of(path: Path, text: str, *, last: bool = False) -> int:
    """The 1-based line of the first (or last) line containing ``text``."""
    found = [n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line]
    if not found:
        raise AssertionError(f"{text!r} not in {path}")
    return found[-1] if last else found[0]
