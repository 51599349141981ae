"""How fast is ``migproof guard`` on a large repository, next to ``git diff --stat``?

Reproduce (from the repository root, in the venv with migproof installed):

    python bench/guard_bench.py                      # 5000 commits, 400 models, 600 revisions
    python bench/guard_bench.py --commits 20000 --runs 21

A repository is generated with ``git fast-import`` in a temporary directory: an Alembic project
(alembic.ini, env.py importing ``app.models``) with hundreds of model files, a linear chain of
revisions, thousands of other files and thousands of commits on ``main``; then a ``feature``
branch that edits models, adds a revision on the head and touches other files. Three scenarios:

- ``with-migration``: a column added and a revision added (the whole base chain is read);
- ``without-migration``: a column added and no revision (guard fails, exit 1);
- ``refactor-only``: comment and formatting edits of models (passes).

For each: the median wall time of ``migproof guard --base main`` (a new process, as in CI), of
the library call ``guard(config, "main")`` in this process, and of ``git diff --stat
main...HEAD``; then the ratio guard / git diff --stat. Goal: median under 0.3 s, and at most 3 times
``git diff --stat``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def model_file(index: int, extra: str = "") -> str:
    return f'''"""Models, part {index}."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base


class Thing{index}(Base):
    __tablename__ = "thing_{index}"
    __table_args__ = (sa.Index("ix_thing_{index}_name", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    created_at = sa.Column(sa.DateTime, server_default=sa.func.now())
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("thing_{index}.id"))
    parent = relationship("Thing{index}", remote_side=[id])
{extra}

class Part{index}(Base):
    __tablename__ = "part_{index}"

    id: Mapped[int] = mapped_column(primary_key=True)
    thing_id: Mapped[int] = mapped_column(sa.ForeignKey("thing_{index}.id"), index=True)
    label: Mapped[str | None] = mapped_column(sa.Text)
'''


def revision_file(number: int) -> str:
    down = f'"r{number - 1:05d}"' if number else "None"
    return f'''"""revision {number}

Revision ID: r{number:05d}
Revises: {down}
"""
from alembic import op
import sqlalchemy as sa

revision = "r{number:05d}"
down_revision = {down}
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("thing_{number % 400}", sa.Column("c{number}", sa.Integer))


def downgrade():
    op.drop_column("thing_{number % 400}", "c{number}")
'''


def other_file(index: int, version: int) -> str:
    body = "\n".join(f"    total += {i} * {version}" for i in range(30))
    return f"def compute_{index}(total=0):\n{body}\n    return total\n"


class Stream:
    """A ``git fast-import`` stream written to the process as it is built."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None
        self.out = process.stdin
        self.mark = 0
        self.when = 1_700_000_000

    def commit(self, branch: str, message: str, files: dict[str, str], parent: str | None) -> int:
        self.mark += 1
        self.when += 60
        msg = message.encode()
        lines = [
            f"commit refs/heads/{branch}\nmark :{self.mark}\n".encode(),
            f"committer bench <bench@example.invalid> {self.when} +0000\n".encode(),
            f"data {len(msg)}\n".encode() + msg + b"\n",
        ]
        if parent:
            lines.append(f"from {parent}\n".encode())
        for path, text in files.items():
            data = text.encode()
            lines.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        self.out.write(b"".join(lines))
        return self.mark


def build_repository(root: Path, commits: int, models: int, revisions: int, others: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=ENV)
    process = subprocess.Popen(
        ["git", "fast-import", "--quiet"], cwd=root, stdin=subprocess.PIPE, env=ENV
    )
    stream = Stream(process)
    files = {
        "alembic.ini": "[alembic]\nscript_location = migrations\n",
        "migrations/env.py": "from alembic import context\n\nfrom app.models import Base\n\n"
        "target_metadata = Base.metadata\n",
        "migrations/script.py.mako": "# template\n",
        "app/__init__.py": "",
        "app/models/__init__.py": "from app.models.base import Base\n",
        "app/models/base.py": "from sqlalchemy.orm import DeclarativeBase\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n",
    }
    files.update({f"app/models/m{i:04d}.py": model_file(i) for i in range(models)})
    files.update({f"app/lib/mod{i:05d}.py": other_file(i, 0) for i in range(others)})
    later = min(50, revisions - 1)  # revisions added along the history, not all at once
    pending = revisions - later
    files.update(
        {f"migrations/versions/r{i:05d}_step.py": revision_file(i) for i in range(pending)}
    )
    stream.commit("main", "initial", files, None)
    every = max(1, commits // (later + 1))
    for number in range(1, commits):
        changed = {f"app/lib/mod{(number * 7) % others:05d}.py": other_file(number, number)}
        if pending < revisions and number % every == 0:
            changed[f"migrations/versions/r{pending:05d}_step.py"] = revision_file(pending)
            pending += 1
        stream.commit("main", f"change {number}", changed, None)
    while pending < revisions:
        path = f"migrations/versions/r{pending:05d}_step.py"
        stream.commit("main", f"revision {pending}", {path: revision_file(pending)}, None)
        pending += 1
    assert process.stdin is not None
    process.stdin.close()
    if process.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True, env=ENV)
    subprocess.run(["git", "gc", "-q", "--auto"], cwd=root, check=False, env=ENV)


def make_feature(root: Path, name: str, revisions: int, scenario: str) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, env=ENV, capture_output=True)

    git("checkout", "-q", "-B", name, "main")
    for index in range(40):  # ordinary work in the same pull request
        path = root / f"app/lib/mod{index:05d}.py"
        path.write_text(other_file(index, 999_999), encoding="utf-8")
    for index in range(5):
        path = root / f"app/models/m{index:04d}.py"
        if scenario == "refactor-only":
            text = model_file(index).replace('"""Models, part', '"""Models (reviewed), part')
            text = text.replace("nullable=False)", "nullable=False,  # required\n    )")
        else:
            text = model_file(index, "    email: Mapped[str | None] = mapped_column(sa.Text)\n")
        path.write_text(text, encoding="utf-8")
    if scenario == "with-migration":
        path = root / f"migrations/versions/r{revisions:05d}_email.py"
        path.write_text(revision_file(revisions), encoding="utf-8")
    git("add", "-A")
    git("commit", "-q", "-m", f"feature: {scenario}")


def median_seconds(command: list[str], cwd: Path, runs: int) -> tuple[float, int]:
    times: list[float] = []
    code = 0
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        code = result.returncode
    return statistics.median(times), code


def median_library(cwd: Path, runs: int) -> tuple[float, int]:
    from migproof.config import load_config
    from migproof.guard import guard

    times: list[float] = []
    findings = 0
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        for _ in range(runs):
            start = time.perf_counter()
            report = guard(load_config(cwd), "main")
            times.append(time.perf_counter() - start)
            findings = len(report.findings)
    finally:
        os.chdir(previous)
    return statistics.median(times), findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--models", type=int, default=400)
    parser.add_argument("--revisions", type=int, default=600)
    parser.add_argument("--others", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the generated repository")
    args = parser.parse_args()
    migproof = shutil.which("migproof") or sys.exit("migproof is not installed in this env")
    root = Path(tempfile.mkdtemp(prefix="migproof-guard-bench-"))
    try:
        start = time.perf_counter()
        build_repository(root, args.commits, args.models, args.revisions, args.others)
        count = subprocess.run(
            ["git", "rev-list", "--count", "main"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        tracked = subprocess.run(
            ["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.count("\n")
        print(
            f"repository: {count} commits, {tracked} files ({args.models} model files, "
            f"{args.revisions} revisions), built in {time.perf_counter() - start:.1f} s"
        )
        print(f"runs per measurement: {args.runs} (median)\n")
        header = f"{'scenario':<18} {'exit':>4} {'guard CLI':>10} {'guard()':>9} "
        header += f"{'git diff --stat':>16} {'CLI/diff':>9} {'guard()/diff':>13}"
        print(header)
        for scenario in ("with-migration", "without-migration", "refactor-only"):
            make_feature(root, f"feature-{scenario}", args.revisions, scenario)
            cli, code = median_seconds([migproof, "guard", "--base", "main"], root, args.runs)
            library, _ = median_library(root, args.runs)
            diff, _ = median_seconds(["git", "diff", "--stat", "main...HEAD"], root, args.runs)
            print(
                f"{scenario:<18} {code:>4} {cli:>9.3f}s {library:>8.3f}s {diff:>15.3f}s "
                f"{cli / diff:>8.1f}x {library / diff:>12.1f}x"
            )
        startup, _ = median_seconds([migproof, "--version"], root, args.runs)
        print(f"\n`migproof --version` (interpreter and CLI start-up alone): {startup:.3f}s")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
