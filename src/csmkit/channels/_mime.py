"""Reading a parsed MIME tree: headers, bodies and attachments, decoded by csmkit's rules."""

from __future__ import annotations

import binascii
import email.errors
import email.header
import email.policy
import hashlib
import re
from collections.abc import Iterator, Sequence
from email.message import Message
from typing import Protocol

import attrs

from csmkit.channels._charset import decode_text
from csmkit.channels._message import Attachment, BlobStore
from csmkit.errors import MessageFormatError

__all__ = ["Bodies", "MimeDecoder", "leaves", "parse_message_ids"]

_MSGID = re.compile(r"<([^<>\s]{1,500})>")
_ENCODED_WORD = "=?"


def parse_message_ids(value: str | None) -> tuple[str, ...]:
    """The ``<id>`` tokens of a Message-ID, In-Reply-To or References value, in order.

    Examples:
        >>> parse_message_ids("<a@x.cn> junk <b@x.cn>")
        ('<a@x.cn>', '<b@x.cn>')
    """
    if not value:
        return ()
    return tuple(f"<{match}>" for match in _MSGID.findall(value))


class _Limits(Protocol):
    @property
    def max_parts(self) -> int: ...
    @property
    def max_text_chars(self) -> int: ...
    @property
    def max_attachment_bytes(self) -> int: ...


@attrs.frozen
class Bodies:
    """The bodies and attachments found in a tree."""

    text: str | None
    html: str | None
    attachments: tuple[Attachment, ...]


def _has_8bit(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


@attrs.frozen(kw_only=True)
class MimeDecoder:
    """Decodes headers and text parts by `csmkit.channels._charset`'s rules."""

    candidates: Sequence[str]
    default_charset: str | None
    detect: bool
    limits: _Limits

    def decode(self, data: bytes, label: str | None, *, where: str) -> str:
        """Bytes to text by the declared or detected charset."""
        return decode_text(
            data,
            label,
            where=where,
            candidates=self.candidates,
            default_charset=self.default_charset,
            detect=self.detect,
        )

    def header(self, raw: str, *, where: str) -> str:
        """One header value: raw 8-bit bytes and encoded words decoded, whitespace folded."""
        if _has_8bit(raw):
            raw = self.decode(raw.encode("ascii", "surrogateescape"), None, where=where)
        if _ENCODED_WORD not in raw:
            return " ".join(raw.split())
        try:
            chunks = email.header.decode_header(raw)
        except (ValueError, email.errors.HeaderParseError):
            return " ".join(raw.split())
        out = []
        for chunk, charset in chunks:
            if isinstance(chunk, str):
                out.append(chunk)
            elif charset is None:  # decode_header's own escape of unencoded text
                out.append(chunk.decode("raw-unicode-escape"))
            else:
                out.append(self.decode(chunk, charset, where=where))
        return " ".join("".join(out).split())

    def headers(self, part: Message) -> dict[str, str]:
        """Decoded header values by lower-cased name, repeats joined with ``", "``."""
        headers: dict[str, str] = {}
        for name, value in part.raw_items():
            key = name.strip().lower()
            decoded = self.header(str(value), where=f"header {name.strip()!r}")
            headers[key] = f"{headers[key]}, {decoded}" if key in headers else decoded
        return headers

    def text(self, part: Message, *, where: str) -> str:
        """The decoded text of a leaf part, line ends normalised to ``\\n``."""
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        decoded = self.decode(data, part.get_content_charset(), where=where)
        decoded = decoded.replace("\r\n", "\n")
        if len(decoded) > self.limits.max_text_chars:
            raise MessageFormatError(
                f"e-mail body of {len(decoded)} characters is over the limit of "
                f"{self.limits.max_text_chars}"
            )
        return decoded

    def bodies(self, message: Message, blobs: BlobStore | None) -> Bodies:
        """The first text and HTML bodies and every attachment of ``message``."""
        text: str | None = None
        markup: str | None = None
        attachments: list[Attachment] = []
        for count, part in enumerate(leaves(message), 1):
            if count > self.limits.max_parts:
                raise MessageFormatError(f"e-mail has more than {self.limits.max_parts} MIME parts")
            content_type = part.get_content_type()
            disposition = part.get_content_disposition()
            filename = self.filename(part)
            is_body = disposition != "attachment" and not filename
            where = f"MIME part {count} ({content_type})"
            if content_type == "text/plain" and is_body and text is None:
                text = self.text(part, where=where)
            elif content_type == "text/html" and is_body and markup is None:
                markup = self.text(part, where=where)
            elif content_type.startswith("multipart/"):
                continue  # an empty multipart container
            else:
                attachments.append(self.attachment(part, filename, blobs))
        return Bodies(text, markup, tuple(attachments))

    def filename(self, part: Message) -> str:
        """The decoded file name of a part, ``""`` when it has none."""
        try:
            name = part.get_filename()
        except (ValueError, LookupError):
            name = None
        if not name:
            return ""
        return self.header(str(name), where="attachment file name")

    def attachment(self, part: Message, filename: str, blobs: BlobStore | None) -> Attachment:
        """Metadata of one attachment; its bytes go to ``blobs`` within the limit."""
        content_type = part.get_content_type()
        if part.get_content_maintype() == "message":
            inner = part.get_payload()
            blocks = [p for p in inner if isinstance(p, Message)] if isinstance(inner, list) else []
            data = b"\n".join(_as_bytes(block) for block in blocks)
        else:
            data = decoded_payload(part)
        content_id = parse_message_ids(str(part.get("Content-ID", "")))
        ref = None
        if blobs is not None and len(data) <= self.limits.max_attachment_bytes:
            ref = blobs.put(data, content_type=content_type)
        return Attachment(
            filename=filename,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content_ref=ref,
            inline=part.get_content_disposition() == "inline",
            content_id=content_id[0][1:-1] if content_id else None,
        )


def _as_bytes(message: Message) -> bytes:
    """An attached message re-serialised; headers the stdlib decoded to non-ASCII text
    (replacement characters for broken bytes) are written as UTF-8."""
    try:
        return message.as_bytes()
    except UnicodeEncodeError:
        return message.as_bytes(policy=email.policy.default.clone(utf8=True))


_CHUNK_CHARS = 1 << 20
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NOT_BASE64 = bytes(sorted(set(range(256)) - set(_BASE64_ALPHABET)))


def decoded_payload(part: Message) -> bytes:
    """The decoded bytes of a leaf part.

    Large base64 bodies are decoded a megabyte at a time: the stdlib's
    ``get_payload(decode=True)`` copies them four times over (about 4.5x their size at
    its peak), which breaks the parser's memory bound on a 20 MB attachment.
    """
    payload = part.get_payload()
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if (
        not isinstance(payload, str)
        or len(payload) <= _CHUNK_CHARS
        or cte != "base64"
        or "=" in payload.rstrip()[:-3]  # padding inside: concatenated blocks, rare
    ):
        data = part.get_payload(decode=True)
        return data if isinstance(data, bytes) else b""
    out = bytearray()
    carry = b""
    for start in range(0, len(payload), _CHUNK_CHARS):
        chunk = payload[start : start + _CHUNK_CHARS].encode("ascii", "replace")
        chunk = carry + chunk.translate(None, _NOT_BASE64 + b"=")
        usable = len(chunk) - len(chunk) % 4
        out += binascii.a2b_base64(chunk[:usable])
        carry = chunk[usable:]
    if len(carry) > 1:  # an unpadded tail, as the stdlib accepts it
        out += binascii.a2b_base64(carry + b"=" * (-len(carry) % 4))
    return bytes(out)


def leaves(message: Message) -> Iterator[Message]:
    """Leaf parts in order; attached ``message/*`` mail is a leaf, not entered."""
    stack: list[Message] = [message]
    while stack:
        part = stack.pop()
        if part.is_multipart() and part.get_content_maintype() != "message":
            payload = part.get_payload()
            children = [p for p in payload if isinstance(p, Message)] if payload else []
            if not children:
                yield part
            stack.extend(reversed(children))
        else:
            yield part
