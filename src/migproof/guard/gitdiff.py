"""What changed between the merge base of REF and HEAD, read with as few git calls as possible.

Three processes at most: ``git rev-parse`` (top level, HEAD, REF and their merge base in one
call), ``git diff --name-status -z`` and one ``git cat-file --batch`` that serves every file
content and directory listing the checks ask for. A fourth, ``git grep``, only when a
changed module's Python enum changed (to find the models that use it).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from migproof.errors import SourceError

__all__ = ["Change", "GitDiff", "ObjectReader", "grep_files", "read_diff"]


@dataclass(frozen=True, slots=True)
class Change:
    """One changed path (relative to the top level, POSIX): A, M, D, T, or R/C with ``old_path``."""

    status: str
    path: str
    old_path: str | None = None


@dataclass(frozen=True, slots=True)
class GitDiff:
    """The merge base of REF and HEAD, and what HEAD changed since.

    ``ref_commit`` is REF's tip: the chain a new revision must extend is the base branch's
    as it is now, which may have moved on since the merge base.
    """

    toplevel: Path
    ref: str
    ref_commit: str
    head: str
    merge_base: str
    changes: tuple[Change, ...]


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise SourceError(
            "git is not installed or not on PATH",
            fix="install git; migproof guard reads git history",
        ) from exc


def _fetch_hint(ref: str) -> str:
    remote_ref = ref.split("/", 1)[1] if ref.startswith("origin/") else ref
    return (
        f"fetch it first: `git fetch origin {remote_ref}` (in GitHub Actions, check out with "
        "`fetch-depth: 0`)"
    )


def read_diff(cwd: Path, ref: str) -> GitDiff:
    """Resolve REF, its merge base with HEAD, and the changed paths; usage errors raise."""
    if not ref or ref.startswith("-"):
        raise SourceError(
            f"{ref!r} is not a git revision", fix="pass --base origin/main or similar"
        )
    result = _git(cwd, "rev-parse", "--show-toplevel", f"{ref}...HEAD")
    if result.returncode != 0:
        raise _rev_parse_error(result.stderr.decode(errors="replace"), ref, cwd)
    lines = result.stdout.decode().split("\n")
    toplevel, head, ref_commit = Path(lines[0]), lines[1], lines[2]
    bases = [line[1:] for line in lines[3:] if line.startswith("^")]
    if not bases:
        raise SourceError(
            f"{ref} and HEAD have no common ancestor in this clone (a shallow clone?)",
            fix=f"fetch the full history: `git fetch --unshallow origin` or {_fetch_hint(ref)}",
        )
    merge_base = bases[0]
    diff = _git(toplevel, "diff", "--name-status", "-z", "-M", "--no-ext-diff", merge_base, head)
    if diff.returncode != 0:
        message = diff.stderr.decode(errors="replace").strip()
        raise SourceError(f"git diff {ref}...HEAD failed: {message}")
    return GitDiff(
        toplevel=toplevel,
        ref=ref,
        ref_commit=ref_commit,
        head=head,
        merge_base=merge_base,
        changes=tuple(_parse_name_status(diff.stdout)),
    )


def _rev_parse_error(stderr: str, ref: str, cwd: Path) -> SourceError:
    if "dubious ownership" in stderr:
        return SourceError(
            f"git refuses to read {cwd}: the repository belongs to another user",
            fix=f"git config --global --add safe.directory {cwd}",
        )
    if "not a git repository" in stderr:
        return SourceError(
            f"{cwd} is not inside a git repository",
            fix="run migproof guard from a clone of the project",
        )
    if "unknown revision" in stderr or "bad revision" in stderr or "ambiguous argument" in stderr:
        if "HEAD" in stderr and "unknown revision" not in stderr:
            return SourceError("HEAD does not name a commit", fix="commit your changes first")
        return SourceError(f"git revision {ref!r} is not in this clone", fix=_fetch_hint(ref))
    return SourceError(f"git rev-parse failed: {stderr.strip()}")


def _parse_name_status(raw: bytes) -> list[Change]:
    fields = raw.decode("utf-8", errors="surrogateescape").split("\0")
    changes: list[Change] = []
    index = 0
    while index < len(fields) and fields[index]:
        status = fields[index][0]
        if status in "RC":
            changes.append(Change(status, fields[index + 2], fields[index + 1]))
            index += 3
        else:
            changes.append(Change(status, fields[index + 1]))
            index += 2
    return changes


def grep_files(toplevel: Path, commit: str, words: list[str]) -> list[str]:
    """Python files at a commit that contain one of these words (``git grep -w``), sorted."""
    if not words:
        return []
    patterns = [arg for word in words for arg in ("-e", word)]
    result = _git(toplevel, "grep", "-l", "-z", "-w", "-F", *patterns, commit, "--", "*.py")
    if result.returncode not in (0, 1):  # 1: nothing matched
        message = result.stderr.decode(errors="replace").strip()
        raise SourceError(f"git grep failed: {message}")
    prefix = f"{commit}:"
    names = result.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    return sorted(name.removeprefix(prefix) for name in names if name)


class ObjectReader:
    """One ``git cat-file --batch`` process answering ``<commit>:<path>`` lookups in turn."""

    def __init__(self, toplevel: Path) -> None:
        self._toplevel = toplevel
        self._process: subprocess.Popen[bytes] | None = None
        self._cache: dict[str, tuple[str, bytes] | None] = {}

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._process is not None:
            assert self._process.stdin is not None and self._process.stdout is not None
            with contextlib.suppress(BrokenPipeError):
                self._process.stdin.close()
            self._process.stdout.read()  # drain what an interrupted batch left, so git can exit
            self._process.stdout.close()
            self._process.wait()
            self._process = None

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        if self._process is None:
            self._process = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self._toplevel,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        assert self._process.stdin is not None and self._process.stdout is not None
        return self._process.stdin, self._process.stdout

    def read(self, spec: str) -> tuple[str, bytes] | None:
        """The object's type and content, or None when it does not exist."""
        if spec not in self._cache:
            self.prefetch([spec])
        return self._cache[spec]

    def prefetch(self, specs: list[str]) -> None:
        """Ask for many objects in one round trip (a writer thread, so no pipe can fill up)."""
        wanted: list[str] = []
        for spec in dict.fromkeys(specs):
            if spec in self._cache:
                continue
            if "\n" in spec:  # one request per line: git would read two names, out of step
                self._cache[spec] = None
            else:
                wanted.append(spec)
        if not wanted:
            return
        stdin, stdout = self._pipes()
        request = b"".join(s.encode("utf-8", errors="surrogateescape") + b"\n" for s in wanted)
        if len(wanted) == 1:
            stdin.write(request)
            stdin.flush()
        else:
            writer = threading.Thread(target=_write_all, args=(stdin, request), daemon=True)
            writer.start()
        for spec in wanted:
            found = _parse_header(stdout.readline())
            answer: tuple[str, bytes] | None = None
            if found is not None:
                kind, size = found
                answer = (kind, stdout.read(size))
                stdout.read(1)  # the newline after the content
            self._cache[spec] = answer
        if len(wanted) > 1:
            writer.join()

    def prefetch_texts(self, commit: str, paths: list[str]) -> None:
        self.prefetch([f"{commit}:{path}" for path in paths])

    def text(self, commit: str, path: str) -> str | None:
        """A file's text at a commit, or None when it is not there; a UTF-8 BOM is dropped."""
        found = self.read(f"{commit}:{path}")
        if found is None or found[0] != "blob":
            return None
        return found[1].decode("utf-8-sig", errors="replace")

    def list_files(self, commit: str, directory: str) -> list[str]:
        """Paths of every file under a directory at a commit, recursively (none when missing)."""
        id_length = 32 if len(commit) == 64 else 20
        files: list[str] = []
        level = [directory]
        while level:
            specs = [f"{commit}:{d}" if d else f"{commit}^{{tree}}" for d in level]
            self.prefetch(specs)
            below: list[str] = []
            for current, spec in zip(level, specs, strict=True):
                found = self._cache[spec]
                if found is None or found[0] != "tree":
                    continue
                for name, is_dir in _tree_entries(found[1], id_length):
                    path = f"{current}/{name}" if current else name
                    (below if is_dir else files).append(path)
            level = below
        return sorted(files)


def _parse_header(line: bytes) -> tuple[str, int] | None:
    """``<id> <type> <size>``: (type, size); ``<name> missing`` or ``<name> ambiguous``: None.

    The name git echoes in the second form is the request itself, spaces and all, so only
    the last word tells the two apart.
    """
    fields = line.rstrip(b"\n").split(b" ")
    if len(fields) == 3 and fields[2].isdigit():
        return fields[1].decode(), int(fields[2])
    if fields[-1] in (b"missing", b"ambiguous") and len(fields) > 1:
        return None
    raise SourceError(
        f"git cat-file --batch answered {line[:200]!r}, not an object header",
        fix="check that `git cat-file --batch` works in this repository",
    )


def _write_all(stream: IO[bytes], data: bytes) -> None:
    stream.write(data)
    stream.flush()


def _tree_entries(data: bytes, id_length: int) -> list[tuple[str, bool]]:
    """Parse a raw tree object (``<mode> <name>\\0<binary id>`` entries): (name, is_dir)."""
    entries: list[tuple[str, bool]] = []
    position = 0
    while position < len(data):
        space = data.index(b" ", position)
        nul = data.index(b"\0", space)
        name = data[space + 1 : nul].decode("utf-8", errors="surrogateescape")
        entries.append((name, data[position:space] == b"40000"))
        position = nul + 1 + id_length
    return entries
