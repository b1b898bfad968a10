"""csmkit's own default hook implementations; they run last so plugins can override."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csmkit.hookspecs import hookimpl

if TYPE_CHECKING:
    from csmkit.plugins._records import InboundMessageLike
    from csmkit.storage import TicketStore

__all__ = ["csmkit_deliver_notification", "csmkit_match_ticket"]


@hookimpl(trylast=True)
def csmkit_match_ticket(message: InboundMessageLike, store: TicketStore) -> str | None:
    """Thread a reply: the ticket of its ``in_reply_to``, else of its latest reference."""
    candidates: list[str] = []
    in_reply_to = getattr(message, "in_reply_to", None)
    if isinstance(in_reply_to, str) and in_reply_to:
        candidates.append(in_reply_to)
    references = getattr(message, "references", ()) or ()
    candidates.extend(ref for ref in reversed(tuple(references)) if isinstance(ref, str) and ref)
    for message_id in candidates:
        ticket_id = store.find_ticket_by_message_id(message_id)
        if ticket_id is not None:
            return ticket_id
    return None


@hookimpl(trylast=True)
def csmkit_deliver_notification(notification: object, channel: object) -> object | None:
    """Deliver with ``channel.send(notification)`` when the channel has a ``send`` method."""
    send = getattr(channel, "send", None)
    if callable(send):
        result: object = send(notification)
        return result
    return None
