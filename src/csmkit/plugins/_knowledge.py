"""The built-in knowledge stores, registered through ``csmkit_knowledge_stores``."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

from csmkit.errors import StoreArgumentError
from csmkit.hookspecs import hookimpl
from csmkit.knowledge import MemoryKnowledgeStore, SqliteKnowledgeStore
from csmkit.plugins._records import StoreBackend

__all__ = ["csmkit_knowledge_stores", "open_memory_knowledge_store", "open_sqlite_knowledge_store"]


def open_memory_knowledge_store(url: str, **options: object) -> MemoryKnowledgeStore:
    """Open ``memory://`` (always a new, empty knowledge store)."""
    if url.rstrip("/") != "memory:" or options:
        raise StoreArgumentError(f"{url!r}: a memory knowledge store is just 'memory://'")
    return MemoryKnowledgeStore()


def open_sqlite_knowledge_store(url: str, **options: object) -> SqliteKnowledgeStore:
    """Open ``sqlite:///relative/kb.db``, ``sqlite:////abs/kb.db`` or ``sqlite://``."""
    prefix = "sqlite://"
    if not url.startswith(prefix) or "?" in url or options:
        raise StoreArgumentError(f"{url!r}: write sqlite:///path/kb.db (no options)")
    rest = url[len(prefix) :]
    if rest in ("", "/", "/:memory:"):
        return SqliteKnowledgeStore(":memory:")
    if not rest.startswith("/"):
        raise StoreArgumentError(f"{url!r}: three slashes, then the path (sqlite:///kb.db)")
    return SqliteKnowledgeStore(unquote(rest[1:]))


@hookimpl
def csmkit_knowledge_stores() -> Iterable[StoreBackend]:
    """The ``memory`` and ``sqlite`` knowledge stores."""
    return [
        StoreBackend("memory", open_memory_knowledge_store, "in-process memory knowledge store"),
        StoreBackend("sqlite", open_sqlite_knowledge_store, "articles as JSON rows in SQLite"),
    ]
