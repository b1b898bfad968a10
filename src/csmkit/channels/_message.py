"""The channel-neutral inbound message, its attachments, and where bodies are kept."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import attrs

from csmkit._pickling import reduce_by_init
from csmkit._time import format_instant, parse_instant, require_aware
from csmkit.errors import MessageFormatError, NotFoundError

__all__ = ["Attachment", "BlobStore", "InboundMessage", "MemoryBlobStore"]


def _str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise MessageFormatError(
            f"{type(instance).__name__}.{attribute.name} must be a string, got {value!r}"
        )


def _non_empty(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise MessageFormatError(
            f"{type(instance).__name__}.{attribute.name} must be a non-empty string, got {value!r}"
        )


def _optional_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise MessageFormatError(
            f"{type(instance).__name__}.{attribute.name} must be a non-empty string or None, "
            f"got {value!r}"
        )


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise MessageFormatError(f"expected a list of strings, got {value!r}")
    out = tuple(value)
    for item in out:
        if not isinstance(item, str) or not item:
            raise MessageFormatError(f"expected non-empty strings, got {item!r}")
    return out


def _headers(value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise MessageFormatError(f"headers must be a mapping, got {type(value).__name__}")
    out: dict[str, str] = {}
    for name, text in value.items():
        if not isinstance(name, str) or not isinstance(text, str):
            raise MessageFormatError(f"header {name!r}: names and values must be strings")
        key = name.strip().lower()
        out[key] = f"{out[key]}, {text}" if key in out else text
    return MappingProxyType(out)


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    require_aware(value, f"{type(instance).__name__}.{attribute.name}", MessageFormatError)


@attrs.frozen(kw_only=True)
class Attachment:
    """Metadata of one attachment; the bytes are kept elsewhere (``content_ref``).

    Attributes:
        filename: The decoded file name (``""`` when the sender gave none).
        content_type: The MIME type (``"application/pdf"``).
        size: Size of the decoded content in bytes.
        sha256: Hex SHA-256 of the decoded content (integrity, de-duplication).
        content_ref: Where the bytes were stored (a [`BlobStore`][csmkit.channels.BlobStore]
            reference), or ``None`` when they were not kept (no blob store, or over the size limit).
        inline: Whether it was an inline part (``Content-Disposition: inline`` with a
            ``Content-ID``, e.g. an image in an HTML body).
        content_id: The ``Content-ID`` without angle brackets, if any.
    """

    filename: str = attrs.field(validator=_str)
    content_type: str = attrs.field(validator=_non_empty)
    size: int = attrs.field()
    sha256: str = attrs.field(validator=_str)
    content_ref: str | None = attrs.field(default=None, validator=_optional_str)
    inline: bool = attrs.field(default=False)
    content_id: str | None = attrs.field(default=None, validator=_optional_str)

    @size.validator
    def _check_size(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise MessageFormatError(f"Attachment.size must be an integer >= 0, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attachment:
        """Rebuild from [`to_dict()`][csmkit.channels.Attachment.to_dict] output.

        Raises:
            MessageFormatError: not a mapping, unknown keys, invalid values.
        """
        if not isinstance(data, Mapping):
            raise MessageFormatError(f"an attachment must be a dict, got {data!r}")
        names = {a.name for a in attrs.fields(cls)}
        extra = sorted(set(data) - names)
        if extra:
            raise MessageFormatError(f"unexpected key(s) {extra} in an attachment")
        try:
            return cls(**data)
        except TypeError as exc:
            raise MessageFormatError(f"invalid attachment: {exc}") from None


def _attachments(value: object) -> tuple[Attachment, ...]:
    if not isinstance(value, Iterable) or isinstance(value, (str, bytes)):
        raise MessageFormatError(f"attachments must be a list, got {value!r}")
    out = []
    for item in value:
        out.append(item if isinstance(item, Attachment) else Attachment.from_dict(item))
    return tuple(out)


@attrs.frozen(kw_only=True)
class InboundMessage:
    """One message that arrived on a channel, channel-neutral and immutable.

    Channel parsers ([`EmailParser`][csmkit.channels.EmailParser],
    [`WebhookParser`][csmkit.channels.WebhookParser], plugins) build it; the
    [`Intake`][csmkit.channels.Intake] filters, threads and stores it. It satisfies
    [`csmkit.plugins.InboundMessageLike`][csmkit.plugins.InboundMessageLike], so the message hooks
    receive it as is.

    Attributes:
        channel: The channel it arrived on (``"email"``, ``"wechat"``, ``"web"`` …).
        external_id: The channel's id (e-mail ``Message-ID`` with angle brackets, chat
            message id); the store de-duplicates on it. ``None`` if the channel has none.
        in_reply_to: The id of the message it answers, if known.
        references: Earlier ids of the conversation, oldest first.
        sender: Who sent it, normalised for ``sender_kind`` where the parser can
            (e-mail: the lower-cased address).
        sender_kind: The identity kind of ``sender`` (``"email"``, ``"phone"``,
            ``"wechat"`` …), used to resolve the customer.
        sender_name: The display name, ``""`` if unknown.
        recipients: Addresses or handles it was sent to.
        subject: The subject line (``""`` when the channel has none).
        text: The plain-text body (derived from the HTML when only HTML was sent); for
            e-mail, without the quoted history of a reply (see ``quoted_text``).
        quoted_text: The quoted history split off ``text`` (attribution line and the
            quoted original), kept for display; ``""`` when there was none.
        signature: The signature block split off ``text`` when the parser was asked to
            (``EmailParser(strip_signature=True)``), ``""`` otherwise.
        html: The HTML body, if any.
        attachments: Attachment metadata with content references.
        received_at: When it arrived (timezone-aware).
        headers: Channel headers, names lower-cased; repeated headers joined with ``", "``.
        ticket_ref: A ticket id the message names explicitly (an e-mail subject tag
            ``[#T-42]``, a ``ticket_id`` in webhook JSON); threading tries it after the
            message ids, and only if the ticket exists.
    """

    channel: str = attrs.field(validator=_non_empty)
    external_id: str | None = attrs.field(default=None, validator=_optional_str)
    in_reply_to: str | None = attrs.field(default=None, validator=_optional_str)
    references: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    sender: str = attrs.field(validator=_str)
    sender_kind: str = attrs.field(default="email", validator=_non_empty)
    sender_name: str = attrs.field(default="", validator=_str)
    recipients: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    subject: str = attrs.field(default="", validator=_str)
    text: str = attrs.field(default="", validator=_str)
    quoted_text: str = attrs.field(default="", validator=_str)
    signature: str = attrs.field(default="", validator=_str)
    html: str | None = attrs.field(default=None)
    attachments: tuple[Attachment, ...] = attrs.field(default=(), converter=_attachments)
    received_at: datetime = attrs.field(validator=_aware)
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_headers, eq=False, hash=False)
    ticket_ref: str | None = attrs.field(default=None, validator=_optional_str)

    def __reduce__(self) -> tuple[Any, ...]:
        # Read-only mapping views cannot be pickled: go through the constructor.
        return reduce_by_init(self)

    @html.validator
    def _check_html(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, str):
            raise MessageFormatError(f"InboundMessage.html must be a string or None, got {value!r}")

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header value by case-insensitive name."""
        return self.headers.get(name.lower(), default)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (instants as ISO 8601 with offset)."""
        return {
            "channel": self.channel,
            "external_id": self.external_id,
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "sender": self.sender,
            "sender_kind": self.sender_kind,
            "sender_name": self.sender_name,
            "recipients": list(self.recipients),
            "subject": self.subject,
            "text": self.text,
            "quoted_text": self.quoted_text,
            "signature": self.signature,
            "html": self.html,
            "attachments": [a.to_dict() for a in self.attachments],
            "received_at": format_instant(self.received_at),
            "headers": dict(self.headers),
            "ticket_ref": self.ticket_ref,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InboundMessage:
        """Rebuild from [`to_dict()`][csmkit.channels.InboundMessage.to_dict] output.

        Raises:
            MessageFormatError: not a mapping, unknown keys, invalid values.
        """
        if not isinstance(data, Mapping):
            raise MessageFormatError(f"a message must be a dict, got {type(data).__name__}")
        names = {a.name for a in attrs.fields(cls)}
        extra = sorted(set(data) - names)
        if extra:
            raise MessageFormatError(f"unexpected key(s) {extra} in a message")
        values = dict(data)
        if "received_at" in values and isinstance(values["received_at"], str):
            try:
                values["received_at"] = parse_instant(values["received_at"])
            except ValueError as exc:
                raise MessageFormatError(f"received_at: {exc}") from None
        try:
            return cls(**values)
        except TypeError as exc:
            raise MessageFormatError(f"invalid message: {exc}") from None


@runtime_checkable
class BlobStore(Protocol):
    """Where message bodies and attachment bytes are kept (events only hold references).

    An application backs it with its object storage;
    [`MemoryBlobStore`][csmkit.channels.MemoryBlobStore] is the reference implementation.
    """

    def put(self, data: bytes, *, content_type: str) -> str:
        """Store bytes and return a reference (a key or URL) for them."""
        ...

    def get(self, ref: str) -> bytes:
        """The bytes of a reference.

        Raises:
            NotFoundError: unknown reference.
        """
        ...


class MemoryBlobStore:
    """A content-addressed [`BlobStore`][csmkit.channels.BlobStore] in memory: references are
    ``sha256:<hex>``.

    Storing the same bytes twice returns the same reference and keeps one copy.

    Examples:
        >>> blobs = MemoryBlobStore()
        >>> ref = blobs.put("您好".encode(), content_type="text/plain")
        >>> ref[:7], blobs.get(ref).decode()
        ('sha256:', '您好')
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[bytes, str]] = {}

    def __len__(self) -> int:
        return len(self._data)

    def put(self, data: bytes, *, content_type: str) -> str:
        """Keep ``data``; return its ``sha256:`` reference."""
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"expected bytes, got {type(data).__name__}")
        ref = "sha256:" + hashlib.sha256(data).hexdigest()
        with self._lock:
            self._data.setdefault(ref, (bytes(data), content_type))
        return ref

    def get(self, ref: str) -> bytes:
        """The bytes of ``ref``; raises [`NotFoundError`][csmkit.errors.NotFoundError]."""
        with self._lock:
            item = self._data.get(ref)
        if item is None:
            raise NotFoundError(f"no blob {ref!r} in this store")
        return item[0]

    def content_type(self, ref: str) -> str:
        """The content type the blob was stored with."""
        with self._lock:
            item = self._data.get(ref)
        if item is None:
            raise NotFoundError(f"no blob {ref!r} in this store")
        return item[1]
