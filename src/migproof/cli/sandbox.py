"""``migproof sandbox``: start a private PostgreSQL and keep it until Ctrl-C or SIGTERM."""

from __future__ import annotations

import shlex
import shutil
import signal
import threading
from types import FrameType
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from migproof.cli._options import config_from_flags, server_options
from migproof.report.terminal import make_consoles
from migproof.sandbox import PgBinaries, Sandbox, configured_binaries

__all__ = ["command"]


@click.command("sandbox")
@server_options
def command(pg_bin: str | None, database_url: str | None) -> int:
    """Start a private PostgreSQL until Ctrl-C.

    Prints its libpq and SQLAlchemy URLs and the psql line to connect.
    """
    from migproof.cli import Terminated

    config = config_from_flags(pg_bin=pg_bin)
    if database_url:
        raise click.UsageError(
            "migproof sandbox starts a private server; --database-url does not apply"
        )
    consoles = make_consoles()
    binaries = configured_binaries(config)
    previous = _handle_stop_signals(Terminated)
    try:
        with Sandbox(binaries) as pg:
            _announce(pg, binaries, consoles.out)
            threading.Event().wait()
    except (KeyboardInterrupt, Terminated):
        pass  # Ctrl-C and SIGTERM are how a sandbox normally ends
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    consoles.err.print("sandbox stopped and removed")
    return 0


def _handle_stop_signals(terminated: type[BaseException]) -> dict[int, Any]:
    """Ctrl-C, ``kill -INT``, SIGTERM and a closed terminal (SIGHUP) all end the sandbox cleanly.

    SIGINT gets Python's handler back even when it was ignored at start-up, which is how a
    shell without job control starts ``migproof sandbox &``: ``kill -INT`` must still work.
    """

    def raise_terminated(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        raise terminated

    if threading.current_thread() is not threading.main_thread():
        return {}  # only the main thread may set handlers; a test runner's thread keeps its own
    wanted: dict[int, Any] = {
        signal.SIGINT: signal.default_int_handler,
        signal.SIGTERM: raise_terminated,
        signal.SIGHUP: raise_terminated,
    }
    return {signum: signal.signal(signum, handler) for signum, handler in wanted.items()}


def _announce(pg: Sandbox, binaries: PgBinaries, out: Console) -> None:
    own = binaries.tool("psql")  # the server's own psql: no version-mismatch warning
    psql = str(own) if own.is_file() else shutil.which("psql") or "psql"
    out.print(f"PostgreSQL {binaries.version} ({escape(binaries.origin)}) is running.")
    out.print(f"libpq URL:      {escape(pg.url)}")
    out.print(f"SQLAlchemy URL: {escape(pg.sqlalchemy_url_for(pg.admin_database))}")
    out.print(f"psql:           {escape(shlex.join([psql, pg.url]))}")
    out.print("Press Ctrl-C to stop it; everything in it is removed.")
    out.file.flush()
