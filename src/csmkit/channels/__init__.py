"""Channels: inbound messages become threaded tickets; notifications go out.

* :class:`InboundMessage` — one immutable, channel-neutral inbound message;
* :class:`EmailParser` — RFC 5322 bytes to a message (GBK/GB18030, encoded words,
  multipart/alternative, attachments), :class:`SubjectTag` for ``[#T-42]`` tags;
* :class:`WebhookParser` — verified Standard-Webhooks requests carrying generic JSON;
* :class:`WebhookReceiver` — any provider's webhooks as configuration: a
  :class:`WebhookSignature` preset (Standard Webhooks/Svix, GitHub, Stripe, generic
  HMAC) and a :class:`PayloadMapping` from its JSON to a message;
* :class:`WeChatParser` — WeChat Official Account callbacks (URL check, safe mode,
  defused XML) keyed by OpenID; :class:`WeChatChannel` sends the customer-service
  answer after the 5-second ack;
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
from csmkit.channels._mapping import MAPPING_EXAMPLES, FieldPath, PayloadMapping
from csmkit.channels._message import Attachment, BlobStore, InboundMessage, MemoryBlobStore
from csmkit.channels._outbound import (
    DeliveryReceipt,
    EmailNotification,
    SmtpChannel,
    WebhookChannel,
    WebhookNotification,
)
from csmkit.channels._quotes import split_quoted_reply, split_signature, strip_quoted_reply
from csmkit.channels._receiver import ReplayGuard, WebhookReceiver
from csmkit.channels._reports import AutoReply, DeliveryReport, RecipientStatus
from csmkit.channels._signatures import Delivery, WebhookSignature
from csmkit.channels._webhook import WebhookParser, sign_webhook, webhook_headers
from csmkit.channels._wechat import WECHAT_ACK, WeChatMessage, WeChatParser, parse_wechat_xml
from csmkit.channels._wechat_crypto import WeChatCrypto, wechat_signature
from csmkit.channels._wechat_outbound import WeChatChannel, WeChatNotification, WeChatPlugin

__all__ = [
    "MAPPING_EXAMPLES",
    "WECHAT_ACK",
    "Attachment",
    "AutoReply",
    "BlobStore",
    "CustomerResolver",
    "Delivery",
    "DeliveryReceipt",
    "DeliveryReport",
    "EmailLimits",
    "EmailNotification",
    "EmailParser",
    "FieldPath",
    "InboundMessage",
    "Intake",
    "IntakeResult",
    "MemoryBlobStore",
    "PayloadMapping",
    "RecipientStatus",
    "ReplayGuard",
    "SmtpChannel",
    "SubjectTag",
    "WeChatChannel",
    "WeChatCrypto",
    "WeChatMessage",
    "WeChatNotification",
    "WeChatParser",
    "WeChatPlugin",
    "WebhookChannel",
    "WebhookNotification",
    "WebhookParser",
    "WebhookReceiver",
    "WebhookSignature",
    "default_ticket_id",
    "html_to_text",
    "parse_message_ids",
    "parse_wechat_xml",
    "sign_webhook",
    "split_quoted_reply",
    "split_signature",
    "strip_quoted_reply",
    "webhook_headers",
    "wechat_signature",
]
