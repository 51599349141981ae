"""Snapshot time vs ``pg_dump --schema-only`` on schemas of 10, 100 and 1,000 tables.

Reproduce:  python bench/snapshot_bench.py [--sizes 10,100,1000] [--repeat 5] [--pg-bin DIR]

Both read the same database of the sandbox; pg_dump is the sandbox's own binary (same
version as the server). "snapshot" includes opening a connection, as pg_dump does; "warm"
reuses one, as ``migproof verify`` does between steps; "diff" compares two snapshots of the
same schema, as verify does after every step; "watched" is a CatalogWatch's snapshot after
one committed ``ALTER TABLE … ADD COLUMN`` (only what changed is read again), as verify takes
them between steps. Medians of --repeat runs, the contenders taking turns so that a busy
machine slows them alike.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import time
from collections.abc import Callable

import psycopg

from migproof.catalog import SnapshotFilter, diff_snapshots, take_snapshot
from migproof.catalog.watch import CatalogWatch
from migproof.sandbox import Sandbox, find_binaries


def build_schema(conn: psycopg.Connection[tuple[object, ...]], tables: int) -> None:
    """Tables like an application's: identity key, FK to the previous table, checks, indexes."""
    conn.execute("CREATE TYPE status AS ENUM ('new', 'paid', 'void')")
    parts = []
    for n in range(tables):
        fk = f", parent_id bigint REFERENCES t{n - 1} (id) ON DELETE CASCADE" if n else ""
        parts.append(
            f"CREATE TABLE t{n} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            f" name varchar(200) NOT NULL, amount numeric(12,2) DEFAULT 0 CHECK (amount >= 0),"
            f" status status NOT NULL DEFAULT 'new', created_at timestamptz DEFAULT now(),"
            f" note text{fk});"
            f" CREATE INDEX t{n}_name_idx ON t{n} (lower(name)) WHERE note IS NOT NULL;"
            f" COMMENT ON TABLE t{n} IS 'table {n}';"
        )
        if n % 10 == 0:
            parts.append(f"CREATE VIEW v{n} AS SELECT id, name FROM t{n} WHERE amount > 0;")
            parts.append(
                f"CREATE FUNCTION f{n}(x integer) RETURNS integer LANGUAGE sql IMMUTABLE "
                f"AS 'SELECT x + {n}';"
            )
    conn.execute("\n".join(parts).encode())


def interleaved_medians(funcs: list[Callable[[], None]], repeat: int) -> list[float]:
    """Median seconds of each function, run in turn so that they share the machine's load."""
    times: list[list[float]] = [[] for _ in funcs]
    for _ in range(repeat):
        for func, samples in zip(funcs, times, strict=True):
            start = time.perf_counter()
            func()
            samples.append(time.perf_counter() - start)
    return [statistics.median(samples) for samples in times]


def watched_median(
    watch_conn: psycopg.Connection[tuple[object, ...]],
    conn: psycopg.Connection[tuple[object, ...]],
    tables: int,
    repeat: int,
) -> float:
    """Median seconds of a watched snapshot after one committed ALTER TABLE on ``conn``."""
    watch = CatalogWatch.install(watch_conn)
    assert watch is not None, "the sandbox's superuser can create event triggers"
    filters = SnapshotFilter()
    watch.snapshot(filters)
    samples = []
    for n in range(max(repeat, 5) * 4):
        conn.execute(f"ALTER TABLE t{n % tables} ADD COLUMN w{n} integer DEFAULT {n}")
        start = time.perf_counter()
        watch.snapshot(filters)
        samples.append(time.perf_counter() - start)
    watch.close()
    return statistics.median(samples[4:])  # the first ones prepare the filtered queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-bin", default=None)
    args = parser.parse_args()
    binaries = find_binaries(args.pg_bin)
    pg_dump = str(binaries.tool("pg_dump"))
    print(f"PostgreSQL {binaries.version} ({binaries.origin}), median of {args.repeat} runs")
    print(
        f"{'tables':>7} {'snapshot':>10} {'warm':>10} {'pg_dump -s':>11} {'pg_dump/snapshot':>17}"
        f" {'diff':>9} {'watched':>9}"
    )
    with Sandbox(binaries) as pg:
        for size in (int(s) for s in args.sizes.split(",")):
            dbname = pg.create_database()
            with pg.connect(dbname) as conn:
                build_schema(conn, size)
                conn.execute("ANALYZE")
                take_snapshot(conn)  # warm the server's caches for both contenders

                def cold(dbname: str = dbname) -> None:
                    with pg.connect(dbname) as fresh:
                        take_snapshot(fresh)

                def warm(conn: psycopg.Connection[tuple[object, ...]] = conn) -> None:
                    take_snapshot(conn)

                def dump(dbname: str = dbname) -> None:
                    subprocess.run(
                        [
                            pg_dump,
                            "--schema-only",
                            "--no-sync",
                            "-f",
                            "/dev/null",
                            pg.url_for(dbname),
                        ],
                        check=True,
                    )

                t_cold, t_warm, t_dump = interleaved_medians([cold, warm, dump], args.repeat)
                first, second = take_snapshot(conn), take_snapshot(conn)
                (t_diff,) = interleaved_medians(
                    [functools.partial(diff_snapshots, first, second)], args.repeat
                )
                t_watched = watched_median(pg.connect(dbname), conn, size, args.repeat)
            pg.drop_database(dbname)
            print(
                f"{size:>7} {t_cold * 1000:>8.1f}ms {t_warm * 1000:>8.1f}ms "
                f"{t_dump * 1000:>9.1f}ms {t_dump / t_cold:>16.1f}x {t_diff * 1000:>7.1f}ms"
                f" {t_watched * 1000:>7.1f}ms"
            )


if __name__ == "__main__":
    main()
