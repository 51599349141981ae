"""The ``migproof`` command: flags -> Config -> library call -> render -> exit code.

Each command lives in its own module in this package and exposes ``command``; the group
finds every such module, so adding a command touches no central list. A module is imported
only when its command runs (or ``--help`` lists them all): ``migproof sandbox`` does not pay
for the imports of ``migproof verify``.
"""

from __future__ import annotations

import functools
import importlib
import os
import pkgutil
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

import click

from migproof.errors import EXIT_INTERNAL, EXIT_USAGE, MigproofError
from migproof.report.terminal import make_consoles, print_bug_notice, print_error

__all__ = ["Terminated", "cli", "main"]


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C so every sandbox is torn down."""


class _CommandModules(click.Group):
    """A group whose commands are the ``command`` of each public module of this package.

    The module of command ``dry-run`` is ``dry_run``; a module whose command has another
    name is still found, by importing them all.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        del ctx
        return sorted(self._all_commands())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        del ctx
        command = _module_command(cmd_name.replace("-", "_"))
        if command is not None and command.name == cmd_name:
            return command
        return self._all_commands().get(cmd_name)

    def _all_commands(self) -> dict[str, click.Command]:
        found = {}
        for name in _module_names():
            command = _module_command(name)
            if command is not None and command.name:
                found[command.name] = command
        return found


@functools.cache
def _module_names() -> tuple[str, ...]:
    """The package's public modules, listed once (``--help`` asks for each command's)."""
    return tuple(
        info.name
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_") and not info.ispkg
    )


def _module_command(module_name: str) -> click.Command | None:
    if module_name not in _module_names():
        return None
    module = importlib.import_module(f"{__name__}.{module_name}")
    command = getattr(module, "command", None)
    return command if isinstance(command, click.Command) else None


@click.group(
    cls=_CommandModules,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: _show_version(ctx, value),
    help="Show the version and exit.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def cli(debug: bool) -> None:
    """Prove PostgreSQL schema migrations safe before they reach production."""
    del debug  # read by main() from argv, before click parses anything


def _show_version(ctx: click.Context, value: bool) -> None:
    """Print the version; looked up only when asked, as the lookup costs 30 ms of imports."""
    if not value or ctx.resilient_parsing:
        return
    from migproof import __version__

    click.echo(f"migproof, version {__version__}")
    ctx.exit()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    raise Terminated


def debug_requested(argv: Sequence[str]) -> bool:
    return "--debug" in argv or bool(os.environ.get("MIGPROOF_DEBUG"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code: 0 clean, 1 findings, 2 usage, 3 bug."""
    args = list(sys.argv[1:] if argv is None else argv)
    consoles = make_consoles()
    is_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if is_main_thread else None
    try:
        result = cli.main(args, prog_name="migproof", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except MigproofError as exc:
        print_error(consoles.err, exc)
        return exc.exit_code
    except (KeyboardInterrupt, click.Abort, Terminated):
        consoles.err.print("interrupted")
        return 130
    except Exception as exc:
        if debug_requested(args):
            raise
        print_bug_notice(consoles.err, exc)
        return EXIT_INTERNAL
    finally:
        if is_main_thread:
            signal.signal(signal.SIGTERM, previous)


def entry_point() -> None:
    sys.exit(main())
