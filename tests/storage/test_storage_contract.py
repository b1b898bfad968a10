"""The built-in stores pass csmkit's own conformance suite."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from csmkit.storage import MemoryStore, SqliteStore, TicketStore
from csmkit.testing import CustomerStoreContract, StoreContract


class TestMemoryStore(StoreContract, CustomerStoreContract):
    @pytest.fixture
    def make_store(self) -> Callable[[], TicketStore]:
        return MemoryStore


class TestSqliteFileStore(StoreContract, CustomerStoreContract):
    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Callable[[], TicketStore]:
        counter = itertools.count()
        return lambda: SqliteStore(tmp_path / f"desk-{next(counter)}.db", synchronous="normal")


class TestSqliteInMemoryStore(StoreContract, CustomerStoreContract):
    stateful_examples = 10

    @pytest.fixture
    def make_store(self) -> Callable[[], TicketStore]:
        return lambda: SqliteStore(":memory:")
