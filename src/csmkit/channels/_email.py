"""E-mail inbound: RFC 5322 bytes to [`InboundMessage`][csmkit.channels.InboundMessage] with the
stdlib ``email``."""

from __future__ import annotations

import contextlib
import email.errors
import email.feedparser
import email.policy
import email.utils
import hashlib
import html
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from email.message import Message
from html.parser import HTMLParser
from typing import Any

import attrs

from csmkit._time import require_aware
from csmkit.channels._charset import DEFAULT_CANDIDATES, known_charset
from csmkit.channels._message import BlobStore, InboundMessage
from csmkit.channels._mime import MimeDecoder, parse_message_ids
from csmkit.channels._mime_scan import scan_mime
from csmkit.channels._quotes import split_quoted_reply, split_signature
from csmkit.channels._reports import AutoReply, DeliveryReport, recognise
from csmkit.errors import MessageFormatError

__all__ = ["EmailLimits", "EmailParser", "SubjectTag", "html_to_text", "parse_message_ids"]

_TAG_ID = r"(?P<id>[A-Za-z0-9][A-Za-z0-9._-]{0,63})"


def _positive(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MessageFormatError(f"EmailLimits.{attribute.name} must be an integer >= 1")


@attrs.frozen(kw_only=True)
class EmailLimits:
    """Size limits of the e-mail parser; a message over any of them is refused.

    Attributes:
        max_bytes: Largest raw message accepted (default 25 MiB, as large mail services).
        max_parts: Most MIME parts (defends against part bombs); counted by a linear
            pre-scan before the stdlib parser builds anything.
        max_depth: Deepest nesting of multipart and attached messages (nesting bombs
            would otherwise exhaust the stack).
        max_headers: Most header fields per part.
        max_header_bytes: Longest header field, folded lines included.
        max_line_bytes: Longest line (RFC 5322 allows 998 octets; default 1 MiB). Very
            long lines cost the stdlib parser several times their size in memory.
        max_8bit_bytes: Most bytes above 0x7F in the raw message (8-bit bodies and
            headers; base64 and quoted-printable parts have none). The stdlib holds
            8-bit text as surrogate-escaped strings of 4 bytes a character, about 7x
            its size at the parser's peak; 1 MiB is about 350,000 Chinese characters.
        max_references: Ids kept from ``References`` (the newest ones; RT keeps 10).
        max_text_chars: Longest text or HTML body kept; longer bodies are refused.
        max_attachment_bytes: Largest attachment whose bytes go to the blob store;
            larger ones keep their metadata with ``content_ref=None``.
    """

    max_bytes: int = attrs.field(default=25 * 1024 * 1024, validator=_positive)
    max_parts: int = attrs.field(default=200, validator=_positive)
    max_depth: int = attrs.field(default=20, validator=_positive)
    max_headers: int = attrs.field(default=1000, validator=_positive)
    max_header_bytes: int = attrs.field(default=64 * 1024, validator=_positive)
    max_line_bytes: int = attrs.field(default=1024 * 1024, validator=_positive)
    max_8bit_bytes: int = attrs.field(default=1024 * 1024, validator=_positive)
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


@attrs.frozen
class EmailParser:
    """Turns RFC 5322 bytes into an [`InboundMessage`][csmkit.channels.InboundMessage] (stdlib
    ``email``).

    * **Bounded**: the raw bytes are first scanned for their MIME structure in linear
      time ([`EmailLimits`][csmkit.channels.EmailLimits]: size, parts, nesting depth, header and
      line lengths), then fed to the stdlib's ``BytesFeedParser`` with
      ``email.policy.default``; hostile mail is one
      [`MessageFormatError`][csmkit.errors.MessageFormatError].
    * **Charsets as clients use them**: a declared charset is read by its Windows
      superset (``big5`` → cp950, ``gb2312``/``gbk`` → GB18030, ``ks_c_5601-1987`` →
      cp949, ``shift_jis`` → cp932, ``iso-8859-1``/``us-ascii`` → windows-1252), in
      bodies and in encoded words; undeclared 8-bit text is UTF-8 if valid, else
      detected among ``charset_candidates`` by ``charset-normalizer`` (extra
      ``charset``), else read as ``default_charset`` if one is set, else refused.
      Nothing is decoded with replacement characters.
    * ``multipart/alternative``: the first ``text/plain`` and ``text/html`` parts are
      the bodies; HTML-only mail gets its ``text`` from
      [`html_to_text()`][csmkit.channels.html_to_text].
    * The quoted history of a reply is split off ``text`` into ``quoted_text``
      (``quotes``, default [`split_quoted_reply()`][csmkit.channels.split_quoted_reply]); with
      ``strip_signature`` the signature block goes to ``signature``.
    * Every other leaf part with a file name or ``Content-Disposition: attachment``
      (and attached ``message/rfc822`` mail) becomes an [`Attachment`][csmkit.channels.Attachment];
      its bytes go to ``blobs`` when one is given and they are within the limit.
    * ``external_id`` is the ``Message-ID``; mail without one gets a stable synthetic
      id from the SHA-256 of the raw bytes (``<sha256.<hex>@csmkit.invalid>``), so a
      replayed message is still recognised.
    * ``ticket_ref`` is the subject tag found by ``subject_tag``.
    * [`parse_inbound()`][csmkit.channels.EmailParser.parse_inbound] also recognises bounces (RFC
      3464) and auto-replies (RFC 3834) as [`DeliveryReport`][csmkit.channels.DeliveryReport] and
      [`AutoReply`][csmkit.channels.AutoReply].

    Attributes:
        limits: Size limits ([`EmailLimits`][csmkit.channels.EmailLimits]).
        subject_tag: The ticket tag to look for in subjects.
        channel: The channel name put on messages.
        charset_candidates: Charsets undeclared 8-bit text is detected among (earlier
            ones win ties).
        default_charset: How to read undeclared 8-bit text that is not UTF-8 when
            ``charset-normalizer`` is not installed or finds nothing (``None``: refuse).
        detect_charset: Use ``charset-normalizer`` when it is installed.
        quotes: Splits a plain-text body into (new text, quoted history); ``None``
            keeps bodies whole.
        strip_signature: Move the signature block (after ``-- ``, or a closing block
            such as ``Best regards,`` / ``此致 敬礼``) to ``signature``.

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
    charset_candidates: tuple[str, ...] = attrs.field(default=DEFAULT_CANDIDATES, converter=tuple)
    default_charset: str | None = attrs.field(default=None)
    detect_charset: bool = attrs.field(default=True)
    quotes: Callable[[str], tuple[str, str]] | None = attrs.field(default=split_quoted_reply)
    strip_signature: bool = attrs.field(default=False)

    @charset_candidates.validator
    def _check_candidates(self, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
        for name in value:
            if not isinstance(name, str) or not known_charset(name):
                raise MessageFormatError(
                    f"EmailParser.charset_candidates: unknown charset {name!r}"
                )

    @default_charset.validator
    def _check_default(self, attribute: attrs.Attribute[Any], value: str | None) -> None:
        if value is not None and (not isinstance(value, str) or not known_charset(value)):
            raise MessageFormatError(f"EmailParser.default_charset: unknown charset {value!r}")

    @property
    def _decoder(self) -> MimeDecoder:
        return MimeDecoder(
            candidates=self.charset_candidates,
            default_charset=self.default_charset,
            detect=self.detect_charset,
            limits=self.limits,
        )

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
            MessageFormatError: not bytes, over a limit, no usable ``From`` address,
                text that cannot be decoded, ``received_at`` naive.
        """
        return self._read(raw, received_at, blobs)[1]

    def parse_inbound(
        self, raw: bytes, *, received_at: datetime, blobs: BlobStore | None = None
    ) -> InboundMessage | DeliveryReport | AutoReply:
        """Parse one message and recognise what it is: a bounce, an auto-reply, or mail.

        Returns:
            A [`DeliveryReport`][csmkit.channels.DeliveryReport] for a delivery status
            notification (RFC 3464 or a common non-standard bounce), an
            [`AutoReply`][csmkit.channels.AutoReply] for an automatic response (RFC 3834
            headers, out-of-office subjects), otherwise the
            [`InboundMessage`][csmkit.channels.InboundMessage].

        Raises:
            MessageFormatError: as [`parse()`][csmkit.channels.EmailParser.parse].
        """
        tree, message = self._read(raw, received_at, blobs)
        with stdlib_errors("reading a delivery report"):
            return recognise(message, tree, decoder=self._decoder)

    def _read(
        self, raw: bytes, received_at: datetime, blobs: BlobStore | None
    ) -> tuple[Message, InboundMessage]:
        with stdlib_errors("parsing"):
            return self._read_unguarded(raw, received_at, blobs)

    def _read_unguarded(
        self, raw: bytes, received_at: datetime, blobs: BlobStore | None
    ) -> tuple[Message, InboundMessage]:
        if not isinstance(raw, (bytes, bytearray)):
            raise MessageFormatError(f"raw e-mail must be bytes, got {type(raw).__name__}")
        require_aware(received_at, "received_at", MessageFormatError)
        limits = self.limits
        if len(raw) > limits.max_bytes:
            raise MessageFormatError(
                f"e-mail of {len(raw)} bytes is over the limit of {limits.max_bytes} bytes"
            )
        raw = bytes(raw)
        if not raw.strip():
            raise MessageFormatError("e-mail is empty")
        high = len(raw.translate(None, _ASCII))
        if high > limits.max_8bit_bytes:
            raise MessageFormatError(
                f"e-mail has {high} bytes of 8-bit content, over the limit of "
                f"{limits.max_8bit_bytes}"
            )
        scan_mime(raw, limits)
        tree = feed_parse(raw)
        decoder = self._decoder
        headers = decoder.headers(tree)
        sender_name, sender = _address(headers.get("from", ""))
        from_value = headers.get("from", "")
        if not sender and (
            _NULL_SENDER.search(from_value)
            or (not from_value.strip() and tree.get_content_type() == "multipart/report")
        ):
            sender = "mailer-daemon"  # a bounce from the null sender ("MAILER-DAEMON <>")
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
        bodies = decoder.bodies(tree, blobs)
        text = bodies.text
        if text is None:
            text = html_to_text(bodies.html) if bodies.html else ""
        quoted = signature = ""
        if self.quotes is not None:
            text, quoted = self.quotes(text)
        if self.strip_signature:
            text, signature = split_signature(text)
        message = InboundMessage(
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
            quoted_text=quoted,
            signature=signature,
            html=bodies.html,
            attachments=bodies.attachments,
            received_at=received_at,
            headers=headers,
            ticket_ref=self.subject_tag.find(subject),
        )
        return tree, message


@contextlib.contextmanager
def stdlib_errors(doing: str) -> Iterator[None]:
    """Turn the exceptions the stdlib ``email`` package lets escape on malformed input
    (a ``UnicodeEncodeError`` re-serialising a part, an ``AttributeError`` in its header
    registry, a ``RecursionError`` on deeply nested comments …) into one clear
    [`MessageFormatError`][csmkit.errors.MessageFormatError]."""
    try:
        yield
    except MessageFormatError:
        raise
    except (
        email.errors.MessageError,
        UnicodeError,
        LookupError,
        ValueError,
        TypeError,
        AttributeError,
        RecursionError,
    ) as exc:
        raise MessageFormatError(
            f"e-mail is malformed ({doing} failed: {type(exc).__name__}: {str(exc)[:200]})"
        ) from None


def feed_parse(raw: bytes) -> Message:
    """The stdlib tree of ``raw``, fed in chunks (no whole-message str copy)."""
    parser = email.feedparser.BytesFeedParser(policy=email.policy.default)
    view = memoryview(raw)
    for start in range(0, len(raw), _CHUNK):
        parser.feed(bytes(view[start : start + _CHUNK]))
    tree: Message = parser.close()
    return tree


_CHUNK = 64 * 1024
_ASCII = bytes(range(128))
_NULL_SENDER = re.compile(r"<>\s*$|mailer-daemon|postmaster", re.IGNORECASE)


def _address(value: str) -> tuple[str, str]:
    name, address = email.utils.parseaddr(value)
    address = address.strip()
    if "@" not in address or any(ch.isspace() for ch in address):
        return "", ""
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return "", ""
    return " ".join(name.split()), f"{local}@{domain}".lower()
