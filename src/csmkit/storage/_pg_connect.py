"""Connecting to PostgreSQL: URL options, credential redaction, error mapping."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from csmkit.errors import StorageError, StoreArgumentError
from csmkit.storage._text import storable

__all__ = ["PgTarget", "check_column", "holds", "load_driver", "parse_target"]

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_OWN_OPTIONS = ("schema", "pool_size", "connect_timeout")


class PgTarget:
    """Where a PostgreSQL store lives, with its credentials kept out of every message.

    Attributes:
        conninfo: The URL handed to libpq (without csmkit's own options).
        where: A display form without password (``postgresql://user@host:port/db#schema``).
        schema: The PostgreSQL schema holding the store's tables.
        pool_size: Most connections the store's pool opens.
        connect_timeout: Seconds to wait for a connection.
    """

    __slots__ = ("_secrets", "connect_timeout", "conninfo", "pool_size", "schema", "where")

    def __init__(
        self,
        conninfo: str,
        where: str,
        secrets: tuple[str, ...],
        *,
        schema: str,
        pool_size: int,
        connect_timeout: float,
    ) -> None:
        self.conninfo = conninfo
        self.where = where
        self._secrets = secrets
        self.schema = schema
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout

    def __repr__(self) -> str:
        return f"<PgTarget {self.where}>"

    def scrub(self, text: str) -> str:
        """``text`` with every credential of the URL replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _number(name: str, value: object, *, integer: bool) -> float:
    if isinstance(value, str):
        try:
            value = int(value) if integer else float(value)
        except ValueError:
            raise StoreArgumentError(f"{name} {value!r} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StoreArgumentError(f"{name} must be a number, got {value!r}")
    if integer and not isinstance(value, int):
        raise StoreArgumentError(f"{name} must be an integer, got {value!r}")
    if value <= 0:
        raise StoreArgumentError(f"{name} must be > 0, got {value!r}")
    return value


def parse_target(url: str, options: Mapping[str, object]) -> PgTarget:
    """Split a ``postgresql://`` URL into libpq's part and csmkit's options.

    csmkit's options (query parameters or keywords; keywords win): ``schema``
    (default ``public``), ``pool_size`` (default 4) and ``connect_timeout`` (seconds,
    default 10). Every other query parameter goes to libpq unchanged.

    Raises:
        StoreArgumentError: a malformed URL or option; the message never shows the password.
    """
    if not isinstance(url, str):
        raise StoreArgumentError(f"a store URL must be a string, got {type(url).__name__}")
    scheme, _, _ = url.partition("://")
    if scheme.lower() not in ("postgresql", "postgres"):
        raise StoreArgumentError("not a postgresql:// URL")
    try:
        parts = urlsplit(url)
        password = parts.password
        username = parts.username
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise StoreArgumentError(
            f"malformed postgresql:// URL ({type(exc).__name__}; the URL is not shown "
            "because it may hold a password)"
        ) from None
    query = parse_qsl(parts.query, keep_blank_values=True)
    secrets = [s for s in (password, unquote(password or "")) if s]
    secrets.extend(value for key, value in query if key == "password" and value)
    merged: dict[str, Any] = {key: value for key, value in query if key in _OWN_OPTIONS}
    merged.update(options)
    unknown = sorted(set(options) - set(_OWN_OPTIONS))
    if unknown:
        raise StoreArgumentError(
            f"unknown option(s) {unknown} for a postgresql:// store; "
            f"known: {', '.join(_OWN_OPTIONS)} (libpq parameters go in the URL's query)"
        )
    schema = merged.get("schema", "public")
    if not isinstance(schema, str) or not _SCHEMA.match(schema):
        raise StoreArgumentError(
            f"schema must be a lower-case PostgreSQL name (letters, digits, _), got {schema!r}"
        )
    pool_size = int(_number("pool_size", merged.get("pool_size", 4), integer=True))
    timeout = _number("connect_timeout", merged.get("connect_timeout", 10), integer=False)
    rest = [(key, value) for key, value in query if key not in _OWN_OPTIONS]
    # libpq's connect_timeout is whole seconds, at least 2.
    rest.append(("connect_timeout", str(max(2, int(timeout + 0.999)))))
    conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment))
    shown_host = host or ""
    if "host" in dict(query):
        shown_host = dict(query)["host"]
    where = f"postgresql://{username + '@' if username else ''}"
    if shown_host.startswith("/"):  # a unix socket directory
        where += (parts.path or "/") + f"?host={shown_host}"
    else:
        where += shown_host + (f":{port}" if port else "") + (parts.path or "/")
    if schema != "public":
        where += f" (schema {schema})"
    for secret in secrets:
        where = where.replace(secret, "***")
    return PgTarget(
        conninfo,
        where,
        tuple(sorted(set(secrets), key=len, reverse=True)),
        schema=schema,
        pool_size=pool_size,
        connect_timeout=timeout,
    )


def holds(text: str | None) -> bool:
    """Whether PostgreSQL ``TEXT`` can hold ``text`` (UTF-8 and no NUL character)."""
    return text is None or ("\x00" not in text and storable(text))


def check_column(ticket_id: str, name: str, value: str | None) -> None:
    if value is not None and "\x00" in value:
        raise StorageError(
            f"append to ticket {ticket_id!r}: {name} {value!r} holds a NUL character, "
            "which PostgreSQL text cannot store; nothing was written"
        )


def load_driver() -> tuple[Any, Any]:
    try:
        import psycopg
        import psycopg_pool
    except ImportError as exc:
        raise StorageError(
            f"the postgresql:// store needs psycopg 3 and psycopg-pool ({exc}); "
            "install them with: pip install 'csmkit[postgres]'"
        ) from None
    return psycopg, psycopg_pool
