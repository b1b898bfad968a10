"""Bounces (RFC 3464) and auto-replies (RFC 3834): machine mail recognised as facts.

A delivery status notification or an out-of-office answer is not a customer writing:
it must neither open a ticket nor be answered, and it must not vanish either. The
parser turns it into a [`DeliveryReport`][csmkit.channels.DeliveryReport] or an
[`AutoReply`][csmkit.channels.AutoReply], which the intake matches to the outbound message it
answers and records on that ticket.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from collections.abc import Iterable, Mapping
from email.message import Message
from typing import TYPE_CHECKING

import attrs

from csmkit.channels._message import InboundMessage
from csmkit.channels._mime import leaves, parse_message_ids

if TYPE_CHECKING:
    from csmkit.channels._mime import MimeDecoder

__all__ = ["AutoReply", "DeliveryReport", "RecipientStatus", "recognise"]

_DAEMONS = re.compile(
    r"^(?:mailer-daemon|postmaster|post_master|mail-daemon|mailerdaemon|mail\.delivery\.system|"
    r"mail-delivery-system|mail-delivery-subsystem|maildelivery|mdaemon|double-bounce|"
    r"bounce|bounces|nobody|system\.administrator)(?:@|$)",
    re.IGNORECASE,
)
# Senders that only ever send delivery reports (a postmaster may be a person).
_MAILER_DAEMONS = re.compile(
    r"^(?:mailer-daemon|mail-daemon|mailerdaemon|mail-delivery-system|"
    r"mail-delivery-subsystem|mail\.delivery\.system|double-bounce|mdaemon)(?:@|$)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|delivery status notification|delivery (?:has )?failed|"
    r"delivery failure|mail delivery failed|failure notice|returned mail|"
    r"could not be delivered|non.?delivery|delivery problem|mail system error|"
    r"rejected|warning: could not send|message not delivered|delivery notification|"
    r"退信|投递失败|无法投递|無法傳遞|未能送達|传送失败|递送失败|發送失敗|发送失败|"
    r"配信できません|配信エラー|エラー通知|不達|宛先不明",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|autoreply|"
    r"out of (?:the )?office|ooo\b|abwesenheit|réponse automatique|respuesta automática|"
    r"自动回复|自動回覆|自动答复|自動回复|自动应答|休假)",
    re.IGNORECASE,
)
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_REPLY = re.compile(r"\b[45]\d\d[ -]")
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_HEADER_ID = re.compile(r"^\s*message-id\s*:\s*(<[^<>\s]{1,500}>)", re.IGNORECASE | re.MULTILINE)
_HEADER_SUBJECT = re.compile(r"^\s*subject\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_PRECEDENCE_AUTO = frozenset({"auto_reply", "auto-reply"})
_FAILED = frozenset({"failed", "delayed"})
_ACTIONS = frozenset({"failed", "delayed", "delivered", "relayed", "expanded"})
_ACTION_ALIASES = {"expired": "failed", "deliverable": "delivered", "undeliverable": "failed"}


@attrs.frozen(kw_only=True)
class RecipientStatus:
    """What happened to one recipient, as a delivery status notification says.

    Attributes:
        recipient: The address (``Final-Recipient``, else ``Original-Recipient``),
            lower-cased; ``""`` when the report names none.
        action: ``failed``, ``delayed``, ``delivered``, ``relayed`` or ``expanded``
            (RFC 3464); ``failed`` for non-standard bounces.
        status: The enhanced status code (``"5.1.1"``), ``""`` when unknown.
        diagnostic: The remote server's words (``Diagnostic-Code``), ``""`` if none.
        remote_mta: The server that refused it, ``""`` if unknown.
    """

    recipient: str
    action: str
    status: str = ""
    diagnostic: str = ""
    remote_mta: str = ""

    @property
    def failed(self) -> bool:
        """Whether delivery failed or is delayed (the outcomes an agent must see)."""
        return self.action in _FAILED

    def to_dict(self) -> dict[str, str]:
        """JSON-safe form."""
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class DeliveryReport:
    """A delivery status notification (a bounce) recognised by the e-mail parser.

    Attributes:
        message: The notification itself, as a message (for display and its id).
        recipients: Per-recipient outcomes.
        original_message_id: The ``Message-ID`` of the message it reports on, found in
            the returned message or headers (``None`` when it was not returned).
        original_subject: That message's subject, ``""`` when unknown.
        standard: ``True`` for an RFC 3464 ``multipart/report``, ``False`` for a
            bounce recognised by its sender, subject and text.
    """

    message: InboundMessage
    recipients: tuple[RecipientStatus, ...] = ()
    original_message_id: str | None = None
    original_subject: str = ""
    standard: bool = True

    @property
    def failures(self) -> tuple[RecipientStatus, ...]:
        """The recipients whose delivery failed or is delayed."""
        return tuple(r for r in self.recipients if r.failed)

    @property
    def answers(self) -> tuple[str, ...]:
        """Message ids that may identify the outbound message, best first."""
        return _unique(
            [
                *([self.original_message_id] if self.original_message_id else []),
                *([self.message.in_reply_to] if self.message.in_reply_to else []),
                *reversed(self.message.references),
            ]
        )


@attrs.frozen(kw_only=True)
class AutoReply:
    """An automatic response (out of office, autoresponder, read receipt).

    Attributes:
        message: The response itself.
        reason: Why it is taken for one (``"Auto-Submitted: auto-replied"``,
            ``"subject 'Automatic reply: …'"``).
    """

    message: InboundMessage
    reason: str

    @property
    def answers(self) -> tuple[str, ...]:
        """Message ids it answers (``In-Reply-To``, then ``References`` newest first)."""
        return _unique(
            [
                *([self.message.in_reply_to] if self.message.in_reply_to else []),
                *reversed(self.message.references),
            ]
        )


def _unique(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def auto_reply_marker(headers: Mapping[str, str], subject: str) -> str | None:
    """Why ``headers``/``subject`` mark an automatic response (RFC 3834), or ``None``.

    Mailing-list and bulk markers (``List-Id``, ``Precedence: bulk``) are not
    auto-replies: they stay with the inbound filter.
    """
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        value = headers.get(name, "").strip()
        if value and value.lower() not in {"no", "false", "0"}:
            return f"{name}: {value}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _PRECEDENCE_AUTO:
        return f"Precedence: {precedence}"
    if _AUTO_SUBJECT.match(subject):
        return f"subject {subject[:80]!r}"
    return None


def _null_return_path(message: InboundMessage) -> bool:
    return_path = message.headers.get("return-path")
    return return_path is not None and return_path.strip() in {"<>", ""}


def _is_bounce(message: InboundMessage) -> bool:
    """A non-standard bounce: a mailer daemon, or a postmaster-like sender or the null
    envelope sender together with the other sign (a bounce subject, the null sender)."""
    if _MAILER_DAEMONS.match(message.sender):
        return True
    daemon, null = bool(_DAEMONS.match(message.sender)), _null_return_path(message)
    if daemon and null:
        return True
    return (daemon or null) and bool(_BOUNCE_SUBJECT.search(message.subject))


def recognise(
    message: InboundMessage, tree: Message | None = None, *, decoder: MimeDecoder | None = None
) -> InboundMessage | DeliveryReport | AutoReply:
    """Classify a parsed message: a bounce, an auto-reply, or a message.

    Args:
        message: The parsed message.
        tree: Its MIME tree, when available (standard reports need it).
        decoder: Decodes report parts with the parser's charset rules.
    """
    if tree is not None:
        report = _standard_report(message, tree, decoder)
        if report is not None:
            return report
    if _is_bounce(message):
        return _heuristic_report(message, tree)
    if message.headers.get("x-failed-recipients", "").strip():
        return _heuristic_report(message, tree)
    report_type = _report_type(tree) if tree is not None else ""
    if report_type == "disposition-notification":
        return AutoReply(message=message, reason="disposition notification (read receipt)")
    if report_type == "feedback-report":
        return AutoReply(message=message, reason="feedback report (ARF, RFC 5965)")
    reason = auto_reply_marker(message.headers, message.subject)
    if reason is not None:
        return AutoReply(message=message, reason=reason)
    return message


def _report_type(tree: Message) -> str:
    if tree.get_content_type() != "multipart/report":
        return ""
    return str(tree.get_param("report-type", "") or "").lower()


def _standard_report(
    message: InboundMessage, tree: Message, decoder: MimeDecoder | None
) -> DeliveryReport | None:
    status_part: Message | None = None
    returned: Message | None = None
    for part in _walk(tree):
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            status_part = status_part or part
        elif ctype in ("message/rfc822", "text/rfc822-headers", "message/global-headers"):
            returned = returned or part
    if status_part is None:
        return None
    blocks = _status_blocks(status_part, decoder)
    # The first block is per-message; senders that skip it put a recipient there.
    recipients = tuple(_recipient(block) for block in blocks if _names_recipient(block))
    original_id, original_subject = _returned_headers(returned, decoder)
    text = f"{message.text}\n{message.quoted_text}"
    if original_id is None:
        original_id, original_subject = _ids_in_text(text, original_subject)
    if not recipients or not all(r.recipient for r in recipients):
        # An empty or partial status part (seen from Google, Postfix, Symantec):
        # complete it from the human-readable text, as for a non-standard bounce.
        guessed = _text_recipients(message, text)
        if not recipients:
            recipients = guessed
        else:
            fill = guessed[0].recipient
            recipients = tuple(
                r if r.recipient else attrs.evolve(r, recipient=fill) for r in recipients
            )
    return DeliveryReport(
        message=message,
        recipients=recipients,
        original_message_id=original_id,
        original_subject=original_subject,
        standard=True,
    )


def _walk(tree: Message) -> Iterable[Message]:
    stack = [tree]
    while stack:
        part = stack.pop()
        yield part
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(reversed([p for p in payload if isinstance(p, Message)]))


def _status_blocks(part: Message, decoder: MimeDecoder | None) -> list[dict[str, str]]:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return [
            {name.lower(): _value(str(value), decoder) for name, value in block.raw_items()}
            for block in payload
            if isinstance(block, Message)
        ]
    data = part.get_payload(decode=True)
    text = data.decode("ascii", "surrogateescape") if isinstance(data, bytes) else ""
    blocks = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        parsed = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(chunk)
        items = {name.lower(): _value(str(value), decoder) for name, value in parsed.items()}
        if items:
            blocks.append(items)
    return blocks


def _value(raw: str, decoder: MimeDecoder | None) -> str:
    if decoder is not None:
        try:
            return decoder.header(raw, where="delivery-status field")
        except ValueError:
            pass  # an undecodable diagnostic keeps its ASCII part below
    return " ".join(raw.encode("ascii", "ignore").decode("ascii").split())


def _names_recipient(block: Mapping[str, str]) -> bool:
    return any(
        k in block
        for k in ("final-recipient", "original-recipient", "action", "status", "diagnostic-code")
    )


def _address_of(value: str) -> str:
    _, _, address = value.partition(";")
    address = (address or value).strip().strip("<>").strip()
    found = _ADDRESS.search(address)
    return found.group(0).lower() if found else address.lower()


def _action(value: str, status: str) -> str:
    """RFC 3464's action, with the non-standard values some senders write mapped."""
    words = value.split()
    action = words[0].lower().rstrip(".;,") if words else ""
    if action in _ACTIONS:
        return action
    if action in _ACTION_ALIASES:
        return _ACTION_ALIASES[action]
    return {"2": "delivered", "4": "delayed"}.get(status[:1], "failed")


def _recipient(block: Mapping[str, str]) -> RecipientStatus:
    recipient = block.get("final-recipient") or block.get("original-recipient") or ""
    found = _STATUS.search(block.get("status", ""))
    status = found.group(0) if found else ""
    diagnostic = block.get("diagnostic-code", "")
    _, _, diagnostic_text = diagnostic.partition(";")
    return RecipientStatus(
        recipient=_address_of(recipient) if recipient else "",
        action=_action(block.get("action", ""), status),
        status=status,
        diagnostic=" ".join((diagnostic_text or diagnostic).split())[:1000],
        remote_mta=_address_of(block.get("remote-mta", "")).split(";")[-1].strip(),
    )


def _returned_headers(part: Message | None, decoder: MimeDecoder | None) -> tuple[str | None, str]:
    if part is None:
        return None, ""
    if part.get_content_maintype() == "message":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, Message):
            ids = parse_message_ids(str(inner.get("Message-ID", "")))
            subject = _value(str(inner.get("Subject", "")), decoder)
            return (ids[0] if ids else None), subject
        return None, ""
    data = part.get_payload(decode=True)
    text = data.decode("ascii", "surrogateescape") if isinstance(data, bytes) else ""
    return _ids_in_text(text, "")


def _ids_in_text(text: str, subject: str) -> tuple[str | None, str]:
    found = _HEADER_ID.search(text)
    if not subject:
        match = _HEADER_SUBJECT.search(text)
        subject = " ".join(match.group(1).split()) if match else ""
    return (found.group(1) if found else None), subject


def _heuristic_report(message: InboundMessage, tree: Message | None) -> DeliveryReport:
    texts = [message.text, message.quoted_text]
    original_id: str | None = None
    original_subject = ""
    if tree is not None:
        for part in leaves(tree):
            ctype = part.get_content_type()
            if ctype in ("message/rfc822", "text/rfc822-headers"):
                found, subject = _returned_headers(part, None)
                original_id = original_id or found
                original_subject = original_subject or subject
    text = "\n".join(texts)
    if original_id is None:
        original_id, original_subject = _ids_in_text(text, original_subject)
    return DeliveryReport(
        message=message,
        recipients=_text_recipients(message, text),
        original_message_id=original_id,
        original_subject=original_subject,
        standard=False,
    )


def _text_recipients(message: InboundMessage, text: str) -> tuple[RecipientStatus, ...]:
    """Failed recipients read from ``X-Failed-Recipients`` or the bounce's text."""
    failed = [
        address.strip().lower()
        for address in message.headers.get("x-failed-recipients", "").split(",")
        if "@" in address
    ]
    own = {message.sender, *message.recipients}
    if not failed:
        failed = [a.lower() for a in _ADDRESS.findall(text) if a.lower() not in own][:1]
    status = _STATUS.search(text)
    diagnostic = ""
    for line in text.splitlines():
        if _STATUS.search(line) or _SMTP_REPLY.search(line):
            diagnostic = " ".join(line.split())[:1000]
            break
    return tuple(
        RecipientStatus(
            recipient=address,
            action="failed",
            status=status.group(0) if status else "",
            diagnostic=diagnostic,
        )
        for address in dict.fromkeys(failed or [""])
    )
