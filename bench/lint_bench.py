"""Lint a corpus of migration files with migproof and with squawk, side by side.

Reproduce (from the repository root, in the venv that has migproof and squawk-cli):

    pip install -e '.[bench]' && python bench/lint_bench.py [--files 1200] [--runs 3]

Builds a deterministic corpus of realistic migrations (tables with foreign keys, indexes
built both ways, column adds with defaults, type changes, constraints added NOT VALID and
validated, renames, drops, enums, backfills, functions and views) in a temporary directory,
then runs ``migproof lint DIR`` and ``squawk DIR/*.sql`` on the same files, each as a fresh
process, and prints the best wall time of each and their ratio.

migproof's processes get a bytecode cache (``PYTHONPYCACHEPREFIX``, a temporary directory
filled by one untimed run), as an installed package has its ``.pyc`` files: an
environment with ``PYTHONDONTWRITEBYTECODE`` set would otherwise compile migproof's sources
again in every run (about 30 ms), which no user of a ``pip install`` pays.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TYPES = [
    "bigint",
    "integer",
    "text",
    "varchar(64)",
    "timestamptz",
    "numeric(12, 2)",
    "boolean",
    "jsonb",
    "uuid",
    "date",
]
WORDS = [
    "order",
    "customer",
    "invoice",
    "payment",
    "shipment",
    "product",
    "account",
    "session",
    "event",
    "audit",
    "release",
    "identity",
    "artist",
    "track",
    "label",
    "ledger",
]


def _name(rng: random.Random, parts: int = 2) -> str:
    return "_".join(rng.choice(WORDS) for _ in range(parts))


def _create_table(rng: random.Random, tables: list[str]) -> list[str]:
    table = f"{_name(rng)}_{rng.randrange(10_000)}"
    columns = ["    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"]
    statements: list[str] = []
    for _ in range(rng.randrange(3, 12)):
        col = f"{rng.choice(WORDS)}_{rng.randrange(100)}"
        kind = rng.choice(TYPES)
        extra = rng.choice(["", " NOT NULL", " DEFAULT now()" if kind == "timestamptz" else ""])
        columns.append(f"    {col} {kind}{extra}")
    if tables and rng.random() < 0.6:
        parent = rng.choice(tables)
        columns.append(
            f"    {parent}_id bigint NOT NULL REFERENCES {parent} (id) ON DELETE CASCADE"
        )
        statements.append(f"CREATE INDEX {table}_{parent}_idx ON {table} ({parent}_id);")
    columns = list(dict.fromkeys(columns))
    tables.append(table)
    return [f"CREATE TABLE {table} (\n" + ",\n".join(columns) + "\n);", *statements]


def _alter(rng: random.Random, tables: list[str]) -> list[str]:
    if not tables:
        return []
    table = rng.choice(tables)
    col = f"{rng.choice(WORDS)}_{rng.randrange(1000)}"
    choice = rng.randrange(12)
    if choice == 0:
        return [f"ALTER TABLE {table} ADD COLUMN {col} text;"]
    if choice == 1:
        return [f"ALTER TABLE {table} ADD COLUMN {col} text NOT NULL DEFAULT 'pending';"]
    if choice == 2:
        return [f"CREATE INDEX CONCURRENTLY {table}_{col}_idx ON {table} ({col});"]
    if choice == 3:
        return [f"CREATE INDEX {table}_{col}_idx ON {table} ({col});"]
    if choice == 4:
        return [
            f"ALTER TABLE {table} ADD CONSTRAINT {table}_{col}_check CHECK (id > 0) NOT VALID;",
            f"ALTER TABLE {table} VALIDATE CONSTRAINT {table}_{col}_check;",
        ]
    if choice == 5:
        return [f"ALTER TABLE {table} ALTER COLUMN {col} TYPE bigint USING {col}::bigint;"]
    if choice == 6:
        return [f"ALTER TABLE {table} RENAME COLUMN {col} TO {col}_old;"]
    if choice == 7:
        return [f"ALTER TABLE {table} DROP COLUMN IF EXISTS {col};"]
    if choice == 8:
        return [f"UPDATE {table} SET id = id WHERE id BETWEEN {rng.randrange(1000)} AND 100000;"]
    if choice == 9:
        values = ", ".join(f"('{_name(rng)}', {rng.randrange(100)})" for _ in range(20))
        return [f"INSERT INTO lookup_{rng.randrange(50)} (name, rank) VALUES {values};"]
    if choice == 10:
        return [
            f"CREATE OR REPLACE FUNCTION {table}_touch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n$$;",
            f"CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table}\n"
            f"    FOR EACH ROW EXECUTE FUNCTION {table}_touch();",
        ]
    return [
        f"CREATE OR REPLACE VIEW {table}_recent AS\n"
        f"    SELECT * FROM {table} WHERE id > 1000 ORDER BY id DESC LIMIT 100;"
    ]


def _migration(rng: random.Random, tables: list[str], number: int) -> str:
    statements = [f"-- migration {number}: {_name(rng, 3)}"]
    if rng.random() < 0.7:
        statements.append("SET lock_timeout = '2s';")
    if rng.random() < 0.15:
        statements.append(f"CREATE TYPE status_{number} AS ENUM ('new', 'active', 'done');")
    for _ in range(rng.randrange(1, 4)):
        statements.extend(_create_table(rng, tables))
    for _ in range(rng.randrange(2, 10)):
        statements.extend(_alter(rng, tables))
    return "\n".join(statements) + "\n"


def build_corpus(directory: Path, count: int, seed: int = 20240501) -> list[Path]:
    rng = random.Random(seed)
    tables: list[str] = []
    files = []
    for number in range(1, count + 1):
        path = directory / f"{number:05d}_{_name(rng)}.sql"
        path.write_text(_migration(rng, tables, number), encoding="utf-8")
        files.append(path)
    return files


def _time_pair(
    ours: list[str], theirs: list[str], runs: int, env: dict[str, str]
) -> tuple[list[float], list[float]]:
    """Alternate the two commands so load from other processes hits both alike."""
    our_times: list[float] = []
    their_times: list[float] = []
    for command in (ours, theirs):  # untimed: fills migproof's bytecode cache, warms the disk
        subprocess.run(command, capture_output=True, check=False, env=env)
    for _ in range(runs):
        for command, times in ((ours, our_times), (theirs, their_times)):
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False, env=env)
            times.append(time.perf_counter() - start)
    return our_times, their_times


def _timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False, env=env)
    return time.perf_counter() - start


def _with_bytecode_cache(directory: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(directory))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _in_process(directory: Path, runs: int) -> tuple[float, float]:
    """migproof's lint time without interpreter start-up and imports (best of ``runs``):
    as it runs (on two cores for a corpus this large), and kept to one process."""
    from migproof.config import Config
    from migproof.lint import lint_paths, parallel

    config = Config(root=directory)
    lint_paths([directory], config)  # imports, registry
    times: dict[bool, list[float]] = {True: [], False: []}
    threshold = parallel.MIN_SQL
    try:
        for _ in range(runs):
            for split in (True, False):
                parallel.MIN_SQL = threshold if split else sys.maxsize
                start = time.perf_counter()
                lint_paths([directory], config)
                times[split].append(time.perf_counter() - start)
    finally:
        parallel.MIN_SQL = threshold
    return min(times[True]), min(times[False])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    squawk = shutil.which("squawk")
    migproof = shutil.which("migproof")
    if squawk is None or migproof is None:
        print("needs `migproof` and `squawk` on PATH: pip install -e '.[bench]'")
        return 2
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as pycache:
        directory = Path(tmp)
        files = build_corpus(directory, args.files)
        statements = sum(p.read_text().count(";\n") for p in files)
        size = sum(p.stat().st_size for p in files)
        print(f"corpus: {len(files)} files, ~{statements} statements, {size / 1e6:.1f} MB")
        env = _with_bytecode_cache(Path(pycache))
        our_times, their_times = _time_pair(
            [
                migproof,
                "lint",
                "--format",
                "json",
                "--output",
                str(directory / "out.json"),
                str(directory),
            ],
            [squawk, "--reporter", "json", *map(str, files)],
            args.runs,
            env,
        )
        startup = min(
            _timed([sys.executable, "-c", "import migproof.cli"], env) for _ in range(args.runs)
        )
        in_process, one_process = _in_process(directory, args.runs)
    ours, theirs = min(our_times), min(their_times)
    print(f"migproof lint: best {ours:.2f} s, median {statistics.median(our_times):.2f} s")
    print(
        f"  of which start-up (import migproof.cli): {startup:.2f} s;"
        f" linting in-process: {in_process:.2f} s ({one_process:.2f} s in one process)"
    )
    print(f"squawk:        best {theirs:.2f} s, median {statistics.median(their_times):.2f} s")
    verdict = "not slower" if ours <= theirs else "slower"
    print(f"ratio migproof/squawk (best of {args.runs}): {ours / theirs:.2f} ({verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
