"""migproof migrate / status against `psql -1 -f` of the same files.

Reproduce:  python bench/migrate_bench.py     (defaults: 1000 migrations, 10000 applied)
            python bench/migrate_bench.py --count 200 --applied 2000 \
                --pg-bin "$(pg_config --bindir)"

1. 1,000 small pending migrations (a CREATE TABLE and an INSERT each) in golang-migrate layout:
   `psql -X -q -1 -v ON_ERROR_STOP=1 -f 1.up.sql … -f 1000.up.sql` (one run, one transaction,
   psql from the sandbox binaries' bindir) against `migproof migrate` (in process, and as a
   command), each on its own fresh database. Overhead per migration = (migproof - psql) / N:
   the price of a transaction, a tracker row, timeouts and per-statement errors. Goal < 5 ms.
2. `status` over 10,000 applied versions (tracker rows written directly): in process and as the
   `migproof status --format json` command. Goal < 1 s.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from migproof.config import load_config
from migproof.sandbox import Sandbox, find_binaries
from migproof.sqlmigrate import migrate, status


def write_migrations(directory: Path, count: int, body: str) -> list[Path]:
    directory.mkdir(parents=True)
    paths = []
    for i in range(1, count + 1):
        path = directory / f"{i}_step_{i}.up.sql"
        path.write_text(body.format(i=i))
        paths.append(path)
    return paths


def timed(func: object, *args: object, **kwargs: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = func(*args, **kwargs)  # type: ignore[operator]
    return time.perf_counter() - started, result


def run_command(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, check=False, cwd=cwd, stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        sys.exit(f"{Path(args[0]).name} … failed with exit code {done.returncode}")
    return time.perf_counter() - started


def bench_apply(pg: Sandbox, psql: Path, work: Path, count: int) -> None:
    body = (
        "CREATE TABLE t{i} (id bigint PRIMARY KEY, note text);\n"
        "INSERT INTO t{i} VALUES ({i}, 'x');\n"
    )
    paths = write_migrations(work / "apply", count, body)
    config = load_config(work)

    def psql_run(*, single_transaction: bool) -> float:
        db = pg.create_database()
        args = [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", pg.url_for(db)]
        args += ["-1"] if single_transaction else []
        for path in paths:
            args += ["-f", str(path)]
        return run_command(args, work)

    psql_s = psql_run(single_transaction=True)
    autocommit_s = psql_run(single_transaction=False)

    db = pg.create_database()
    lib_s, report = timed(migrate, config, work / "apply", pg.url_for(db))
    assert len(report.records) == count and not report.findings, report.findings  # type: ignore[attr-defined]

    db = pg.create_database()
    cli = [sys.executable, "-m", "migproof", "migrate", str(work / "apply")]
    cli_s = run_command([*cli, "--database-url", pg.url_for(db), "--format", "json"], work)
    startup_s = run_command([sys.executable, "-m", "migproof", "--version"], work)

    print(f"apply {count} pending migrations")
    print(f"  psql -1 -f (one run)         {psql_s * 1000:9.1f} ms  (all files in one transaction)")
    print(
        f"  psql -f (one run, no -1)     {autocommit_s * 1000:9.1f} ms  (each statement on its own)"
    )
    print(f"  migproof migrate (library)   {lib_s * 1000:9.1f} ms")
    print(
        f"  migproof migrate (command)   {cli_s * 1000:9.1f} ms"
        f"  (python start-up {startup_s * 1000:.0f} ms)"
    )
    for label, base in (("psql -1 -f", psql_s), ("psql -f", autocommit_s)):
        per_lib = (lib_s - base) / count * 1000
        per_cli = (cli_s - base) / count * 1000
        print(
            f"  overhead vs {label:<11}      {per_lib:9.2f} ms/migration library, "
            f"{per_cli:.2f} ms command; ratio {lib_s / base:.2f}x (goal < 5 ms)"
        )


def bench_status(pg: Sandbox, work: Path, applied: int) -> None:
    directory = work / "status"
    paths = write_migrations(directory, applied, "SELECT {i};\n")
    db = pg.create_database()
    with pg.connect(db) as conn:
        conn.execute(
            "CREATE TABLE migproof_migrations (version text PRIMARY KEY, name text NOT NULL,"
            " checksum text, applied_at timestamptz NOT NULL DEFAULT now(),"
            " duration_ms double precision)"
        )
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY migproof_migrations (version, name, checksum) FROM STDIN") as copy,
        ):
            for i, path in enumerate(paths, start=1):
                copy.write_row((str(i), f"step_{i}", hashlib.sha256(path.read_bytes()).hexdigest()))
    config = load_config(work)
    lib_s, report = timed(status, config, directory, pg.url_for(db), check=True)
    assert not report.findings and len(report.records) == applied  # type: ignore[attr-defined]
    cli = [
        sys.executable,
        "-m",
        "migproof",
        "status",
        str(directory),
        "--database-url",
        pg.url_for(db),
    ]
    json_s = run_command([*cli, "--check", "--format", "json"], work)
    text_s = run_command([*cli, "--check"], work)
    print(f"status over {applied} applied versions")
    print(f"  library                      {lib_s * 1000:9.1f} ms (goal < 1000 ms)")
    print(f"  command --format json        {json_s * 1000:9.1f} ms")
    print(f"  command, text                {text_s * 1000:9.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--applied", type=int, default=10000)
    parser.add_argument("--pg-bin", default=os.environ.get("MIGPROOF_PG_BIN"))
    args = parser.parse_args()
    binaries = find_binaries(args.pg_bin, origin="--pg-bin")
    with Sandbox(binaries) as pg, tempfile.TemporaryDirectory(prefix="migproof-bench-") as tmp:
        print(f"PostgreSQL {binaries.version} ({binaries.origin}); psql {binaries.tool('psql')}")
        bench_apply(pg, binaries.tool("psql"), Path(tmp), args.count)
        bench_status(pg, Path(tmp), args.applied)


if __name__ == "__main__":
    main()
