"""The desk's outbox: notifications of stored outcomes, in the order they were stored.

The kernel puts an outcome's notifications here **while it holds the desk's lock**, right
after the batch recording them is stored, so the outbox's order is the order in which
the events were stored (per ticket and across tickets).
[`Deliveries`][csmkit.desk._delivery.Deliveries] takes them out and sends them **after**
the lock is released: a slow channel holds up no other operation on the desk.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

from csmkit.automation import Notification

__all__ = ["Outbox"]


class Outbox:
    """A thread-safe first-in, first-out queue of notifications."""

    def __init__(self) -> None:
        self._queue: deque[Notification] = deque()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)

    def put(self, notifications: Iterable[Notification]) -> None:
        """Queue ``notifications`` after those already waiting."""
        with self._lock:
            self._queue.extend(notifications)

    def take(self) -> Notification | None:
        """The oldest waiting notification (removed), ``None`` when there is none."""
        with self._lock:
            return self._queue.popleft() if self._queue else None
