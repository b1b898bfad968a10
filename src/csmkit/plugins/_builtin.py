"""csmkit's own default hook implementations; they run last so plugins can override."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from csmkit.hookspecs import hookimpl
from csmkit.plugins._knowledge import csmkit_knowledge_stores

if TYPE_CHECKING:
    from csmkit.plugins._records import InboundMessageLike
    from csmkit.storage import TicketStore

__all__ = [
    "OWN_MESSAGE_ID_PREFIX",
    "auto_reply_reason",
    "csmkit_deliver_notification",
    "csmkit_inbound_filter",
    "csmkit_knowledge_stores",
    "csmkit_match_ticket",
]

OWN_MESSAGE_ID_PREFIX = "csmkit."
"""Local-part prefix of the Message-IDs csmkit's outbound channels generate."""

_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_SUPPRESS = frozenset({"dr", "autoreply", "all", "oof"})
_OWN_ID = re.compile(rf"^<{re.escape(OWN_MESSAGE_ID_PREFIX)}[^@<>]+@[^<>]+>$")


@hookimpl(trylast=True)
def csmkit_match_ticket(message: InboundMessageLike, store: TicketStore) -> str | None:
    """Thread a message: its ``in_reply_to``, its references newest first, its ticket tag.

    The tag (``message.ticket_ref``, e.g. from an e-mail subject ``[#T-42]``) counts only
    when that ticket exists in the store.
    """
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
    ticket_ref = getattr(message, "ticket_ref", None)
    if isinstance(ticket_ref, str) and ticket_ref and store.version(ticket_ref) > 0:
        return ticket_ref
    return None


def auto_reply_reason(headers: Mapping[str, str], external_id: str | None = None) -> str | None:
    """Why a message looks machine-generated (a loop risk), or ``None``.

    The rules of django-helpdesk and RFC 3834: ``Auto-Submitted`` other than ``no``;
    ``Precedence`` bulk, junk, list or auto_reply; ``List-Id`` or ``List-Unsubscribe``
    (mailing lists); ``X-Auto-Response-Suppress`` DR/AutoReply/All/OOF; ``X-Autoreply``
    or ``X-Autorespond``; a Message-ID csmkit generated itself (our own mail came back).

    Args:
        headers: Header values by lower-cased name.
        external_id: The message id, if known.
    """
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("list-id", "list-unsubscribe", "x-autoreply", "x-autorespond"):
        if headers.get(name, "").strip():
            return f"{name} header present"
    suppress = {
        item.strip().lower() for item in headers.get("x-auto-response-suppress", "").split(",")
    }
    if suppress & _SUPPRESS:
        return f"X-Auto-Response-Suppress: {headers['x-auto-response-suppress']}"
    if external_id is not None and _OWN_ID.match(external_id):
        return f"our own Message-ID {external_id} came back (mail loop)"
    return None


@hookimpl(trylast=True)
def csmkit_inbound_filter(message: InboundMessageLike) -> bool | None:
    """Drop auto-replies, bulk and list mail, and our own mail (see
    [`auto_reply_reason()`][csmkit.plugins.auto_reply_reason])."""
    headers = getattr(message, "headers", None)
    if not isinstance(headers, Mapping):
        return None
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    external_id = getattr(message, "external_id", None)
    reason = auto_reply_reason(lowered, external_id if isinstance(external_id, str) else None)
    return False if reason is not None else None


@hookimpl(trylast=True)
def csmkit_deliver_notification(notification: object, channel: object) -> object | None:
    """Deliver with ``channel.send(notification)`` when the channel has a ``send`` method."""
    send = getattr(channel, "send", None)
    if callable(send):
        result: object = send(notification)
        return result
    return None
