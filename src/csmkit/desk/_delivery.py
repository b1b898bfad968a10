"""Notification delivery through the desk's channels. A delivery that fails after its
recording event is stored leaves a marker in the timeline, so a later tick (in this desk
or a restarted one) delivers it again.

Deliveries happen **outside the desk's lock**: the kernel queues a stored outcome's
notifications in its [outbox][csmkit.desk._outbox.Outbox] under the lock, and
`Deliveries.flush()` sends them afterwards, one thread at a time in the outbox's order.
A thread that finds another one sending leaves its notifications to that thread and
returns, so a slow channel holds up only the thread already waiting for it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from csmkit._jsonvalue import thaw
from csmkit._time import format_instant, parse_instant
from csmkit.automation import Notification
from csmkit.channels import SmtpChannel
from csmkit.desk._core import DeskKernel
from csmkit.errors import AutomationError, ConcurrencyError
from csmkit.timeline import Direction, Event, MessageAdded, Timeline

__all__ = ["Deliveries", "pending_deliveries", "redelivered_marker", "undelivered_marker"]

_log = logging.getLogger(__name__)

UNDELIVERED = "undelivered"
REDELIVERED = "redelivered"


def _to_dict(notification: Notification) -> dict[str, Any]:
    return {
        "channel": notification.channel,
        "to": notification.to,
        "text": notification.text,
        "subject": notification.subject,
        "survey": notification.survey,
        "at": format_instant(notification.at),
    }


def _from_dict(data: Any, ticket_id: str, rule: str) -> Notification:
    return Notification(
        channel=str(data["channel"]),
        to=str(data["to"]),
        text=str(data["text"]),
        subject=str(data.get("subject") or ""),
        survey=data.get("survey"),
        at=parse_instant(str(data["at"])),
        ticket_id=ticket_id,
        rule=rule,
    )


def _marker(notification: Notification, at: datetime, meta: dict[str, Any]) -> MessageAdded:
    """An internal event about ``notification`` with ``meta`` after its rule."""
    assert notification.ticket_id is not None
    return MessageAdded(
        ticket_id=notification.ticket_id,
        at=at,
        actor="system",
        direction=Direction.INTERNAL,
        channel=notification.channel,
        author="system",
        public=False,
        meta={"rule": notification.rule, **meta},
    )


def undelivered_marker(
    notification: Notification, error: BaseException, at: datetime
) -> MessageAdded:
    """The internal event recording that ``notification`` could not be delivered."""
    error_text = f"{type(error).__name__}: {error}"[:500]
    return _marker(notification, at, {UNDELIVERED: _to_dict(notification), "error": error_text})


def redelivered_marker(position: int, notification: Notification, at: datetime) -> MessageAdded:
    """The internal event recording that the failure at ``position`` was delivered."""
    return _marker(notification, at, {REDELIVERED: position})


def pending_deliveries(timeline: Timeline) -> list[tuple[int, Notification]]:
    """Failed deliveries of the ticket not yet delivered again: (marker position,
    notification), oldest first."""
    failed: dict[int, Notification] = {}
    for position, event in enumerate(timeline.events):
        meta = event.meta
        if UNDELIVERED in meta:
            failed[position] = _from_dict(
                thaw(meta[UNDELIVERED]), timeline.ticket_id, str(meta.get("rule", ""))
            )
        elif REDELIVERED in meta:
            failed.pop(int(thaw(meta[REDELIVERED])), None)
    return sorted(failed.items())


def _mark_redelivered(
    position: int, notification: Notification
) -> Callable[[Timeline, datetime], Sequence[Event]]:
    def make(timeline: Timeline, at: datetime) -> Sequence[Event]:
        still = any(p == position for p, _ in pending_deliveries(timeline))
        return [redelivered_marker(position, notification, at)] if still else []

    return make


class Deliveries:
    """Delivery of rule notifications, with failures recorded and retried.

    Args:
        kernel: The desk's kernel (channels, plugins, store, the command loop).
    """

    def __init__(self, kernel: DeskKernel) -> None:
        self._kernel = kernel
        # The tickets with a failed delivery not yet redelivered (known to this desk).
        self._undelivered: set[str] = set()
        # Held by the one thread sending: the outbox's order is the sending order, and
        # a failed delivery is retried by one thread only (exactly once).
        self._sending = threading.Lock()

    def flush(self) -> None:
        """Send the outbox's notifications, oldest first (a failure is recorded and
        retried by the next tick, never raised). Call it without the desk's lock held.

        When another thread is sending, return at once: that thread sends these too
        (it checks the outbox again after letting go)."""
        outbox = self._kernel.outbox
        while len(outbox):
            if not self._sending.acquire(blocking=False):
                return
            try:
                while (notification := outbox.take()) is not None:
                    self.try_deliver(notification)
            finally:
                self._sending.release()

    def watch(self, timeline: Timeline) -> None:
        """Remember ``timeline``'s ticket when it has failed deliveries (a tick's scan)."""
        if pending_deliveries(timeline):
            self._undelivered.add(timeline.ticket_id)

    def try_deliver(self, notification: Notification) -> bool:
        """Deliver; on failure record a retriable marker in the ticket's timeline
        (never raise: the operation's events are already stored)."""
        try:
            self._deliver(notification)
        except Exception as exc:
            if notification.ticket_id is None:
                raise
            self._record_failure(notification, exc)
            _log.warning(
                "ticket %s: %s notification of rule %r failed (%s); recorded, retried on the "
                "next tick",
                notification.ticket_id,
                notification.channel,
                notification.rule,
                type(exc).__name__,
            )
            return False
        _log.debug(
            "ticket %s: %s notification of rule %r delivered",
            notification.ticket_id,
            notification.channel,
            notification.rule,
        )
        return True

    def _record_failure(self, notification: Notification, error: Exception) -> None:
        ticket_id = notification.ticket_id
        assert ticket_id is not None
        kernel = self._kernel
        with kernel.lock:  # short: one append, no delivery
            for _ in range(kernel.max_retries):
                timeline = kernel.cache.load(ticket_id)
                at = max(kernel.now(), timeline.updated_at)
                marker = undelivered_marker(notification, error, at)
                due = kernel.due_mark(timeline.append(marker))  # the mark stays true
                try:
                    kernel.plugins.append_and_notify(
                        kernel.store, ticket_id, [marker], len(timeline), due=due
                    )
                except ConcurrencyError:
                    kernel.routing.invalidate()
                    continue
                kernel.cache.evict(ticket_id)  # appended past the committer
                self._undelivered.add(ticket_id)
                return
        raise ConcurrencyError(
            f"ticket {ticket_id!r} kept changing while recording a failed delivery",
            ticket_id=ticket_id,
        )

    def undelivered(self) -> tuple[Notification, ...]:
        """[`ServiceDesk.undelivered()`][csmkit.desk.ServiceDesk.undelivered]."""
        found: list[Notification] = []
        for ticket_id in self._pending_tickets():
            found.extend(n for _, n in pending_deliveries(self._kernel.cache.load(ticket_id)))
        return tuple(found)

    def redeliver(self) -> list[Notification]:
        """Retry failed deliveries; a success is recorded, a new failure is not. Waits
        for a thread sending the outbox, so no failure is retried twice."""
        with self._sending:
            return self._redeliver()

    def _redeliver(self) -> list[Notification]:
        delivered: list[Notification] = []
        for ticket_id in self._pending_tickets():
            pending = pending_deliveries(self._kernel.cache.load(ticket_id))
            left = len(pending)
            for position, notification in pending:
                try:
                    self._deliver(notification)
                except Exception as exc:
                    _log.warning(
                        "ticket %s: retry of the %s notification of rule %r failed again (%s); "
                        "retried on the next tick",
                        ticket_id,
                        notification.channel,
                        notification.rule,
                        type(exc).__name__,
                    )
                    continue  # still failing: try again on the next tick
                _log.info(
                    "ticket %s: retry of the %s notification of rule %r delivered",
                    ticket_id,
                    notification.channel,
                    notification.rule,
                )
                left -= 1
                delivered.append(notification)
                self._kernel.operation(
                    ticket_id, _mark_redelivered(position, notification), react=False
                )
            if not left:
                with self._kernel.lock:
                    self._undelivered.discard(ticket_id)
        return delivered

    def _pending_tickets(self) -> list[str]:
        with self._kernel.lock:  # the set changes under the lock (a failure, a scan)
            return sorted(self._undelivered)

    def _deliver(self, notification: Notification) -> object | None:
        channel = self._kernel.channels.get(notification.channel)
        if channel is None:
            raise AutomationError(f"no outbound channel {notification.channel!r}")
        payload: object = notification
        if isinstance(channel, SmtpChannel):
            from csmkit.channels import EmailNotification

            payload = EmailNotification(
                to=[notification.to],
                subject=notification.subject or notification.text[:60],
                text=notification.text,
                at=notification.at,
                ticket_id=notification.ticket_id,
                automatic=True,
            )
        return self._kernel.plugins.deliver_notification(payload, channel)
