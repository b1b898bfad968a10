"""``LISTEN``/``NOTIFY`` wake-ups for a [`PostgresStore`][csmkit.storage.PostgresStore] ticker."""

from __future__ import annotations

import threading
import time
from typing import Any

from csmkit.errors import StorageError, StoreArgumentError
from csmkit.storage._pg_connect import PgTarget, load_driver

__all__ = ["CHANNEL", "ChangeListener"]

CHANNEL = "csmkit_changes"
"""The notification channel; every append notifies it on commit, its schema as payload."""


class ChangeListener:
    """One dedicated connection listening on [`CHANNEL`][csmkit.storage._pg_listen.CHANNEL].

    Opened on first use, reopened after a failure; a wait holds it (one waiter at a time).
    """

    def __init__(self, target: PgTarget) -> None:
        self._target = target
        self._lock = threading.Lock()
        self._connection: Any = None

    def _connect(self) -> Any:
        if self._connection is None or self._connection.closed:
            driver, _ = load_driver()
            connection = driver.connect(self._target.conninfo, autocommit=True)
            connection.execute(
                "SELECT set_config('search_path', %s, false)", (self._target.schema,)
            )
            connection.execute(f"LISTEN {CHANNEL}")
            self._connection = connection
        return self._connection

    def wait(self, after: int, timeout: float) -> int:
        """Block until the write position passes ``after`` or ``timeout`` seconds pass.

        Returns:
            The store's write position then (``> after`` when something was written).
        """
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise StoreArgumentError(f"after must be an integer >= 0, got {after!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
            raise StoreArgumentError(f"timeout must be a number of seconds >= 0, got {timeout!r}")
        driver, _ = load_driver()
        deadline = time.monotonic() + timeout
        with self._lock:
            try:
                connection = self._connect()
                position = self._position(connection)
                while position <= after:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    for _ in connection.notifies(timeout=remaining, stop_after=1):
                        pass
                    position = self._position(connection)
                return position
            except driver.Error as exc:
                self._close()
                text = str(exc).strip().replace("\n", " ") or type(exc).__name__
                raise StorageError(
                    self._target.scrub(f"wait for changes in {self._target.where}: {text}")
                ) from None

    @staticmethod
    def _position(connection: Any) -> int:
        row = connection.execute("SELECT last FROM write_position WHERE id = 1").fetchone()
        if row is None:
            raise StorageError("the write_position row is missing")
        return int(row[0])

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        """Close the listening connection (idempotent)."""
        with self._lock:
            self._close()
