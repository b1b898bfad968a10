"""The throwaway PostgreSQL server of the customer records tests (``tests/_pg_server.py``).

As in ``tests/storage``: locally, tests that need it are skipped with the reason when no
server can start; in CI (``CI=true``) that is an error, never a skip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from _pg_server import PgServer, in_ci, start_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A running PostgreSQL server for this test session."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        reason = f"psycopg 3 / psycopg-pool not installed ({exc}); pip install 'csmkit[postgres]'"
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        server = start_server()
    except (RuntimeError, OSError) as exc:
        reason = f"no PostgreSQL server for the tests: {exc}"
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()
