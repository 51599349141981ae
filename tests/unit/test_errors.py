"""The exception tree, its exit codes, and passwords kept out of every message."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from migproof.errors import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_USAGE,
    ConfigError,
    DatabaseError,
    MigproofError,
    SandboxError,
    SourceError,
    mask_password,
)
from migproof.report.terminal import print_bug_notice, print_error


def test_exit_codes() -> None:
    assert (EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL) == (0, 1, 2, 3)


@pytest.mark.parametrize("cls", [ConfigError, SourceError, DatabaseError, SandboxError])
def test_every_user_error_is_a_migproof_error_with_exit_2(cls: type[MigproofError]) -> None:
    error = cls("what is wrong", fix="how to fix it")
    assert isinstance(error, MigproofError)
    assert error.exit_code == EXIT_USAGE
    assert (error.what, error.fix) == ("what is wrong", "how to fix it")
    assert str(error) == "what is wrong\n  fix: how to fix it"


def test_error_without_fix() -> None:
    assert str(MigproofError("only what")) == "only what"
    assert MigproofError("only what").fix is None


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql://app:secret@db:5432/app", "postgresql://app:***@db:5432/app"),
        ("postgresql+psycopg://app:secret@db/app", "postgresql+psycopg://app:***@db/app"),
        ("postgresql://app@db/app", "postgresql://app@db/app"),
        ("postgresql:///app", "postgresql:///app"),
        ("postgresql://u:p@ss@db/app", "postgresql://u:***@db/app"),  # unescaped @ in it
        ("postgresql://u:pa:ss@db/app", "postgresql://u:***@db/app"),
        ("postgresql://u:p%40ss@db/app", "postgresql://u:***@db/app"),
        (
            "postgresql:///app?password=secret&sslmode=require",
            "postgresql:///app?password=***&sslmode=require",
        ),
        ("host=db password=secret user=app", "host=db password=*** user=app"),
        ("host=db password='a secret' user=app", "host=db password=*** user=app"),
        ("host=db PASSWORD = secret", "host=db PASSWORD = ***"),
        (
            "from postgresql://a:one@h/d to postgresql://b:two@h/e",
            "from postgresql://a:***@h/d to postgresql://b:***@h/e",
        ),
    ],
)
def test_mask_password(text: str, masked: str) -> None:
    assert mask_password(text) == masked


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=200, color_system=None, highlight=False), buffer


def test_print_error_is_what_then_fix_with_passwords_masked() -> None:
    console, buffer = _console()
    print_error(
        console,
        DatabaseError(
            "cannot connect to postgresql://app:secret@db/app (Connection refused)",
            fix="check postgresql://app:secret@db/app [and its port]",
        ),
    )
    assert buffer.getvalue().splitlines() == [
        "error: cannot connect to postgresql://app:***@db/app (Connection refused)",
        "  fix: check postgresql://app:***@db/app [and its port]",
    ]


def test_bug_notice_asks_for_debug_and_a_report() -> None:
    console, buffer = _console()
    print_bug_notice(console, KeyError("[oops]"))
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "error: a bug in migproof: KeyError: '[oops]'"
    assert "--debug" in lines[1]
    assert "report it" in lines[1]
