"""Shared test configuration: Hypothesis profiles, and the throwaway PostgreSQL server of
the storage and customer-records tests (``tests/_pg_server.py``): locally, tests that need
it are skipped with the reason when no server can start; in CI (``CI=true``) that is an
error, never a skip. One server serves the whole session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from _pg_server import PgServer, in_ci, start_server

settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


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
