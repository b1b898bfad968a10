"""The desk's questions to a store: the SLA due mark a batch carries, and the validated
arguments of ``due_before`` / ``count_tickets``.

A store folds every batch into the ticket's state, so it knows each ticket's status
category, assignee, group and type by itself. What it cannot know is when the ticket's
SLA falls due: that needs the desk's policies and business calendar. The desk therefore
hands the store one [`SlaDue`][csmkit.storage.SlaDue] (or ``None``) with every batch it
appends (``store.append(..., due=...)``); the store writes it in the same transaction as
the events, so the due index never describes a state that was not committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from csmkit._time import format_instant, parse_instant, require_aware
from csmkit.errors import StoreArgumentError

__all__ = [
    "COUNT_BY",
    "SlaDue",
    "check_count_by",
    "check_due",
    "check_set_due",
    "sorted_counts",
]

COUNT_BY: tuple[str, ...] = ("assignee", "category", "group", "priority", "status", "type")
"""The ticket attributes [`count_tickets()`][csmkit.storage.TicketStore.count_tickets] groups by."""


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    require_aware(value, f"SlaDue.{attribute.name}", StoreArgumentError)


def _target(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise StoreArgumentError(f"SlaDue.target must be a non-empty string, got {value!r}")


@attrs.frozen(kw_only=True)
class SlaDue:
    """When a ticket's SLA next falls due, as the desk computed it for a committed state.

    The desk evaluates the ticket's SLA policy on the timeline it is about to append and
    passes the earliest due instant of a running (not paused, not finished) cycle; a
    ticket without one (solved, paused, no policy) is appended with ``due=None``. The
    instant may be in the past (the cycle is breached and still running): the ticket is
    then overdue, and ``due_before(now)`` lists it.

    Attributes:
        at: The due instant (timezone-aware; kept with its original offset).
        target: The SLA target falling due then (``"first_response"``, ``"resolution"`` …).

    Examples:
        >>> from datetime import datetime, timezone
        >>> due = SlaDue(at=datetime(2026, 10, 8, 11, 0, tzinfo=timezone.utc),
        ...              target="first_response")
        >>> SlaDue.from_dict(due.to_dict()) == due
        True
    """

    at: datetime = attrs.field(validator=_aware)
    target: str = attrs.field(validator=_target)

    def to_dict(self) -> dict[str, str]:
        """``{"at": ISO 8601 with offset, "target": ...}``."""
        return {"at": format_instant(self.at), "target": self.target}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaDue:
        """Rebuild from [`to_dict()`][csmkit.storage.SlaDue.to_dict] output.

        Raises:
            StoreArgumentError: not exactly ``at`` and ``target``, or bad values.
        """
        if not isinstance(data, Mapping) or set(data) != {"at", "target"}:
            raise StoreArgumentError(f"an SLA due needs exactly the keys at, target; got {data!r}")
        at = data["at"]
        if isinstance(at, str):
            try:
                at = parse_instant(at)
            except ValueError as exc:
                raise StoreArgumentError(f"SlaDue.at: {exc}") from None
        return cls(at=at, target=data["target"])


def check_due(due: object) -> SlaDue | None:
    """Validate the ``due`` argument of ``append`` / ``set_due``.

    Raises:
        StoreArgumentError: neither an [`SlaDue`][csmkit.storage.SlaDue] nor ``None``.
    """
    if due is None or isinstance(due, SlaDue):
        return due
    raise StoreArgumentError(f"due must be an SlaDue or None, got {type(due).__name__} {due!r}")


def check_set_due(
    ticket_id: object, due: object, version: object
) -> tuple[str, SlaDue | None, int]:
    """Validate the arguments of ``set_due``.

    Raises:
        StoreArgumentError: a bad ticket id, due or version.
    """
    if not isinstance(ticket_id, str) or not ticket_id:
        raise StoreArgumentError(f"ticket_id must be a non-empty string, got {ticket_id!r}")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise StoreArgumentError(f"version must be an integer >= 1, got {version!r}")
    return ticket_id, check_due(due), version


def check_count_by(by: object) -> str:
    """Validate the ``by`` argument of ``count_tickets``.

    Raises:
        StoreArgumentError: not one of [`COUNT_BY`][csmkit.storage.COUNT_BY].
    """
    if by not in COUNT_BY:
        raise StoreArgumentError(f"count_tickets(by={by!r}): expected one of {', '.join(COUNT_BY)}")
    return str(by)


def sorted_counts(
    counts: Mapping[str | None, int] | Iterable[tuple[str | None, int]],
) -> dict[str | None, int]:
    """``{value: count}`` sorted by value, ``None`` first, zero counts dropped."""
    items = counts.items() if isinstance(counts, Mapping) else counts
    kept = [(value, count) for value, count in items if count]
    return dict(sorted(kept, key=lambda item: (item[0] is not None, item[0] or "")))
