"""The exception tree and the exit codes it maps to.

A finding (a broken revision, invalid SQL in a migration, a failed upgrade) is not an
exception: it is what migproof exists to report (exit 1). An exception means migproof
could not look (a ``MigproofError``, exit 2) or has a bug (anything else, exit 3).
"""

from __future__ import annotations

import re
from typing import ClassVar

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

__all__ = [
    "EXIT_CLEAN",
    "EXIT_FINDINGS",
    "EXIT_INTERNAL",
    "EXIT_USAGE",
    "ConfigError",
    "DatabaseError",
    "MigproofError",
    "SandboxError",
    "SourceError",
    "mask_password",
]


class MigproofError(Exception):
    """Something the user can fix: ``what`` is wrong, ``fix`` says how."""

    exit_code: ClassVar[int] = EXIT_USAGE

    def __init__(self, what: str, fix: str | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix

    def __str__(self) -> str:
        return self.what if self.fix is None else f"{self.what}\n  fix: {self.fix}"


class ConfigError(MigproofError):
    """pyproject.toml, migproof.toml, alembic.ini or conflicting flags."""


class SourceError(MigproofError):
    """A missing path, an unreadable file, an unknown SOURCE."""


class DatabaseError(MigproofError):
    """An unreachable URL, a missing privilege, a database migproof may not touch."""


class SandboxError(MigproofError):
    """No PostgreSQL binaries, or initdb or the server failed to start."""


# The password runs to the LAST "@" of the URL: an unescaped "@" in it ("p@ss") must not
# leave its tail visible. conninfo values may be quoted: password='a b'.
_PASSWORD_IN_URL = re.compile(
    r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^\s/?#]*)(?P<at>@)", re.IGNORECASE
)
_PASSWORD_PARAM = re.compile(
    r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^&\s]+)", re.IGNORECASE
)


def mask_password(text: str) -> str:
    """Replace passwords in URLs and ``password=`` parameters with ``***``.

    >>> mask_password("postgresql://app:secret@db:5432/app")
    'postgresql://app:***@db:5432/app'
    """
    text = _PASSWORD_IN_URL.sub(r"\g<head>***\g<at>", text)
    return _PASSWORD_PARAM.sub(r"\g<head>***", text)
