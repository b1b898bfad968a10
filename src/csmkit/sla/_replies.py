"""What counts as a reply to the customer: the one rule the SLA clock and metrics share."""

from __future__ import annotations

from datetime import datetime

from csmkit.timeline import Direction, Event, MessageAdded

__all__ = ["SYSTEM_ACTOR", "is_opening_comment", "is_public_reply"]

SYSTEM_ACTOR = "system"
"""The actor of messages csmkit (or a rule) sends by itself: never a reply."""


def is_public_reply(event: Event) -> bool:
    """Whether ``event`` is a public reply from the desk to the customer.

    A public reply is a [`MessageAdded`][csmkit.timeline.MessageAdded] going ``outbound`` with
    ``public=True`` from a person: a message whose actor is ``"system"``
    ([`SYSTEM_ACTOR`][csmkit.sla.SYSTEM_ACTOR]: an automatic acknowledgement, a rule's message)
    answers nobody, as in Zendesk's and Freshdesk's first-reply definitions. Internal notes
    (``direction="internal"``) and outbound messages marked ``public=False`` (e.g. a
    draft or a copy sent to a third party) are not: the customer never saw them. This is
    the rule the SLA clock uses to stop ``first_response``, ``next_response`` and
    ``periodic_update``, and the one [`csmkit.metrics`][csmkit.metrics] uses for first response
    times and agent replies.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from csmkit.timeline import MessageAdded
        >>> at = datetime(2026, 9, 28, 9, tzinfo=timezone.utc)
        >>> def message(direction: str) -> MessageAdded:
        ...     return MessageAdded(ticket_id="T-1", at=at, direction=direction, channel="web")
        >>> is_public_reply(message("outbound")), is_public_reply(message("internal"))
        (True, False)
        >>> automatic = MessageAdded(
        ...     ticket_id="T-1", at=at, actor="system", direction="outbound", channel="web"
        ... )
        >>> is_public_reply(automatic)
        False
    """
    return (
        isinstance(event, MessageAdded)
        and event.direction is Direction.OUTBOUND
        and event.public
        and event.actor != SYSTEM_ACTOR
    )


def is_opening_comment(event: Event, *, created_at: datetime, messages_before: int) -> bool:
    """Whether ``event`` opens a ticket an agent created, rather than answering one.

    An agent who opens a ticket for a customer (a phone call typed in, an outbound
    contact) writes its first message at the creation instant, before any other message:
    that message is the request, not a reply, so it neither stops the SLA clock's
    ``first_response`` nor counts as the ticket's first response in the metrics (Zendesk's
    rule for agent-created tickets). The SLA clock and [`csmkit.metrics`][csmkit.metrics] both ask
    this function.

    Args:
        event: An event of the timeline.
        created_at: The ticket's creation instant.
        messages_before: How many messages (any direction) precede ``event``.
    """
    return (
        messages_before == 0
        and isinstance(event, MessageAdded)
        and event.direction is Direction.OUTBOUND
        and event.at == created_at
    )
