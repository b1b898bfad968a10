"""A provider's webhook endpoint as configuration: signature preset + payload mapping,
with a body limit and replay protection."""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from csmkit.channels._mapping import PayloadMapping
from csmkit.channels._message import InboundMessage
from csmkit.channels._signatures import Delivery, WebhookSignature, signing_key
from csmkit.errors import (
    MessageFormatError,
    WebhookReplayError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookTooLargeError,
    WebhookVerificationError,
)

__all__ = ["ReplayGuard", "WebhookReceiver", "logs_refusals"]

_log = logging.getLogger(__name__)
_P = ParamSpec("_P")
_R = TypeVar("_R")

# Fixed texts: a refusal's own message can quote request data, never logged.
_REFUSALS: tuple[tuple[type[WebhookVerificationError], str], ...] = (
    (WebhookSignatureError, "signature does not match"),
    (WebhookTimestampError, "timestamp outside the tolerance"),
    (WebhookReplayError, "replay refused"),
    (WebhookTooLargeError, "body over the size limit"),
)


def logs_refusals(
    source: str, logger: logging.Logger
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Log a WARNING on ``logger`` when the wrapped receiver refuses a request.

    The record names ``source`` and the kind of refusal only: never the secret, the
    signature, the headers' values or the body.
    """

    def wrap(method: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(method)
        def logged(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return method(*args, **kwargs)
            except WebhookVerificationError as exc:
                if not getattr(exc, "_csmkit_logged", False):  # once, by the outermost call
                    setattr(exc, "_csmkit_logged", True)  # noqa: B010
                    kind = next((t for c, t in _REFUSALS if isinstance(exc, c)), "malformed")
                    logger.warning("%s request refused: %s (%s)", source, kind, type(exc).__name__)
                raise

        return logged

    return wrap


class ReplayGuard:
    """Remembers keys of accepted requests for a time window (bounded in size).

    ``check`` refuses a key seen within ``window`` of ``now``; ``mark`` records it.
    Keys older than the window are forgotten, and at most ``capacity`` keys are kept
    (the oldest go first), so memory stays bounded under a flood.

    Args:
        window: How long a key is remembered.
        capacity: Most keys kept.
    """

    def __init__(self, window: timedelta, *, capacity: int = 100_000) -> None:
        if not isinstance(window, timedelta) or window <= timedelta(0):
            raise WebhookVerificationError(
                f"replay window must be a positive timedelta: {window!r}"
            )
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise WebhookVerificationError(f"capacity must be an integer >= 1, got {capacity!r}")
        self.window = window
        self.capacity = capacity
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def _expire(self, now: datetime) -> None:
        while self._seen:
            key, at = next(iter(self._seen.items()))
            if now - at <= self.window and len(self._seen) <= self.capacity:
                break
            del self._seen[key]

    def check(self, key: str, *, now: datetime, what: str = "request") -> None:
        """Raise [`WebhookReplayError`][csmkit.errors.WebhookReplayError] if ``key`` was seen
        within the window."""
        with self._lock:
            self._expire(now)
            at = self._seen.get(key)
        if at is not None and abs(now - at) <= self.window:
            raise WebhookReplayError(
                f"{what} was already received at {at.isoformat()} (a replay within "
                f"{self.window.total_seconds():.0f} s); it is not taken in twice"
            )

    def mark(self, key: str, *, now: datetime) -> None:
        """Record ``key`` as accepted at ``now``."""
        with self._lock:
            self._seen[key] = now
            self._seen.move_to_end(key)
            self._expire(now)


def _keys(secrets: str | bytes | Sequence[str | bytes]) -> tuple[bytes, ...]:
    if isinstance(secrets, (str, bytes)):
        return (signing_key(secrets),)
    keys = tuple(signing_key(s) for s in secrets)
    if not keys:
        raise WebhookVerificationError("secrets: give at least one secret")
    return keys


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WebhookVerificationError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def decode_json(body: bytes, what: str = "body") -> Any:
    """UTF-8 JSON from untrusted bytes; every failure is one clear error.

    Raises:
        WebhookVerificationError: not UTF-8, not JSON, or nested too deeply.
    """
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise WebhookVerificationError(f"{what} is not UTF-8: {exc}") from None
    except RecursionError:
        raise WebhookVerificationError(f"{what}: JSON nested too deeply") from None
    except ValueError as exc:
        raise WebhookVerificationError(f"{what} is not JSON: {exc}") from None


class WebhookReceiver:
    """One provider's webhook endpoint: a [`WebhookSignature`][csmkit.channels.WebhookSignature]
    preset, its secrets and a [`PayloadMapping`][csmkit.channels.PayloadMapping] — a new provider is
    configuration, not code.

    [`receive()`][csmkit.channels.WebhookReceiver.receive] refuses, before any other work, a body
    over ``max_body_bytes`` ([`WebhookTooLargeError`][csmkit.errors.WebhookTooLargeError]); then
    checks the signature ([`WebhookSignatureError`][csmkit.errors.WebhookSignatureError]) and the
    signed timestamp ([`WebhookTimestampError`][csmkit.errors.WebhookTimestampError]); refuses a
    request already taken in within the replay window
    ([`WebhookReplayError`][csmkit.errors.WebhookReplayError]: answer 200); and maps the JSON into
    an [`InboundMessage`][csmkit.channels.InboundMessage]. A request is remembered only once all of
    that succeeded, so a failure leaves nothing behind.

    The replay key is the delivery id and signed timestamp (so a provider's retry,
    re-signed with a new timestamp, passes and the intake de-duplicates it by message
    id), or the signature itself for schemes without a timestamp.

    Args:
        signature: How the provider signs.
        secrets: One secret or several (rotation: any may match).
        mapping: How its JSON becomes a message.
        max_body_bytes: Largest body accepted.
        max_text_chars: Longest text value accepted.
        replay_window: How long accepted requests are remembered (default: the
            signature's timestamp tolerance).
        remember: Most requests remembered.

    Raises:
        WebhookVerificationError: a bad secret or option.
    """

    def __init__(
        self,
        signature: WebhookSignature,
        secrets: str | bytes | Sequence[str | bytes],
        mapping: PayloadMapping,
        *,
        max_body_bytes: int = 1024 * 1024,
        max_text_chars: int = 200_000,
        replay_window: timedelta | None = None,
        remember: int = 100_000,
    ) -> None:
        if not isinstance(signature, WebhookSignature):
            raise WebhookVerificationError("signature must be a WebhookSignature")
        if not isinstance(mapping, PayloadMapping):
            raise WebhookVerificationError("mapping must be a PayloadMapping")
        self.signature = signature
        self.mapping = mapping
        self._keys = _keys(secrets)
        self.max_body_bytes = _positive("max_body_bytes", max_body_bytes)
        self.max_text_chars = _positive("max_text_chars", max_text_chars)
        window = replay_window or timedelta(seconds=signature.tolerance_seconds)
        self.replays = ReplayGuard(window, capacity=_positive("remember", remember))

    def __repr__(self) -> str:
        return f"<WebhookReceiver {self.signature.scheme} → {self.mapping.channel}>"

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, secrets: str | bytes | Sequence[str | bytes]
    ) -> WebhookReceiver:
        """Build from ``{"signature": {...}, "mapping": {...}, "max_body_bytes": …}``;
        secrets are given apart so configuration files hold none.

        Raises:
            MessageFormatError: invalid configuration, naming the key.
        """
        if not isinstance(data, Mapping):
            raise WebhookVerificationError(f"a webhook receiver must be a mapping, got {data!r}")
        allowed = {"signature", "mapping", "max_body_bytes", "max_text_chars", "replay_seconds"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise WebhookVerificationError(f"webhook receiver: unknown key(s) {unknown}")
        for key in ("signature", "mapping"):
            if key not in data:
                raise WebhookVerificationError(f"webhook receiver: missing {key!r}")
        try:
            mapping = PayloadMapping.from_dict(data["mapping"])
        except MessageFormatError as exc:
            raise MessageFormatError(f"mapping: {exc}") from None
        replay = data.get("replay_seconds")
        return cls(
            WebhookSignature.from_dict(data["signature"]),
            secrets,
            mapping,
            max_body_bytes=data.get("max_body_bytes", 1024 * 1024),
            max_text_chars=data.get("max_text_chars", 200_000),
            replay_window=None
            if replay is None
            else timedelta(seconds=_positive("replay_seconds", replay)),
        )

    @logs_refusals("webhook", _log)
    def verify(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> Delivery:
        """Size, signature and timestamp checks only (nothing is remembered)."""
        if not isinstance(body, (bytes, bytearray)):
            raise WebhookVerificationError(f"body must be bytes, got {type(body).__name__}")
        if not isinstance(headers, Mapping):
            raise WebhookVerificationError("headers must be a mapping")
        if len(body) > self.max_body_bytes:
            raise WebhookTooLargeError(
                f"body of {len(body)} bytes is over the limit of {self.max_body_bytes} bytes"
            )
        return self.signature.verify(headers, bytes(body), self._keys, now=now)

    @logs_refusals("webhook", _log)
    def receive(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> InboundMessage | None:
        """Verify a request and map its JSON to a message (``received_at=now``).

        Returns:
            The message, or ``None`` when the mapping's ``match`` ignores this payload
            (an event the desk does not want; answer 200).

        Raises:
            WebhookTooLargeError: the body is over the size limit.
            WebhookSignatureError: the signature is missing or wrong.
            WebhookTimestampError: the signed timestamp is outside the tolerance.
            WebhookReplayError: the request was already taken in.
            MessageFormatError: a body that is not JSON, or that the mapping cannot
                read (naming the payload path).
        """
        delivery = self.verify(headers, body, now=now)
        key = f"{delivery.id}|{delivery.timestamp}|" + (
            delivery.signature if delivery.timestamp is None or delivery.id is None else ""
        )
        self.replays.check(key, now=now, what=f"delivery {delivery.id or delivery.signature}")
        payload = decode_json(bytes(body))
        message = self.mapping.apply(
            payload,
            received_at=now,
            default_id=delivery.id,
            max_text_chars=self.max_text_chars,
        )
        self.replays.mark(key, now=now)
        return message
