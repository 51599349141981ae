"""The walk's scratch database created while the project loads.

Loading the project (Alembic's script directory, every revision file imported, the graph
checks) needs only Python; ``CREATE DATABASE`` needs only the server, which copies files
meanwhile. ``Spare`` sends it on a thread that waits on the server for two round trips,
so the two hardly compete for the interpreter.

Only on a host that is running already (``verify(host=...)``: the pytest plugin, scripts,
the benchmarks). Starting the sandbox itself on a thread was tried and was slower: its
many small file operations each waited for the interpreter the project's imports held.
The thread is always joined before the walk starts: worker processes are forked only when
no other thread runs (``migproof.forking.can_fork``).
"""

from __future__ import annotations

import threading
from contextlib import ExitStack, suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migproof.config import Config
    from migproof.sandbox import DatabaseHost

__all__ = ["Spare"]


class Spare:
    """A scratch database on ``host``, marked for a walk: ``(name, token)`` once joined.

    >>> spare = Spare(config, host)                    # doctest: +SKIP
    >>> ...                                            # load the project meanwhile
    >>> with ExitStack() as stack:                     # doctest: +SKIP
    ...     database = spare.join(stack)               # dropped when the stack closes
    """

    def __init__(self, config: Config, host: DatabaseHost) -> None:
        self.host = host
        self.database: tuple[str, str] | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._create, args=(config,), name="migproof-spare", daemon=True
        )
        self._thread.start()

    def _create(self, config: Config) -> None:
        from migproof.chain.stepper import mark_scratch

        name: str | None = None
        try:
            name = self.host.create_database()
            self.database = (name, mark_scratch(self.host, name, config))
        except BaseException as exc:  # raised again, in the caller's thread, by join()
            self.error = exc
            if name is not None and self.database is None:  # made, but not marked
                with suppress(Exception):
                    self.host.drop_database(name)

    def join(self, stack: ExitStack) -> tuple[str, str]:
        """The database once ready, dropped when ``stack`` closes; what failed on the
        thread is raised here."""
        try:
            self._thread.join()
        finally:  # a Ctrl-C while waiting: what the thread made is still let go
            self._release(stack)
        if self.error is not None:
            raise self.error
        assert self.database is not None
        return self.database

    def discard(self) -> None:
        """Nothing is walked after all: drop it, quietly (the caller has its own news,
        which a server that cannot be reached must not replace)."""
        self._thread.join()
        with suppress(Exception), ExitStack() as stack:
            self._release(stack)

    def _release(self, stack: ExitStack) -> None:
        if self.database is not None:
            stack.callback(_drop_if_created, self.host, self.database[0])


def _drop_if_created(host: DatabaseHost, name: str) -> None:
    if name in host.created:  # a walk's clean-up may have dropped it already
        host.drop_database(name)
