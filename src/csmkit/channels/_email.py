"""E-mail inbound: RFC 5322 bytes to [`InboundMessage`][csmkit.channels.InboundMessage] with the
stdlib ``email``."""

from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import email.utils
import hashlib
import html
import re
from collections.abc import Iterator
from datetime import datetime
from email.message import Message
from html.parser import HTMLParser
from typing import Any

import attrs

from csmkit._time import require_aware
from csmkit.channels._message import Attachment, BlobStore, InboundMessage
from csmkit.errors import MessageFormatError

__all__ = ["EmailLimits", "EmailParser", "SubjectTag", "html_to_text", "parse_message_ids"]

_MSGID = re.compile(r"<([^<>\s]{1,500})>")
_TAG_ID = r"(?P<id>[A-Za-z0-9][A-Za-z0-9._-]{0,63})"
# Labels senders use for Chinese mail whose bytes are really GBK/GB18030.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
}


def _positive(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MessageFormatError(f"EmailLimits.{attribute.name} must be an integer >= 1")


@attrs.frozen(kw_only=True)
class EmailLimits:
    """Size limits of the e-mail parser; a message over any of them is refused.

    Attributes:
        max_bytes: Largest raw message accepted (default 25 MiB, as large mail services).
        max_parts: Most MIME parts walked (defends against MIME bombs).
        max_headers: Most header fields.
        max_references: Ids kept from ``References`` (the newest ones; RT keeps 10).
        max_text_chars: Longest text or HTML body kept; longer bodies are refused.
        max_attachment_bytes: Largest attachment whose bytes go to the blob store;
            larger ones keep their metadata with ``content_ref=None``.
    """

    max_bytes: int = attrs.field(default=25 * 1024 * 1024, validator=_positive)
    max_parts: int = attrs.field(default=200, validator=_positive)
    max_headers: int = attrs.field(default=1000, validator=_positive)
    max_references: int = attrs.field(default=50, validator=_positive)
    max_text_chars: int = attrs.field(default=2_000_000, validator=_positive)
    max_attachment_bytes: int = attrs.field(default=20 * 1024 * 1024, validator=_positive)


@attrs.frozen
class SubjectTag:
    """The ticket tag in subject lines: ``[#T-42]``, or ``[ACME #T-42]`` with a prefix.

    Outbound mail puts it in the subject ([`apply()`][csmkit.channels.SubjectTag.apply]); the e-mail
    parser finds it ([`find()`][csmkit.channels.SubjectTag.find]) and sets
    ``InboundMessage.ticket_ref``, which the built-in ``csmkit_match_ticket`` tries after the
    message ids (like RT's ``[rtname #123]`` and django-helpdesk's ``[queue-123]``).

    Attributes:
        prefix: Text before ``#`` inside the brackets (``""`` for ``[#id]``).

    Examples:
        >>> tag = SubjectTag("ACME")
        >>> tag.apply("空调不制冷", "T-42")
        '[ACME #T-42] 空调不制冷'
        >>> tag.find("回复：Re: [ACME #T-42] 空调不制冷")
        'T-42'
        >>> tag.find("[#T-42] 别家的标签") is None
        True
    """

    prefix: str = attrs.field(default="")

    @prefix.validator
    def _check(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or not re.fullmatch(r"[\w.-]{0,40}", value):
            raise MessageFormatError(
                f"SubjectTag.prefix must be letters, digits, '.', '-' or '_', got {value!r}"
            )

    @property
    def _pattern(self) -> re.Pattern[str]:
        lead = rf"{re.escape(self.prefix)}\s+" if self.prefix else r"\s*"
        return re.compile(rf"\[{lead}#{_TAG_ID}\]")

    def find(self, subject: str) -> str | None:
        """The ticket id tagged in ``subject`` (the last tag wins), or ``None``."""
        found = self._pattern.findall(subject)
        return found[-1] if found else None

    def apply(self, subject: str, ticket_id: str) -> str:
        """``subject`` with the tag of ``ticket_id`` in front (once)."""
        if self.find(subject) == ticket_id:
            return subject
        prefix = f"{self.prefix} " if self.prefix else ""
        return f"[{prefix}#{ticket_id}] {subject}".rstrip()


def parse_message_ids(value: str | None) -> tuple[str, ...]:
    """The ``<id>`` tokens of a Message-ID, In-Reply-To or References value, in order.

    Examples:
        >>> parse_message_ids("<a@x.cn> junk <b@x.cn>")
        ('<a@x.cn>', '<b@x.cn>')
    """
    if not value:
        return ()
    return tuple(f"<{match}>" for match in _MSGID.findall(value))


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "title"})
    _BREAK = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body (tags dropped, block elements become line breaks).

    Examples:
        >>> html_to_text("<p>您好，</p><p>空调&nbsp;不制冷<br>谢谢</p><style>p{}</style>")
        '您好，\\n空调 不制冷\\n谢谢'
    """
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts)).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{2,}", "\n", "\n".join(lines)).strip()


def _decode_bytes(data: bytes, charset: str | None) -> str:
    name = (charset or "utf-8").strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    for candidate in (name, "utf-8", "gb18030"):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode(name if _known(name) else "utf-8", errors="replace")


def _known(name: str) -> bool:
    try:
        "".encode(name)
    except LookupError:
        return False
    return True


def _decode_header(raw: str) -> str:
    """Decode encoded words and raw 8-bit bytes, mapping GB2312/GBK labels to GB18030."""
    if any("\udc80" <= ch <= "\udcff" for ch in raw):  # 8-bit bytes in a header
        raw = _decode_bytes(raw.encode("ascii", "surrogateescape"), "utf-8")
    try:
        chunks = email.header.decode_header(raw)
    except (ValueError, email.errors.HeaderParseError):
        return " ".join(raw.split())
    out = []
    for chunk, charset in chunks:
        out.append(_decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return " ".join("".join(out).split())


@attrs.frozen
class EmailParser:
    """Turns RFC 5322 bytes into an [`InboundMessage`][csmkit.channels.InboundMessage] (stdlib
    ``email``).

    * Headers and bodies are decoded with ``email.policy.default``; charsets labelled
      GB2312/GBK are read as GB18030 (their superset, what Chinese clients really send),
      encoded-word headers (``=?gbk?B?...?=``) and raw 8-bit headers are decoded.
    * ``multipart/alternative``: the first ``text/plain`` and ``text/html`` parts are
      the bodies; HTML-only mail gets its ``text`` from
      [`html_to_text()`][csmkit.channels.html_to_text].
    * Every other leaf part with a file name or ``Content-Disposition: attachment``
      (and attached ``message/rfc822`` mail) becomes an [`Attachment`][csmkit.channels.Attachment];
      its bytes go to ``blobs`` when one is given and they are within the limit.
    * ``external_id`` is the ``Message-ID``; mail without one gets a stable synthetic
      id from the SHA-256 of the raw bytes (``<sha256.<hex>@csmkit.invalid>``), so a
      replayed message is still recognised.
    * ``ticket_ref`` is the subject tag found by ``subject_tag``.

    Attributes:
        limits: Size limits ([`EmailLimits`][csmkit.channels.EmailLimits]).
        subject_tag: The ticket tag to look for in subjects.
        channel: The channel name put on messages.

    Examples:
        >>> from datetime import datetime, timezone
        >>> raw = (b"From: =?gbk?B?zfW3vA==?= <WangFang@Example.CN>\\r\\n"
        ...        b"To: support@example.com\\r\\nSubject: Re: [#T-42] =?utf-8?B?56m66LCD?=\\r\\n"
        ...        b"Message-ID: <r1@example.cn>\\r\\nIn-Reply-To: <n1@example.com>\\r\\n\\r\\n"
        ...        b"still broken\\r\\n")
        >>> m = EmailParser().parse(raw, received_at=datetime(2026, 10, 8, 1, tzinfo=timezone.utc))
        >>> m.sender, m.sender_name, m.subject, m.ticket_ref, m.in_reply_to
        ('wangfang@example.cn', '王芳', 'Re: [#T-42] 空调', 'T-42', '<n1@example.com>')
    """

    limits: EmailLimits = attrs.field(factory=EmailLimits)
    subject_tag: SubjectTag = attrs.field(factory=SubjectTag)
    channel: str = attrs.field(default="email")

    def parse(
        self, raw: bytes, *, received_at: datetime, blobs: BlobStore | None = None
    ) -> InboundMessage:
        """Parse one message.

        Args:
            raw: The RFC 5322 bytes as received (CRLF or LF line ends).
            received_at: When it arrived (timezone-aware).
            blobs: Where to keep attachment bytes; ``None`` keeps metadata only.

        Returns:
            The message.

        Raises:
            MessageFormatError: not bytes, over a limit, no usable ``From`` address.
            ValueError: ``received_at`` is naive.
        """
        if not isinstance(raw, (bytes, bytearray)):
            raise MessageFormatError(f"raw e-mail must be bytes, got {type(raw).__name__}")
        require_aware(received_at, "received_at", MessageFormatError)
        limits = self.limits
        if len(raw) > limits.max_bytes:
            raise MessageFormatError(
                f"e-mail of {len(raw)} bytes is over the limit of {limits.max_bytes} bytes"
            )
        if not raw.strip():
            raise MessageFormatError("e-mail is empty")
        message = email.message_from_bytes(bytes(raw), policy=email.policy.default)
        raw_headers = list(message.raw_items())
        if len(raw_headers) > limits.max_headers:
            raise MessageFormatError(
                f"e-mail has {len(raw_headers)} header fields, over the limit of "
                f"{limits.max_headers}"
            )
        headers: dict[str, str] = {}
        for name, value in raw_headers:
            key = name.strip().lower()
            decoded = _decode_header(str(value))
            headers[key] = f"{headers[key]}, {decoded}" if key in headers else decoded
        sender_name, sender = _address(headers.get("from", ""))
        if not sender:
            raise MessageFormatError(
                f"e-mail has no usable From address (From: {headers.get('from', '')!r})"
            )
        recipients: list[str] = []
        for field in ("to", "cc"):
            for _, address in email.utils.getaddresses([headers.get(field, "")]):
                address = address.strip().lower()
                if "@" in address and address not in recipients:
                    recipients.append(address)
        ids = parse_message_ids(headers.get("message-id"))
        external_id = (
            ids[0] if ids else f"<sha256.{hashlib.sha256(raw).hexdigest()[:40]}@csmkit.invalid>"
        )
        reply_ids = parse_message_ids(headers.get("in-reply-to"))
        references = parse_message_ids(headers.get("references"))[-limits.max_references :]
        subject = headers.get("subject", "")
        text, markup, attachments = self._bodies(message, blobs)
        if text is None:
            text = html_to_text(markup) if markup else ""
        return InboundMessage(
            channel=self.channel,
            external_id=external_id,
            in_reply_to=reply_ids[0] if reply_ids else None,
            references=references,
            sender=sender,
            sender_kind="email",
            sender_name=sender_name,
            recipients=tuple(recipients),
            subject=subject,
            text=text,
            html=markup,
            attachments=attachments,
            received_at=received_at,
            headers=headers,
            ticket_ref=self.subject_tag.find(subject),
        )

    def _bodies(
        self, message: Message, blobs: BlobStore | None
    ) -> tuple[str | None, str | None, tuple[Attachment, ...]]:
        text: str | None = None
        markup: str | None = None
        attachments: list[Attachment] = []
        for count, part in enumerate(_leaves(message), 1):
            if count > self.limits.max_parts:
                raise MessageFormatError(f"e-mail has more than {self.limits.max_parts} MIME parts")
            content_type = part.get_content_type()
            disposition = part.get_content_disposition()
            filename = _filename(part)
            is_body = disposition != "attachment" and not filename
            if content_type == "text/plain" and is_body and text is None:
                text = self._text(part)
            elif content_type == "text/html" and is_body and markup is None:
                markup = self._text(part)
            elif content_type.startswith("multipart/"):
                continue  # an empty multipart container
            else:
                attachments.append(self._attachment(part, filename, blobs))
        return text, markup, tuple(attachments)

    def _text(self, part: Message) -> str:
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        decoded = _decode_bytes(data, part.get_content_charset())
        decoded = decoded.replace("\r\n", "\n")
        if len(decoded) > self.limits.max_text_chars:
            raise MessageFormatError(
                f"e-mail body of {len(decoded)} characters is over the limit of "
                f"{self.limits.max_text_chars}"
            )
        return decoded

    def _attachment(self, part: Message, filename: str, blobs: BlobStore | None) -> Attachment:
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            data = first.as_bytes() if isinstance(first, Message) else b""
        else:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
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


def _leaves(message: Message) -> Iterator[Message]:
    """Leaf parts in order; attached ``message/rfc822`` mail is a leaf, not entered."""
    stack: list[Message] = [message]
    while stack:
        part = stack.pop()
        if part.is_multipart() and part.get_content_type() != "message/rfc822":
            payload = part.get_payload()
            children = [p for p in payload if isinstance(p, Message)] if payload else []
            if not children:
                yield part
            stack.extend(reversed(children))
        else:
            yield part


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except (ValueError, LookupError):
        name = None
    if not name:
        return ""
    return _decode_header(str(name))


def _address(value: str) -> tuple[str, str]:
    name, address = email.utils.parseaddr(value)
    address = address.strip()
    if "@" not in address or any(ch.isspace() for ch in address):
        return "", ""
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return "", ""
    return " ".join(name.split()), f"{local}@{domain}".lower()
