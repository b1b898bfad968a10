"""Webhook inbound: Standard-Webhooks signatures and a generic JSON message shape."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from csmkit._time import require_aware
from csmkit.channels._message import Attachment, InboundMessage
from csmkit.channels._receiver import logs_refusals
from csmkit.channels._signatures import signing_key
from csmkit.errors import (
    MessageFormatError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookVerificationError,
)

__all__ = ["WebhookParser", "sign_webhook", "webhook_headers"]

_log = logging.getLogger(__name__)

_MESSAGE_KEYS = frozenset(
    {
        "id",
        "channel",
        "sender",
        "text",
        "subject",
        "html",
        "in_reply_to",
        "references",
        "recipients",
        "ticket_id",
        "attachments",
    }
)
_SENDER_KEYS = frozenset({"kind", "value", "name"})
_ATTACHMENT_KEYS = frozenset({"filename", "content_type", "size", "sha256", "url"})


def sign_webhook(secret: str | bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature ``v1,<base64 HMAC-SHA256>`` of ``id.timestamp.body``.

    Args:
        secret: The shared secret (``whsec_<base64>`` or raw text/bytes).
        msg_id: The ``webhook-id``.
        timestamp: The ``webhook-timestamp`` (Unix seconds).
        body: The raw request body.

    Examples:
        >>> sign_webhook("s3cret", "msg_1", 1791450000, b'{}')
        'v1,...'
    """
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_headers(secret: str | bytes, msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for a request sent at ``at``.

    Raises:
        WebhookVerificationError: ``at`` is naive, or a bad secret.
    """
    require_aware(at, "at", WebhookVerificationError)
    timestamp = int(at.timestamp())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_webhook(secret, msg_id, timestamp, body),
    }


class WebhookParser:
    """Verifies and parses webhook requests carrying the generic message JSON.

    Framework-free: give it the request headers and the *raw* body bytes. Every failure
    raises [`WebhookVerificationError`][csmkit.errors.WebhookVerificationError] (map it to HTTP 400)
    and nothing is remembered; a verified request whose ``webhook-id`` (or all of whose
    message ids) were already seen returns ``[]`` (answer HTTP 200: the sender retried a
    delivery we already have). The JSON shape is documented in ``docs/channels.md``.

    Args:
        secrets: One secret or several (key rotation: any may match); ``None`` turns
            verification off (only for trusted internal callers).
        tolerance: Largest accepted distance between ``webhook-timestamp`` and ``now``.
        max_body_bytes: Largest body accepted.
        max_messages: Most messages in one request.
        max_text_chars: Longest ``text``/``html``.
        remember: How many webhook ids and message ids are kept for de-duplication
            (older ones are forgotten; the store's message-id index still catches them).
        default_channel: Channel of messages without ``"channel"``.

    Raises:
        WebhookVerificationError: a bad secret or option.
    """

    def __init__(
        self,
        secrets: str | bytes | Sequence[str | bytes] | None,
        *,
        tolerance: timedelta = timedelta(minutes=5),
        max_body_bytes: int = 1024 * 1024,
        max_messages: int = 100,
        max_text_chars: int = 200_000,
        remember: int = 100_000,
        default_channel: str = "webhook",
    ) -> None:
        if secrets is None:
            self._keys: tuple[bytes, ...] | None = None
        elif isinstance(secrets, (str, bytes)):
            self._keys = (signing_key(secrets),)
        else:
            self._keys = tuple(signing_key(s) for s in secrets)
            if not self._keys:
                raise WebhookVerificationError("secrets: give at least one secret or None")
        if not isinstance(tolerance, timedelta) or tolerance <= timedelta(0):
            raise WebhookVerificationError(f"tolerance must be a positive timedelta: {tolerance!r}")
        for name, value in (
            ("max_body_bytes", max_body_bytes),
            ("max_messages", max_messages),
            ("max_text_chars", max_text_chars),
            ("remember", remember),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise WebhookVerificationError(f"{name} must be an integer >= 1, got {value!r}")
        self._tolerance = tolerance
        self._max_body = max_body_bytes
        self._max_messages = max_messages
        self._max_text = max_text_chars
        self._remember = remember
        self._channel = default_channel
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- verification
    @logs_refusals("webhook", _log)
    def verify(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> str | None:
        """Check the signature and timestamp; return the ``webhook-id``.

        Raises:
            WebhookSignatureError: missing headers or no matching signature.
            WebhookTimestampError: a stale timestamp.
            WebhookVerificationError: a malformed timestamp.
        """
        require_aware(now, "now", WebhookVerificationError)
        lowered = {str(k).strip().lower(): str(v) for k, v in headers.items()}
        msg_id = lowered.get("webhook-id", "").strip() or None
        if self._keys is None:
            return msg_id
        missing = [
            name
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
            if not lowered.get(name, "").strip()
        ]
        if missing:
            raise WebhookSignatureError(f"missing header(s): {', '.join(missing)}")
        assert msg_id is not None
        raw_timestamp = lowered["webhook-timestamp"].strip()
        if not raw_timestamp.isdigit() or len(raw_timestamp) > 12:
            raise WebhookVerificationError(
                f"webhook-timestamp must be Unix seconds, got {raw_timestamp[:40]!r}"
            )
        timestamp = int(raw_timestamp)
        skew = abs(now.timestamp() - timestamp)
        if skew > self._tolerance.total_seconds():
            raise WebhookTimestampError(
                f"webhook-timestamp {timestamp} is {skew:.0f} s away from now, outside the "
                f"tolerance of {self._tolerance.total_seconds():.0f} s (replayed or clock skew)"
            )
        signed = f"{msg_id}.{timestamp}.".encode() + body
        offered = [
            sig.split(",", 1)[1]
            for sig in lowered["webhook-signature"].split()
            if sig.startswith("v1,")
        ]
        for key in self._keys:
            expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
            for candidate in offered:
                if hmac.compare_digest(expected, candidate.encode("ascii", "replace")):
                    return msg_id
        raise WebhookSignatureError("no webhook-signature matches (wrong secret or altered body)")

    # ----------------------------------------------------------------- parsing
    @logs_refusals("webhook", _log)
    def parse(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> list[InboundMessage]:
        """Verify a request and return its new messages (``received_at=now``).

        Args:
            headers: Request headers (any case).
            body: The raw body bytes, exactly as received.
            now: The instant of reception (timezone-aware).

        Returns:
            The messages not seen before, in body order (``[]`` for a replay).

        Raises:
            WebhookVerificationError: bad signature or timestamp, oversized or malformed
                body; nothing is remembered.
        """
        if not isinstance(body, (bytes, bytearray)):
            raise WebhookVerificationError(f"body must be bytes, got {type(body).__name__}")
        if not isinstance(headers, Mapping):
            raise WebhookVerificationError("headers must be a mapping")
        if len(body) > self._max_body:
            raise WebhookVerificationError(
                f"body of {len(body)} bytes is over the limit of {self._max_body} bytes"
            )
        msg_id = self.verify(headers, bytes(body), now=now)
        with self._lock:
            if msg_id is not None and f"w:{msg_id}" in self._seen:
                _log.warning("webhook request refused: replay of a delivery already taken in")
                return []
        try:
            data = json.loads(bytes(body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WebhookVerificationError(f"body is not UTF-8 JSON: {exc}") from None
        except RecursionError:
            raise WebhookVerificationError("body: JSON nested too deeply") from None
        items = self._items(data)
        messages = [self._message(item, f"messages[{i}]", now) for i, item in enumerate(items)]
        with self._lock:
            fresh = []
            for message in messages:
                key = f"m:{message.channel}:{message.external_id}"
                if key not in self._seen:
                    fresh.append(message)
                    self._mark(key)
            if msg_id is not None:
                self._mark(f"w:{msg_id}")
        return fresh

    def _mark(self, key: str) -> None:
        self._seen[key] = None
        self._seen.move_to_end(key)
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)

    def _items(self, data: object) -> list[Mapping[str, Any]]:
        if isinstance(data, Mapping) and set(data) == {"messages"}:
            items = data["messages"]
            if not isinstance(items, list):
                raise WebhookVerificationError("messages: expected a list")
        elif isinstance(data, Mapping):
            items = [data]
        else:
            raise WebhookVerificationError(f"body must be a JSON object, got {type(data).__name__}")
        if len(items) > self._max_messages:
            raise WebhookVerificationError(
                f"messages: {len(items)} messages, over the limit of {self._max_messages}"
            )
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise WebhookVerificationError(f"messages[{index}]: expected an object")
        return items

    def _message(self, item: Mapping[str, Any], path: str, now: datetime) -> InboundMessage:
        unknown = sorted(set(item) - _MESSAGE_KEYS)
        if unknown:
            raise WebhookVerificationError(f"{path}: unknown key(s) {unknown}")
        for required in ("id", "sender"):
            if required not in item:
                raise WebhookVerificationError(f"{path}: missing {required!r}")
        sender = item["sender"]
        if not isinstance(sender, Mapping) or not {"kind", "value"} <= set(sender):
            raise WebhookVerificationError(
                f"{path}.sender: expected {{'kind': ..., 'value': ..., 'name'?: ...}}"
            )
        if set(sender) - _SENDER_KEYS:
            raise WebhookVerificationError(
                f"{path}.sender: unknown key(s) {sorted(set(sender) - _SENDER_KEYS)}"
            )
        for name in ("text", "html"):
            value = item.get(name)
            if isinstance(value, str) and len(value) > self._max_text:
                raise WebhookVerificationError(
                    f"{path}.{name}: {len(value)} characters, over the limit of {self._max_text}"
                )
        try:
            return InboundMessage(
                channel=_text(item.get("channel", self._channel), f"{path}.channel"),
                external_id=_text(item["id"], f"{path}.id"),
                in_reply_to=item.get("in_reply_to"),
                references=_list(item.get("references", []), f"{path}.references"),
                sender=_text(sender["value"], f"{path}.sender.value"),
                sender_kind=_text(sender["kind"], f"{path}.sender.kind"),
                sender_name=sender.get("name", "") or "",
                recipients=_list(item.get("recipients", []), f"{path}.recipients"),
                subject=item.get("subject", "") or "",
                text=item.get("text", "") or "",
                html=item.get("html"),
                attachments=[
                    _attachment(a, f"{path}.attachments[{i}]")
                    for i, a in enumerate(_list(item.get("attachments", []), f"{path}.attachments"))
                ],
                received_at=now,
                headers={},
                ticket_ref=item.get("ticket_id"),
            )
        except MessageFormatError as exc:
            if isinstance(exc, WebhookVerificationError):
                raise
            raise WebhookVerificationError(f"{path}: {exc}") from None


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise WebhookVerificationError(f"{path}: expected a non-empty string, got {value!r}")
    return value.strip()


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise WebhookVerificationError(f"{path}: expected a list, got {value!r}")
    return value


def _attachment(value: object, path: str) -> Attachment:
    if not isinstance(value, Mapping):
        raise WebhookVerificationError(f"{path}: expected an object")
    unknown = sorted(set(value) - _ATTACHMENT_KEYS)
    if unknown:
        raise WebhookVerificationError(f"{path}: unknown key(s) {unknown}")
    try:
        return Attachment(
            filename=value.get("filename", ""),
            content_type=value.get("content_type", "application/octet-stream"),
            size=value.get("size", 0),
            sha256=value.get("sha256", ""),
            content_ref=value.get("url"),
        )
    except MessageFormatError as exc:
        raise WebhookVerificationError(f"{path}: {exc}") from None
