"""Webhook signature schemes as data: Standard Webhooks (``webhook-*``/``svix-*``),
GitHub, Stripe-style timestamped signatures and a generic HMAC header."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from csmkit._time import is_aware
from csmkit.errors import (
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookVerificationError,
)

__all__ = ["Delivery", "WebhookSignature", "signing_key"]

SCHEMES = ("standard-webhooks", "github", "stripe", "hmac")
_ALGORITHMS = ("sha1", "sha256", "sha512")
_ENCODINGS = ("hex", "base64")
_MAX_SIGNATURES = 16  # several signatures are allowed (key rotation), not thousands
_MAX_HEADER = 4096


def signing_key(secret: str | bytes) -> bytes:
    """The HMAC key of a secret: ``whsec_<base64>`` is decoded (Standard Webhooks);
    any other text is used as its UTF-8 bytes, bytes as they are.

    Raises:
        WebhookVerificationError: an empty secret or a ``whsec_`` secret that is not
            base64.
    """
    if isinstance(secret, bytes):
        if not secret:
            raise WebhookVerificationError("a webhook secret must not be empty")
        return secret
    if not isinstance(secret, str) or not secret:
        raise WebhookVerificationError("a webhook secret must be a non-empty str or bytes")
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[6:], validate=True)
        except (binascii.Error, ValueError):
            raise WebhookVerificationError("a 'whsec_' secret must be base64") from None
    return secret.encode("utf-8")


@attrs.frozen
class Delivery:
    """What a verified signature vouches for.

    Attributes:
        id: The provider's delivery id (``webhook-id``, ``X-GitHub-Delivery``), or
            ``None`` when the scheme carries none.
        timestamp: The signed Unix timestamp, or ``None`` when the scheme signs none.
        signature: The signature that matched (part of the replay key).
    """

    id: str | None
    timestamp: int | None
    signature: str


def _choice(options: tuple[str, ...]) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in options:
            raise WebhookVerificationError(
                f"signature.{attribute.name}: {value!r} is not one of {', '.join(options)}"
            )

    return check


def _header_name(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.name == "id_header":
        return
    if not isinstance(value, str) or not value.strip() or any(c in value for c in ":\r\n "):
        raise WebhookVerificationError(
            f"signature.{attribute.name}: {value!r} is not an HTTP header name"
        )


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _tolerance(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WebhookVerificationError(
            f"signature.tolerance_seconds must be an integer >= 1, got {value!r}"
        )


def _prefixes(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise WebhookVerificationError(
            f"signature.header_prefixes must be a non-empty list, got {value!r}"
        )
    out = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or ":" in item:
            raise WebhookVerificationError(
                f"signature.header_prefixes: {item!r} is not a header name prefix"
            )
        out.append(item.strip().lower())
    return tuple(out)


@attrs.frozen(kw_only=True)
class WebhookSignature:
    """How one provider signs its webhook requests; build it with a preset or from data.

    Presets: [`standard()`][csmkit.channels.WebhookSignature.standard] (Standard Webhooks,
        ``webhook-*`` and Svix's ``svix-*``
    header names), [`github()`][csmkit.channels.WebhookSignature.github] (``X-Hub-Signature-256``),
    [`stripe()`][csmkit.channels.WebhookSignature.stripe] (``Stripe-Signature: t=…,v1=…``) and
    [`hmac()`][csmkit.channels.WebhookSignature.hmac] (any ``HMAC(secret, body)`` header). Every
    comparison is constant-time (`hmac.compare_digest()`) over the raw body bytes.

    Attributes:
        scheme: ``"standard-webhooks"``, ``"github"``, ``"stripe"`` or ``"hmac"``.
        header: The signature header (lower-cased; unused by ``standard-webhooks``).
        id_header: The header carrying the delivery id, or ``None``.
        algorithm: ``sha256`` (``sha1``/``sha512`` for ``hmac``).
        encoding: ``hex`` or ``base64`` (``hmac`` only; the other schemes fix it).
        prefix: Text before the digest in the header (``"sha256="``).
        tolerance_seconds: Largest distance between the signed timestamp and ``now``
            (``standard-webhooks``, ``stripe``).
        header_prefixes: Header-name prefixes tried in order (``standard-webhooks``).

    Examples:
        >>> WebhookSignature.github().to_dict()["header"]
        'x-hub-signature-256'
        >>> WebhookSignature.from_dict({"scheme": "stripe"}) == WebhookSignature.stripe()
        True
    """

    scheme: str = attrs.field(validator=_choice(SCHEMES))
    header: str = attrs.field(default="webhook-signature", converter=_lower)
    id_header: str | None = attrs.field(default=None, converter=_lower)
    algorithm: str = attrs.field(default="sha256", validator=_choice(_ALGORITHMS))
    encoding: str = attrs.field(default="hex", validator=_choice(_ENCODINGS))
    prefix: str = attrs.field(default="")
    tolerance_seconds: int = attrs.field(default=300, validator=_tolerance)
    header_prefixes: tuple[str, ...] = attrs.field(
        default=("webhook-", "svix-"), converter=_prefixes
    )

    def __attrs_post_init__(self) -> None:
        _header_name(self, attrs.fields(type(self)).header, self.header)
        _header_name(self, attrs.fields(type(self)).id_header, self.id_header)
        if not isinstance(self.prefix, str) or any(c in self.prefix for c in "\r\n"):
            raise WebhookVerificationError(f"signature.prefix: {self.prefix!r} is not text")
        if self.scheme != "hmac" and self.algorithm != "sha256":
            raise WebhookVerificationError(
                f"signature.algorithm: {self.scheme} signs with sha256, not {self.algorithm}"
            )

    # ------------------------------------------------------------------ presets
    @classmethod
    def standard(
        cls, *, tolerance_seconds: int = 300, header_prefixes: Sequence[str] = ("webhook-", "svix-")
    ) -> WebhookSignature:
        """Standard Webhooks: ``<prefix>id``, ``<prefix>timestamp`` and
        ``<prefix>signature`` headers (prefix ``webhook-``, or ``svix-`` as Svix sends
        them); space-separated ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``; secrets
        as ``whsec_<base64>``."""
        return cls(
            scheme="standard-webhooks",
            encoding="base64",
            prefix="v1,",
            tolerance_seconds=tolerance_seconds,
            header_prefixes=tuple(header_prefixes),
        )

    @classmethod
    def github(cls) -> WebhookSignature:
        """GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`` and
        ``X-GitHub-Delivery`` as the delivery id (GitHub signs no timestamp)."""
        return cls(
            scheme="github",
            header="x-hub-signature-256",
            id_header="x-github-delivery",
            prefix="sha256=",
        )

    @classmethod
    def stripe(cls, *, tolerance_seconds: int = 300) -> WebhookSignature:
        """Stripe-style: ``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
        t.body>[,v1=…]``; the secret (``whsec_…``) is used as text, as Stripe does."""
        return cls(scheme="stripe", header="stripe-signature", tolerance_seconds=tolerance_seconds)

    @classmethod
    def hmac(
        cls,
        header: str,
        *,
        algorithm: str = "sha256",
        encoding: str = "hex",
        prefix: str = "",
        id_header: str | None = None,
    ) -> WebhookSignature:
        """Any provider that sends ``<prefix><digest>`` of ``HMAC(secret, body)`` in
        one header (e.g. ``X-Signature: sha1=…``)."""
        return cls(
            scheme="hmac",
            header=header,
            algorithm=algorithm,
            encoding=encoding,
            prefix=prefix,
            id_header=id_header,
        )

    # ------------------------------------------------------------------ data form
    def to_dict(self) -> dict[str, Any]:
        """Plain data; [`from_dict()`][csmkit.channels.WebhookSignature.from_dict] rebuilds an equal
        object."""
        data = attrs.asdict(self)
        data["header_prefixes"] = list(self.header_prefixes)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WebhookSignature:
        """Build from data: ``{"scheme": "github"}`` gives the preset; other keys
        override it (``{"scheme": "hmac", "header": "X-Signature", "prefix": "sha1=",
        "algorithm": "sha1"}``).

        Raises:
            WebhookVerificationError: unknown keys or invalid values, naming the key.
        """
        if not isinstance(data, Mapping):
            raise WebhookVerificationError(f"signature must be a mapping, got {data!r}")
        names = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise WebhookVerificationError(f"signature: unknown key(s) {unknown}")
        scheme = data.get("scheme")
        if scheme not in SCHEMES:
            raise WebhookVerificationError(
                f"signature.scheme: {scheme!r} is not one of {', '.join(SCHEMES)}"
            )
        if scheme == "hmac":
            if "header" not in data:
                raise WebhookVerificationError("signature.header: the hmac scheme needs one")
            return cls(**dict(data))
        base = {
            "standard-webhooks": cls.standard,
            "github": cls.github,
            "stripe": cls.stripe,
        }[scheme]().to_dict()
        base.update(data)
        return cls(**base)

    # ------------------------------------------------------------------ verification
    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        keys: Sequence[bytes],
        *,
        now: datetime,
    ) -> Delivery:
        """Check a request's signature (any key may match) and timestamp.

        Args:
            headers: Request headers (any case).
            body: The raw body bytes, exactly as received.
            keys: HMAC keys (see `signing_key()`).
            now: The instant of reception (timezone-aware).

        Raises:
            WebhookSignatureError: missing/malformed signature headers, no match.
            WebhookTimestampError: a signed timestamp outside the tolerance.
        """
        if not isinstance(now, datetime) or not is_aware(now):
            raise WebhookVerificationError(f"now must be a timezone-aware datetime, got {now!r}")
        lowered = {str(k).strip().lower(): str(v) for k, v in headers.items()}
        if self.scheme == "standard-webhooks":
            return self._standard(lowered, body, keys, now)
        if self.scheme == "stripe":
            return self._stripe(lowered, body, keys, now)
        raw = self._header(lowered, self.header)
        if not raw.startswith(self.prefix):
            raise WebhookSignatureError(
                f"{self.header}: expected {self.prefix!r} before the digest"
            )
        matched = self._match(body, keys, [raw[len(self.prefix) :]])
        delivery = lowered.get(self.id_header, "").strip() if self.id_header else ""
        return Delivery(delivery[:200] or None, None, matched)

    def _header(self, lowered: Mapping[str, str], name: str) -> str:
        value = lowered.get(name, "").strip()
        if not value:
            raise WebhookSignatureError(f"missing header {name}")
        if len(value) > _MAX_HEADER:
            raise WebhookSignatureError(f"header {name} is over {_MAX_HEADER} characters")
        return value

    def _digest(self, key: bytes, signed: bytes) -> str:
        digest = hmac.new(key, signed, getattr(hashlib, self.algorithm)).digest()
        if self.encoding == "hex":
            return digest.hex()
        return base64.b64encode(digest).decode("ascii")

    def _match(
        self, signed: bytes, keys: Sequence[bytes], offered: Sequence[str], *, fold: bool = True
    ) -> str:
        if len(offered) > _MAX_SIGNATURES:
            raise WebhookSignatureError(
                f"{len(offered)} signatures offered, more than {_MAX_SIGNATURES}"
            )
        # hex digests are compared case-insensitively; base64 is case-sensitive
        candidates = [
            o.strip().lower() if self.encoding == "hex" and fold else o.strip() for o in offered
        ]
        for key in keys:
            expected = self._digest(key, signed).encode("ascii")
            for candidate in candidates:
                if hmac.compare_digest(expected, candidate.encode("ascii", "replace")):
                    return candidate
        raise WebhookSignatureError("no signature matches (wrong secret or altered body)")

    def _check_time(self, timestamp_text: str, where: str, now: datetime) -> int:
        text = timestamp_text.strip()
        if not text.isdigit() or len(text) > 12:
            raise WebhookSignatureError(f"{where} must be Unix seconds, got {text[:40]!r}")
        timestamp = int(text)
        skew = abs(now.timestamp() - timestamp)
        if skew > self.tolerance_seconds:
            raise WebhookTimestampError(
                f"{where} {timestamp} is {skew:.0f} s away from now, outside the tolerance "
                f"of {self.tolerance_seconds} s (a replay or clock skew)"
            )
        return timestamp

    def _standard(
        self, lowered: Mapping[str, str], body: bytes, keys: Sequence[bytes], now: datetime
    ) -> Delivery:
        prefix = next(
            (p for p in self.header_prefixes if lowered.get(f"{p}signature", "").strip()),
            self.header_prefixes[0],
        )
        names = [f"{prefix}id", f"{prefix}timestamp", f"{prefix}signature"]
        missing = [n for n in names if not lowered.get(n, "").strip()]
        if missing:
            raise WebhookSignatureError(f"missing header(s): {', '.join(missing)}")
        msg_id = self._header(lowered, names[0])
        raw_time = self._header(lowered, names[1])
        if not raw_time.isdigit() or len(raw_time) > 12:
            raise WebhookSignatureError(f"{names[1]} must be Unix seconds, got {raw_time[:40]!r}")
        offered = [
            sig.split(",", 1)[1]
            for sig in self._header(lowered, names[2]).split()
            if sig.startswith("v1,")
        ]
        signed = f"{msg_id}.{raw_time}.".encode() + body
        matched = self._match(signed, keys, offered)
        timestamp = self._check_time(raw_time, names[1], now)
        return Delivery(msg_id[:200], timestamp, matched)

    def _stripe(
        self, lowered: Mapping[str, str], body: bytes, keys: Sequence[bytes], now: datetime
    ) -> Delivery:
        raw = self._header(lowered, self.header)
        timestamps: list[str] = []
        offered: list[str] = []
        for item in raw.split(","):
            name, equals, value = item.strip().partition("=")
            if not equals:
                raise WebhookSignatureError(f"{self.header}: {item.strip()[:40]!r} is not k=v")
            if name == "t":
                timestamps.append(value)
            elif name == "v1":
                offered.append(value)
        if len(timestamps) != 1:
            raise WebhookSignatureError(f"{self.header}: expected exactly one t=<timestamp>")
        if not offered:
            raise WebhookSignatureError(f"{self.header}: no v1= signature")
        if not timestamps[0].isdigit() or len(timestamps[0]) > 12:
            raise WebhookSignatureError(f"{self.header}: t must be Unix seconds")
        matched = self._match(f"{timestamps[0]}.".encode() + body, keys, offered)
        timestamp = self._check_time(timestamps[0], f"{self.header} t", now)
        return Delivery(None, timestamp, matched)
