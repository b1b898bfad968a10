"""The PostgreSQL store passes csmkit's conformance suite against a real server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from _pg_server import PgServer
from csmkit.storage import PostgresStore, TicketStore
from csmkit.testing import CustomerStoreContract, StoreContract


class TestPostgresStore(StoreContract, CustomerStoreContract):
    stateful_examples = 10

    @pytest.fixture
    def make_store(self, pg_server: PgServer) -> Callable[[], TicketStore]:
        return lambda: PostgresStore(pg_server.url(), schema=pg_server.new_schema(), pool_size=6)
