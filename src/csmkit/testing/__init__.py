"""Conformance suites for store and plugin authors (needs the ``testing`` extra).

Subclass the ``*Contract`` classes in your own test modules (pytest does not collect
them on their own because their names do not start with ``Test``)::

    import pytest
    from csmkit.testing import CustomerStoreContract, StoreContract

    class TestMyStore(StoreContract, CustomerStoreContract):
        @pytest.fixture
        def make_store(self, tmp_path):
            counter = iter(range(10**6))
            return lambda: MyStore(tmp_path / f"desk-{next(counter)}.db")

Importing `csmkit` never imports this package, so ``pytest`` and ``hypothesis``
stay optional. See ``docs/testing-plugins.md``.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite(
    "csmkit.testing._contracts",
    "csmkit.testing._knowledge",
    "csmkit.testing._position_contract",
    "csmkit.testing._query_contract",
    "csmkit.testing._records_contract",
    "csmkit.testing._stateful",
    "csmkit.testing._text_contract",
)

from csmkit.testing._contracts import (  # noqa: E402
    CustomerStoreContract,
    PluginContract,
    StoreContract,
)
from csmkit.testing._knowledge import KnowledgeStoreContract  # noqa: E402
from csmkit.testing._records_contract import CustomerRecordsContract  # noqa: E402
from csmkit.testing._scenario import ACTIONS, OFFSETS, T0, created, next_event  # noqa: E402
from csmkit.testing._stateful import run_store_state_machine, store_state_machine  # noqa: E402

__all__ = [
    "ACTIONS",
    "OFFSETS",
    "T0",
    "CustomerRecordsContract",
    "CustomerStoreContract",
    "KnowledgeStoreContract",
    "PluginContract",
    "StoreContract",
    "created",
    "next_event",
    "run_store_state_machine",
    "store_state_machine",
]
