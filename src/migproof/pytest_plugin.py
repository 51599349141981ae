"""migproof's pytest plugin (entry point ``pytest11``): inert unless its fixtures are used.

``migproof_sandbox`` is a session-scoped private PostgreSQL for the test suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from migproof.config import load_config
from migproof.sandbox import DatabaseHost, open_host


@pytest.fixture(scope="session")
def migproof_sandbox() -> Iterator[DatabaseHost]:
    """A private PostgreSQL (or scratch databases on ``database-url``) for the whole session.

    >>> def test_orders(migproof_sandbox):               # doctest: +SKIP
    ...     with migproof_sandbox.database() as name, migproof_sandbox.connect(name) as conn:
    ...         conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY)")
    """
    with open_host(load_config()) as host:
        yield host
