"""Record every statement a revision runs, with its duration and the revision line behind it.

SQLAlchemy's cursor events on the Engine class see every engine env.py creates, sync or
async. The line is the innermost frame of the running revision file on the call stack when
the statement was sent: the ``op.`` call that emitted it.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["RecordedStatement", "StatementRecorder"]


@dataclass(frozen=True, slots=True)
class RecordedStatement:
    """One statement sent while a revision step ran."""

    revision: str
    direction: str  # "upgrade" or "downgrade"
    sql: str
    duration_ms: float
    path: Path | None
    line: int | None
    failed: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "revision": self.revision,
            "direction": self.direction,
            "sql": self.sql,
            "duration_ms": round(self.duration_ms, 3),
            "path": str(self.path) if self.path else None,
            "line": self.line,
            "failed": self.failed,
        }


class StatementRecorder:
    """Listens to SQLAlchemy's cursor events while installed; attributes them to a step."""

    def __init__(self, revision_paths: dict[str, Path]) -> None:
        self._paths = {os.path.realpath(k): v for k, v in revision_paths.items()}
        self._real: dict[str, str] = {}
        self.statements: list[RecordedStatement] = []
        self.step: tuple[str, str] | None = None
        self.last: tuple[str, Path | None, int | None] | None = None
        self._started: dict[int, float] = {}
        self._installed = False

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        if self._installed:
            return
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        event.listen(Engine, "handle_error", self._error)
        self._installed = True

    def uninstall(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        if not self._installed:
            return
        event.remove(Engine, "before_cursor_execute", self._before)
        event.remove(Engine, "after_cursor_execute", self._after)
        event.remove(Engine, "handle_error", self._error)
        self._installed = False

    def _where(self) -> tuple[Path | None, int | None]:
        frame: FrameType | None = sys._getframe(2)  # the cheapest way to walk the stack
        while frame is not None:
            filename = frame.f_code.co_filename
            real = self._real.get(filename)
            if real is None:
                real = self._real[filename] = os.path.realpath(filename)
            path = self._paths.get(real)
            if path is not None:
                return path, frame.f_lineno
            frame = frame.f_back
        return None, None

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        del conn, args
        if self.step is None:
            return
        path, line = self._where()
        self.last = (statement, path, line)
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        del conn, args
        started = self._started.pop(id(cursor), None)
        if self.step is None or started is None or self.last is None:
            return
        revision, direction = self.step
        _, path, line = self.last
        self.statements.append(
            RecordedStatement(
                revision=revision,
                direction=direction,
                sql=statement,
                duration_ms=(time.perf_counter() - started) * 1000,
                path=path,
                line=line,
            )
        )

    def _error(self, context: Any) -> None:
        cursor = getattr(context, "cursor", None)
        started = self._started.pop(id(cursor), None) if cursor is not None else None
        if self.step is None or self.last is None:
            return
        revision, direction = self.step
        statement, path, line = self.last
        elapsed = (time.perf_counter() - started) * 1000 if started else 0.0
        self.statements.append(
            RecordedStatement(
                revision=revision,
                direction=direction,
                sql=context.statement or statement,
                duration_ms=elapsed,
                path=path,
                line=line,
                failed=True,
            )
        )
