"""WeChat Official Account (公众号) intake: URL verification, signed and encrypted XML
callbacks parsed safely, messages to [`InboundMessage`][csmkit.channels.InboundMessage] keyed by
OpenID."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from xml.etree.ElementTree import ParseError

import attrs

from csmkit._time import is_aware
from csmkit.channels._message import Attachment, InboundMessage
from csmkit.channels._receiver import ReplayGuard, logs_refusals
from csmkit.channels._wechat_crypto import WeChatCrypto, check_signature, wechat_signature
from csmkit.errors import (
    MessageFormatError,
    WebhookTimestampError,
    WebhookTooLargeError,
    WebhookVerificationError,
)

__all__ = ["WECHAT_ACK", "WeChatMessage", "WeChatParser", "parse_wechat_xml"]

_log = logging.getLogger(__name__)

WECHAT_ACK = "success"
"""The body that acknowledges a callback at once (an empty body does too): the platform
waits 5 seconds, then retries three times; answer later through the customer-service
message API ([`WeChatChannel`][csmkit.channels.WeChatChannel])."""

_MAX_ELEMENTS = 64
_MESSAGE_TYPES = frozenset(
    {"text", "image", "voice", "video", "shortvideo", "location", "link", "event"}
)


def _safe_fromstring(xml: bytes) -> Any:
    try:
        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import fromstring
    except ImportError:
        raise MessageFormatError(
            "WeChat XML is parsed with 'defusedxml' (no DTDs, no entities): "
            "pip install csmkit[wechat]"
        ) from None
    try:
        return fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MessageFormatError(
            f"WeChat XML refused: {type(exc).__name__} — DTDs and entity declarations are "
            "not allowed (entity expansion / external entity attack)"
        ) from None
    except (ParseError, ValueError) as exc:
        raise MessageFormatError(f"WeChat XML is malformed: {exc}") from None


def parse_wechat_xml(xml: bytes) -> Mapping[str, str]:
    """The child elements of a WeChat ``<xml>`` document as ``{tag: text}``.

    Parsed with ``defusedxml``: a DTD, an entity declaration (the "billion laughs"
    expansion) or an external entity is refused with one
    [`MessageFormatError`][csmkit.errors.MessageFormatError], before any expansion.

    Raises:
        MessageFormatError: malformed XML, a root other than ``<xml>``, more than 64
            elements, a refused DTD/entity, or ``defusedxml`` missing.
    """
    root = _safe_fromstring(xml)
    if root.tag != "xml":
        raise MessageFormatError(f"WeChat XML: the root element is <{root.tag}>, not <xml>")
    fields: dict[str, str] = {}
    for count, child in enumerate(root.iter()):
        if count > _MAX_ELEMENTS:
            raise MessageFormatError(f"WeChat XML: more than {_MAX_ELEMENTS} elements")
        if child is not root and child.tag not in fields and len(child) == 0:
            fields[child.tag] = child.text or ""
    return MappingProxyType(fields)


def _req(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise MessageFormatError(f"WeChat XML: <{name}> is missing or empty")
    return value


@attrs.frozen(kw_only=True)
class WeChatMessage:
    """One decrypted, verified WeChat callback.

    Attributes:
        to_user: The official account's original id (``ToUserName``, ``gh_…``).
        open_id: The customer's OpenID for this account (``FromUserName``).
        create_time: ``CreateTime`` (Unix seconds).
        msg_type: ``text``, ``image``, ``voice``, ``video``, ``shortvideo``,
            ``location``, ``link`` or ``event``.
        msg_id: ``MsgId`` (messages; events have none).
        event: ``Event`` of an event (``subscribe``, ``unsubscribe``, ``CLICK``,
            ``VIEW`` …), else ``""``.
        event_key: ``EventKey`` (the menu key, the URL of ``VIEW``), else ``""``.
        fields: Every element of the XML, by tag.
    """

    to_user: str
    open_id: str
    create_time: int
    msg_type: str
    msg_id: str | None
    event: str = ""
    event_key: str = ""
    fields: Mapping[str, str] = attrs.field(factory=dict, eq=False)

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> WeChatMessage:
        """Read the common elements.

        Raises:
            MessageFormatError: a required element missing, a non-numeric
                ``CreateTime``, an unknown ``MsgType``.
        """
        created = _req(fields, "CreateTime")
        if not created.isdigit() or len(created) > 12:
            raise MessageFormatError(
                f"WeChat XML: <CreateTime> {created[:20]!r} is not Unix seconds"
            )
        msg_type = _req(fields, "MsgType").lower()
        if msg_type not in _MESSAGE_TYPES:
            raise MessageFormatError(f"WeChat XML: unknown <MsgType> {msg_type[:20]!r}")
        msg_id = fields.get("MsgId", "").strip() or None
        if msg_type != "event" and msg_id is None:
            raise MessageFormatError(f"WeChat XML: a {msg_type} message without <MsgId>")
        return cls(
            to_user=_req(fields, "ToUserName"),
            open_id=_req(fields, "FromUserName"),
            create_time=int(created),
            msg_type=msg_type,
            msg_id=msg_id,
            event=_req(fields, "Event") if msg_type == "event" else "",
            event_key=fields.get("EventKey", "").strip() if msg_type == "event" else "",
            fields=MappingProxyType(dict(fields)),
        )

    @property
    def external_id(self) -> str:
        """The id the store de-duplicates on: ``wechat:<MsgId>``, or for events (which
        have none) ``wechat:<OpenID>:<CreateTime>:<Event>``, as the platform suggests."""
        if self.msg_id is not None:
            return f"wechat:{self.msg_id}"
        return f"wechat:{self.open_id}:{self.create_time}:{self.event}"

    def text(self) -> str:
        """What an agent reads: the text, the voice recognition, a location or link
        summary, or a ``[image]``-style marker."""
        f = self.fields
        if self.msg_type == "text":
            return f.get("Content", "")
        if self.msg_type == "voice":
            return f.get("Recognition", "").strip() or "[voice]"
        if self.msg_type == "location":
            label = f.get("Label", "").strip()
            return f"[location] {label} ({f.get('Location_X', '')}, {f.get('Location_Y', '')})"
        if self.msg_type == "link":
            parts = (f.get("Title", ""), f.get("Description", ""), f.get("Url", ""))
            return "\n".join(p.strip() for p in parts if p.strip())
        if self.msg_type == "event":
            return f"[event {self.event}] {self.event_key}".rstrip()
        return f"[{self.msg_type}]"

    def attachments(self) -> tuple[Attachment, ...]:
        """Media references (``wechat-media:<MediaId>``, or the image's ``PicUrl``);
        the bytes are fetched through the platform's media API when needed."""
        f = self.fields
        media = f.get("MediaId", "").strip()
        if self.msg_type == "image":
            ref = f.get("PicUrl", "").strip() or (f"wechat-media:{media}" if media else None)
            return (
                Attachment(
                    filename="", content_type="image/jpeg", size=0, sha256="", content_ref=ref
                ),
            )
        if self.msg_type in ("voice", "video", "shortvideo") and media:
            kind = f.get("Format", "amr").strip().lower() or "amr"
            content_type = f"audio/{kind}" if self.msg_type == "voice" else "video/mp4"
            return (
                Attachment(
                    filename="",
                    content_type=content_type,
                    size=0,
                    sha256="",
                    content_ref=f"wechat-media:{media}",
                ),
            )
        return ()

    def to_inbound(self, *, received_at: datetime) -> InboundMessage | None:
        """The channel-neutral message (sender = OpenID of kind ``wechat``), or
        ``None`` for events (subscribe, menu clicks …), which the application handles."""
        if self.msg_type == "event":
            return None
        subject = self.fields.get("Title", "").strip() if self.msg_type == "link" else ""
        return InboundMessage(
            channel="wechat",
            external_id=self.external_id,
            sender=self.open_id,
            sender_kind="wechat",
            recipients=(self.to_user,),
            subject=subject,
            text=self.text(),
            attachments=self.attachments(),
            received_at=received_at,
            headers={"x-wechat-msgtype": self.msg_type, "x-wechat-to": self.to_user},
        )


class WeChatParser:
    """Verifies and parses WeChat Official Account server callbacks.

    Framework-free: give it the query parameters (``signature``, ``timestamp``,
    ``nonce``, and in safe mode ``encrypt_type=aes`` and ``msg_signature``) and the
    raw body. Answer [`WECHAT_ACK`][csmkit.channels.WECHAT_ACK] right away; send replies later with
    [`WeChatChannel`][csmkit.channels.WeChatChannel] (the platform waits only 5 seconds).

    Every failure is one csmkit error and nothing is remembered:
    [`WebhookTooLargeError`][csmkit.errors.WebhookTooLargeError] (body over ``max_body_bytes``),
    [`WebhookSignatureError`][csmkit.errors.WebhookSignatureError] (bad ``signature`` /
    ``msg_signature``), [`WebhookTimestampError`][csmkit.errors.WebhookTimestampError]
    (``timestamp`` outside ``tolerance``), [`WebhookReplayError`][csmkit.errors.WebhookReplayError]
    (the same timestamp, nonce and signature again within the window: answer ``success``),
    [`MessageFormatError`][csmkit.errors.MessageFormatError] (malformed XML, DTDs/entities refused).

    Args:
        token: The Token set in the platform's server settings.
        app_id: The AppID (required for safe mode).
        encoding_aes_key: The 43-character EncodingAESKey (safe mode; needs the
            ``cryptography`` extra ``csmkit[wechat]``).
        tolerance: Largest distance between ``timestamp`` and ``now``; also the replay
            window.
        max_body_bytes: Largest body accepted (WeChat callbacks are a few KB).
        remember: Most requests remembered for replay protection.
    """

    def __init__(
        self,
        token: str,
        *,
        app_id: str | None = None,
        encoding_aes_key: str | None = None,
        tolerance: timedelta = timedelta(minutes=5),
        max_body_bytes: int = 64 * 1024,
        remember: int = 100_000,
    ) -> None:
        if not isinstance(token, str) or not token:
            raise WebhookVerificationError("token must be the non-empty Token of the account")
        if (
            isinstance(max_body_bytes, bool)
            or not isinstance(max_body_bytes, int)
            or max_body_bytes < 1
        ):
            raise WebhookVerificationError(f"max_body_bytes must be >= 1, got {max_body_bytes!r}")
        self.token = token
        self.app_id = app_id
        self.crypto = (
            None if encoding_aes_key is None else WeChatCrypto(encoding_aes_key, app_id or "")
        )
        self.tolerance = tolerance
        self.max_body_bytes = max_body_bytes
        self.replays = ReplayGuard(tolerance, capacity=remember)

    def __repr__(self) -> str:
        mode = "safe" if self.crypto is not None else "plain"
        return f"<WeChatParser {mode} app_id={self.app_id!r}>"

    def _timestamp(self, query: Mapping[str, str], now: datetime) -> str:
        if not isinstance(now, datetime) or not is_aware(now):
            raise WebhookVerificationError(f"now must be a timezone-aware datetime, got {now!r}")
        timestamp = str(query.get("timestamp", "")).strip()
        nonce = str(query.get("nonce", "")).strip()
        if not timestamp.isdigit() or len(timestamp) > 12 or not nonce or len(nonce) > 64:
            raise WebhookVerificationError("timestamp and nonce query parameters are required")
        skew = abs(now.timestamp() - int(timestamp))
        if skew > self.tolerance.total_seconds():
            raise WebhookTimestampError(
                f"timestamp {timestamp} is {skew:.0f} s away from now, outside the tolerance "
                f"of {self.tolerance.total_seconds():.0f} s (a replay or clock skew)"
            )
        return timestamp

    @logs_refusals("WeChat", _log)
    def verify_url(self, query: Mapping[str, str], *, now: datetime) -> str:
        """The server-URL check (GET): verify ``signature``; return ``echostr`` to echo.

        Raises:
            WebhookSignatureError, WebhookTimestampError: see the class description.
        """
        timestamp = self._timestamp(query, now)
        nonce = str(query["nonce"]).strip()
        expected = wechat_signature(self.token, timestamp, nonce)
        check_signature(expected, query.get("signature"), "signature")
        echo = str(query.get("echostr", ""))
        if not echo or len(echo) > 256:
            raise WebhookVerificationError("echostr is missing or too long")
        return echo

    @logs_refusals("WeChat", _log)
    def parse(self, query: Mapping[str, str], body: bytes, *, now: datetime) -> WeChatMessage:
        """Verify, decrypt (safe mode) and parse one POSTed callback.

        Raises:
            WebhookVerificationError: and its subclasses, see the class description.
            MessageFormatError: malformed or unsafe XML.
        """
        if not isinstance(body, (bytes, bytearray)):
            raise WebhookVerificationError(f"body must be bytes, got {type(body).__name__}")
        if len(body) > self.max_body_bytes:
            raise WebhookTooLargeError(
                f"body of {len(body)} bytes is over the limit of {self.max_body_bytes} bytes"
            )
        timestamp = self._timestamp(query, now)
        nonce = str(query["nonce"]).strip()
        encrypted = str(query.get("encrypt_type", "")).strip().lower() == "aes"
        if encrypted:
            if self.crypto is None:
                raise WebhookVerificationError(
                    "an encrypted (safe mode) callback, but no encoding_aes_key is configured"
                )
            outer = parse_wechat_xml(bytes(body))
            cipher = _req(outer, "Encrypt")
            expected = wechat_signature(self.token, timestamp, nonce, cipher)
            offered = query.get("msg_signature")
            check_signature(expected, offered, "msg_signature")
            fields = parse_wechat_xml(self.crypto.decrypt(cipher))
        else:
            offered = query.get("signature")
            check_signature(wechat_signature(self.token, timestamp, nonce), offered, "signature")
            fields = parse_wechat_xml(bytes(body))
        key = f"{timestamp}|{nonce}|{offered}"
        self.replays.check(key, now=now, what=f"callback (timestamp {timestamp}, nonce {nonce})")
        message = WeChatMessage.from_fields(fields)
        self.replays.mark(key, now=now)
        return message

    def receive(
        self, query: Mapping[str, str], body: bytes, *, now: datetime
    ) -> tuple[WeChatMessage, InboundMessage | None]:
        """[`parse()`][csmkit.channels.WeChatParser.parse], then
        [`WeChatMessage.to_inbound()`][csmkit.channels.WeChatMessage.to_inbound] (``None`` for
        events)."""
        message = self.parse(query, body, now=now)
        return message, message.to_inbound(received_at=now)
