"""The built-in storage backends, registered through the same hook as plugin backends."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote

from csmkit.errors import StoreArgumentError
from csmkit.hookspecs import hookimpl
from csmkit.plugins import StoreBackend
from csmkit.storage._memory import MemoryStore
from csmkit.storage._postgres import PostgresStore
from csmkit.storage._sqlite import SqliteStore

__all__ = [
    "csmkit_store_backends",
    "open_memory_store",
    "open_postgres_store",
    "open_sqlite_store",
]


def open_memory_store(url: str, **options: object) -> MemoryStore:
    """Open ``memory://`` (always a new, empty store)."""
    if url.rstrip("/").lower() != "memory:":
        raise StoreArgumentError(f"{url!r}: a memory store URL is just 'memory://'")
    if options:
        raise StoreArgumentError(f"memory stores take no options, got {sorted(options)}")
    return MemoryStore()


def open_sqlite_store(url: str, **options: object) -> SqliteStore:
    """Open ``sqlite:///path/to/desk.db`` (path relative to the working directory),
    ``sqlite:////abs/path/desk.db`` or ``sqlite://`` (an in-memory database).

    Query parameters and keyword options: ``busy_timeout`` (seconds),
    ``synchronous`` (``full``/``normal``/``off``/``extra``) and ``mode`` (``rw``, the
    default, or ``ro``: read-only, every write is a ``StorageError``); keyword options
    win.
    """
    prefix = "sqlite://"
    if url[: len(prefix)].lower() != prefix:
        raise StoreArgumentError(f"{url!r} is not a sqlite:// URL")
    rest, _, query = url[len(prefix) :].partition("?")
    if rest in ("", "/", "/:memory:"):
        path = ":memory:"
    elif rest.startswith("/"):
        path = unquote(rest[1:])
    else:
        raise StoreArgumentError(
            f"{url!r}: write sqlite:///relative/path.db or sqlite:////absolute/path.db "
            "(three slashes, then the path)"
        )
    merged: dict[str, object] = dict(parse_qsl(query, keep_blank_values=True))
    merged.update(options)
    unknown = sorted(set(merged) - {"busy_timeout", "synchronous", "mode"})
    if unknown:
        raise StoreArgumentError(
            f"{url!r}: unknown option(s) {unknown}; known: busy_timeout, synchronous, mode"
        )
    mode = merged.get("mode", "rw")
    if mode not in ("ro", "rw"):
        raise StoreArgumentError(f"{url!r}: mode must be 'ro' (read-only) or 'rw', got {mode!r}")
    timeout = merged.get("busy_timeout", 5.0)
    if isinstance(timeout, str):
        try:
            timeout = float(timeout)
        except ValueError:
            raise StoreArgumentError(f"{url!r}: busy_timeout {timeout!r} is not a number") from None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise StoreArgumentError(f"busy_timeout must be a number of seconds, got {timeout!r}")
    synchronous = merged.get("synchronous", "full")
    if not isinstance(synchronous, str):
        raise StoreArgumentError(f"synchronous must be a string, got {synchronous!r}")
    return SqliteStore(
        path, busy_timeout=timeout, synchronous=synchronous.lower(), read_only=mode == "ro"
    )


def open_postgres_store(url: str, **options: object) -> PostgresStore:
    """Open ``postgresql://user:password@host:port/dbname`` (any libpq URL).

    Query parameters and keyword options: ``schema`` (the PostgreSQL schema of the
    tables, default ``public``), ``pool_size`` (default 4) and ``connect_timeout``
    (seconds, default 10); keyword options win, other query parameters go to libpq.
    Needs the ``postgres`` extra (psycopg 3, psycopg-pool).
    """
    return PostgresStore(url, **options)


@hookimpl
def csmkit_store_backends() -> Iterable[StoreBackend]:
    """The ``memory``, ``sqlite`` and ``postgresql`` backends."""
    return [
        StoreBackend("memory", open_memory_store, "in-process memory (tests, the reference)"),
        StoreBackend("sqlite", open_sqlite_store, "SQLite file, WAL mode (embedded default)"),
        StoreBackend(
            "postgresql", open_postgres_store, "PostgreSQL server (extra 'postgres', psycopg 3)"
        ),
    ]
