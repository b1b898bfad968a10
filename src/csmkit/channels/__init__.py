"""Channels: inbound messages become threaded tickets; notifications go out.

* :class:`InboundMessage` — one immutable, channel-neutral inbound message;
* :class:`EmailParser` — RFC 5322 bytes to a message (GBK/GB18030, encoded words,
  multipart/alternative, attachments), :class:`SubjectTag` for ``[#T-42]`` tags;
* :class:`WebhookParser` — verified Standard-Webhooks requests carrying generic JSON;
* :class:`DeliveryReport`, :class:`AutoReply` — bounces (RFC 3464) and auto-replies
  (RFC 3834) recognised by :meth:`EmailParser.parse_inbound`, recorded on the ticket
  they answer, never a new ticket;
* :class:`Intake` — filter, thread and store messages as ticket events;
* :class:`SmtpChannel`, :class:`WebhookChannel` — outbound notifications, delivered
  through ``PluginManager.deliver_notification``.

See ``docs/channels.md``.
"""

from __future__ import annotations

from csmkit.channels._email import (
    EmailLimits,
    EmailParser,
    SubjectTag,
    html_to_text,
    parse_message_ids,
)
from csmkit.channels._intake import CustomerResolver, Intake, IntakeResult, default_ticket_id
from csmkit.channels._message import Attachment, BlobStore, InboundMessage, MemoryBlobStore
from csmkit.channels._outbound import (
    DeliveryReceipt,
    EmailNotification,
    SmtpChannel,
    WebhookChannel,
    WebhookNotification,
)
from csmkit.channels._quotes import split_quoted_reply, split_signature, strip_quoted_reply
from csmkit.channels._reports import AutoReply, DeliveryReport, RecipientStatus
from csmkit.channels._webhook import WebhookParser, sign_webhook, webhook_headers

__all__ = [
    "Attachment",
    "AutoReply",
    "BlobStore",
    "CustomerResolver",
    "DeliveryReceipt",
    "DeliveryReport",
    "EmailLimits",
    "EmailNotification",
    "EmailParser",
    "InboundMessage",
    "Intake",
    "IntakeResult",
    "MemoryBlobStore",
    "RecipientStatus",
    "SmtpChannel",
    "SubjectTag",
    "WebhookChannel",
    "WebhookNotification",
    "WebhookParser",
    "default_ticket_id",
    "html_to_text",
    "parse_message_ids",
    "sign_webhook",
    "split_quoted_reply",
    "split_signature",
    "strip_quoted_reply",
    "webhook_headers",
]
