"""Channels: inbound messages become threaded tickets; notifications go out.

* [`InboundMessage`][csmkit.channels.InboundMessage] — one immutable, channel-neutral inbound
message;
* [`EmailParser`][csmkit.channels.EmailParser] — RFC 5322 bytes to a message (GBK/GB18030, encoded
  words, multipart/alternative, attachments), [`SubjectTag`][csmkit.channels.SubjectTag] for
  ``[#T-42]`` tags;
* [`WebhookParser`][csmkit.channels.WebhookParser] — verified Standard-Webhooks requests carrying
generic JSON;
* [`WebhookReceiver`][csmkit.channels.WebhookReceiver] — any provider's webhooks as configuration: a
  [`WebhookSignature`][csmkit.channels.WebhookSignature] preset (Standard Webhooks/Svix, GitHub,
  Stripe, generic HMAC) and a [`PayloadMapping`][csmkit.channels.PayloadMapping] from its JSON to a
  message;
* [`WeChatParser`][csmkit.channels.WeChatParser] — WeChat Official Account callbacks (URL check,
  safe mode, defused XML) keyed by OpenID; [`WeChatChannel`][csmkit.channels.WeChatChannel] sends
  the customer-service answer after the 5-second ack;
* [`DeliveryReport`][csmkit.channels.DeliveryReport], [`AutoReply`][csmkit.channels.AutoReply] —
  bounces (RFC 3464) and auto-replies (RFC 3834) recognised by
  [`EmailParser.parse_inbound()`][csmkit.channels.EmailParser.parse_inbound], recorded on the ticket
  they answer, never a new ticket;
* [`Intake`][csmkit.channels.Intake] — filter, thread and store messages as ticket events;
* [`SmtpChannel`][csmkit.channels.SmtpChannel], [`WebhookChannel`][csmkit.channels.WebhookChannel] —
  outbound notifications, delivered through ``PluginManager.deliver_notification``.

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
