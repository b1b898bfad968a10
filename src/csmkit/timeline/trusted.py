"""Trusted constructors: events, tickets and timelines built without validating again.

The validating constructors ([`Event`][csmkit.timeline.Event] subclasses,
[`Ticket`][csmkit.timeline.Ticket], [`Timeline`][csmkit.timeline.Timeline],
[`Timeline.from_dict()`][csmkit.timeline.Timeline.from_dict]) check every value of every
call. Code that has *already* checked its values -- a workflow that validated a move, a
decoder that checked each value's exact type, a store whose append folded the batch --
pays for those checks twice. The functions here skip what their caller vouches for, and
are what make csmkit's own fast paths fast. Each one says exactly what it checks:

* [`trusted_event()`][csmkit.timeline.trusted.trusted_event],
  [`trusted_ticket()`][csmkit.timeline.trusted.trusted_ticket] and
  [`replaced_ticket()`][csmkit.timeline.trusted.replaced_ticket] check only the field
  names (and that the fields without a default are given); the caller vouches that every
  value is what the validating constructor would store.
* [`folded_timeline()`][csmkit.timeline.trusted.folded_timeline] checks nothing; the
  caller vouches that ``ticket`` is the fold of ``base`` and ``events``.
* [`stored_events()`][csmkit.timeline.trusted.stored_events] checks every value of the
  common kinds by its exact type, and raises [`Untrusted`][csmkit.timeline.trusted.Untrusted]
  for anything it does not vouch for; the caller vouches for nothing, but must fall back
  to the validating path on ``Untrusted``.
* [`decode_timeline()`][csmkit.timeline.trusted.decode_timeline] checks everything (it
  answers as ``Timeline.from_dict``); the caller vouches for nothing.

**A wrong input gives a wrong result, not an error.** ``trusted_event``,
``trusted_ticket``, ``replaced_ticket`` and ``folded_timeline`` accept any value of any
type and build an object that breaks the invariants the rest of csmkit relies on (a
naive instant, a priority that is a string, a state that is not the fold of the events).
Use them only on values you validated yourself or took from objects that were validated.
``stored_events`` may be given damaged rows: it either returns exactly the validating
constructors' events or raises ``Untrusted`` (or the constructor's own error for a rare
kind), and the caller then decodes the rows the validating way, which names the damaged
row. ``decode_timeline`` is safe for any input.

Examples:
    >>> from datetime import datetime, timezone
    >>> from csmkit.timeline import Assigned, Ticket, TicketCreated, Timeline
    >>> at = datetime(2026, 9, 30, 9, tzinfo=timezone.utc)
    >>> created = TicketCreated(ticket_id="T-1", at=at, type="repair", channel="phone")
    >>> trusted_event(Assigned, ticket_id="T-1", at=at, agent="li.wei") == Assigned(
    ...     ticket_id="T-1", at=at, agent="li.wei")
    True
    >>> ticket = Ticket.created(created)
    >>> folded_timeline(None, [created], ticket) == Timeline([created])
    True
    >>> stored_events([created.to_dict()]) == [created]
    True
"""

from __future__ import annotations

from csmkit.timeline._events import trusted_event
from csmkit.timeline._ticket import replaced_ticket, trusted_ticket
from csmkit.timeline._timeline import folded_timeline
from csmkit.timeline._trusted import Untrusted, decode_timeline, stored_events

__all__ = [
    "Untrusted",
    "decode_timeline",
    "folded_timeline",
    "replaced_ticket",
    "stored_events",
    "trusted_event",
    "trusted_ticket",
]
