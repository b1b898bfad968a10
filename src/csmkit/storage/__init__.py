"""Where ticket timelines live: the storage port, the memory, SQLite and PostgreSQL stores.

A store is an event store of ticket timelines (append with an expected version, load a
[`Timeline`][csmkit.timeline.Timeline]), with a small index for queries, message-id
threading and a customer directory. Open one by URL::

    store = open_store("sqlite:///desk.db")

Backends are registered through the ``csmkit_store_backends`` hook, the built-in ones
(``memory://``, ``sqlite://``, ``postgresql://``) included, so plugins add schemes the
same way. See ``docs/storage.md``.
"""

from __future__ import annotations

from csmkit.storage._copy import (
    CopyableRecords,
    CopyReport,
    copy_store,
    records_digest,
    stream_digest,
)
from csmkit.storage._memory import MemoryStore
from csmkit.storage._model import Change, Customer, Identity, TicketPage, TicketStore, TicketSummary
from csmkit.storage._open import open_store
from csmkit.storage._pg_session import postgres_session
from csmkit.storage._postgres import PostgresStore
from csmkit.storage._queries import COUNT_BY, SlaDue
from csmkit.storage._schema import SCHEMA_VERSION
from csmkit.storage._sqlite import SqliteStore
from csmkit.storage._text import check_storable

__all__ = [
    "COUNT_BY",
    "SCHEMA_VERSION",
    "Change",
    "CopyReport",
    "CopyableRecords",
    "Customer",
    "Identity",
    "MemoryStore",
    "PostgresStore",
    "SlaDue",
    "SqliteStore",
    "TicketPage",
    "TicketStore",
    "TicketSummary",
    "check_storable",
    "copy_store",
    "open_store",
    "postgres_session",
    "records_digest",
    "stream_digest",
]
