"""What counts as a reply to the customer: the one rule the SLA clock and metrics share."""

from __future__ import annotations

from csmkit.timeline import Direction, Event, MessageAdded

__all__ = ["is_public_reply"]


def is_public_reply(event: Event) -> bool:
    """Whether ``event`` is a public reply from the desk to the customer.

    A public reply is a [`MessageAdded`][csmkit.timeline.MessageAdded] going ``outbound`` with
    ``public=True``. Internal notes (``direction="internal"``) and outbound messages
    marked ``public=False`` (e.g. a draft or a copy sent to a third party) are not: the
    customer never saw them. This is the rule the SLA clock uses to stop
    ``first_response``, ``next_response`` and ``periodic_update``, and the one
    [`csmkit.metrics`][csmkit.metrics] uses for first response times and agent replies.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from csmkit.timeline import MessageAdded
        >>> at = datetime(2026, 9, 28, 9, tzinfo=timezone.utc)
        >>> def message(direction: str) -> MessageAdded:
        ...     return MessageAdded(ticket_id="T-1", at=at, direction=direction, channel="web")
        >>> is_public_reply(message("outbound")), is_public_reply(message("internal"))
        (True, False)
    """
    return (
        isinstance(event, MessageAdded) and event.direction is Direction.OUTBOUND and event.public
    )
