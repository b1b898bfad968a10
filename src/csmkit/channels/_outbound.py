"""Outbound notifications: SMTP e-mail (stdlib ``smtplib``) and webhook POST (``urllib``)."""

from __future__ import annotations

import email.utils
import json
import re
import secrets
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import attrs

from csmkit._jsonvalue import freeze_mapping, thaw
from csmkit._time import format_instant, require_aware
from csmkit.channels._email import SubjectTag, parse_message_ids
from csmkit.channels._webhook import webhook_headers
from csmkit.errors import DeliveryError, NotificationError
from csmkit.plugins import OWN_MESSAGE_ID_PREFIX

__all__ = [
    "DeliveryReceipt",
    "EmailNotification",
    "SmtpChannel",
    "WebhookChannel",
    "WebhookNotification",
]

_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 ftext: printable ASCII except ':'
_MAX_REFERENCES = 10


def _no_newlines(where: str, value: str) -> str:
    if not isinstance(value, str):
        raise NotificationError(f"{where} must be a string, got {value!r}")
    if any(ch in value for ch in "\r\n\x00"):
        raise NotificationError(f"{where} contains CR, LF or NUL: header injection refused")
    return value


def _address(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise NotificationError(f"{where} must be an e-mail address string, got {value!r}")
    _no_newlines(where, value)
    _, address = email.utils.parseaddr(value)
    if "@" not in address or address != value.strip():
        raise NotificationError(f"{where}: {value!r} is not a plain e-mail address")
    return address


def _addresses(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)):
        raise NotificationError(f"{where} must be a list of addresses, got {value!r}")
    return tuple(_address(f"{where}[{i}]", v) for i, v in enumerate(value))


def _to(value: object) -> tuple[str, ...]:
    return _addresses(value, "to")


def _cc(value: object) -> tuple[str, ...]:
    return _addresses(value, "cc")


def _ids(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise NotificationError(f"references must be a list of message ids, got {value!r}")
    out = []
    for index, item in enumerate(value):
        _no_newlines(f"references[{index}]", item)
        if parse_message_ids(item) != (item,):
            raise NotificationError(f"references[{index}]: {item!r} is not a <message-id>")
        out.append(item)
    return tuple(out)


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    require_aware(value, f"{type(instance).__name__}.{attribute.name}", NotificationError)


@attrs.frozen(kw_only=True)
class EmailNotification:
    """An e-mail to send; validated so that no field can inject headers.

    Attributes:
        to: Recipient addresses (at least one).
        subject: The subject (the ticket tag is added when ``ticket_id`` is set).
        text: The plain-text body.
        at: When it is sent (the ``Date`` header; timezone-aware).
        html: An optional HTML alternative.
        cc: Copy recipients.
        ticket_id: The ticket it belongs to (subject tag, Message-ID).
        in_reply_to: The customer message it answers, so the reply threads in their
            mail client.
        references: The conversation's earlier ids, oldest first.
        automatic: Sent by a rule, not a person: adds ``Auto-Submitted: auto-replied``
            (RFC 3834), ``X-Auto-Response-Suppress: All`` and ``Precedence: auto_reply``,
            so well-behaved auto-responders do not answer it.
        headers: Extra headers (names and values are checked for injection).

    Raises:
        NotificationError: CR/LF in any header value, bad addresses, no recipient.
    """

    to: tuple[str, ...] = attrs.field(converter=_to)
    subject: str = attrs.field()
    text: str = attrs.field()
    at: datetime = attrs.field(validator=_aware)
    html: str | None = attrs.field(default=None)
    cc: tuple[str, ...] = attrs.field(default=(), converter=_cc)
    ticket_id: str | None = attrs.field(default=None)
    in_reply_to: str | None = attrs.field(default=None)
    references: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    automatic: bool = attrs.field(default=False)
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=dict, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        if not self.to:
            raise NotificationError("an e-mail needs at least one recipient in 'to'")
        _no_newlines("subject", self.subject)
        if not isinstance(self.text, str):
            raise NotificationError(f"text must be a string, got {self.text!r}")
        if self.ticket_id is not None:
            _no_newlines("ticket_id", self.ticket_id)
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", self.ticket_id):
                raise NotificationError(f"ticket_id {self.ticket_id!r} is not a plain id")
        if self.in_reply_to is not None:
            _no_newlines("in_reply_to", self.in_reply_to)
            if parse_message_ids(self.in_reply_to) != (self.in_reply_to,):
                raise NotificationError(f"in_reply_to {self.in_reply_to!r} is not a <message-id>")
        for name, value in self.headers.items():
            if not isinstance(name, str) or not _HEADER_NAME.match(name):
                raise NotificationError(f"header name {name!r} is not a valid field name")
            _no_newlines(f"headers[{name!r}]", value)


def _frozen(value: object) -> Mapping[str, Any]:
    try:
        return freeze_mapping(value, "data")
    except ValueError as exc:
        raise NotificationError(f"webhook data is not JSON-safe: {exc}") from None


@attrs.frozen(kw_only=True)
class WebhookNotification:
    """A JSON event to POST to a webhook endpoint.

    Attributes:
        id: Unique id (the ``webhook-id``; receivers de-duplicate on it).
        type: Event type (``"ticket.created"``, ``"sla.warning"``).
        data: JSON-safe payload.
        at: When it is sent (``webhook-timestamp``; timezone-aware).
    """

    id: str = attrs.field()
    type: str = attrs.field()
    data: Mapping[str, Any] = attrs.field(converter=_frozen)
    at: datetime = attrs.field(validator=_aware)

    def __attrs_post_init__(self) -> None:
        _no_newlines("id", self.id)
        _no_newlines("type", self.type)
        if not self.id or not self.type:
            raise NotificationError("a webhook notification needs an id and a type")

    def body(self) -> bytes:
        """The request body: ``{"id", "type", "timestamp", "data"}`` as UTF-8 JSON."""
        document = {
            "id": self.id,
            "type": self.type,
            "timestamp": format_instant(self.at),
            "data": thaw(self.data),
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@attrs.frozen
class DeliveryReceipt:
    """What a channel did with a notification.

    Attributes:
        channel: ``"smtp"``, ``"webhook"`` or a plugin's channel name.
        message_id: The id it went out with (e-mail ``Message-ID``, ``webhook-id``);
            record it on the ticket's outbound ``MessageAdded`` so replies thread.
        recipients: Who accepted it.
        attempts: How many attempts it took.
    """

    channel: str
    message_id: str
    recipients: tuple[str, ...]
    attempts: int = 1


class SmtpChannel:
    """Sends [`EmailNotification`][csmkit.channels.EmailNotification] over SMTP (stdlib
    ``smtplib``).

    Each message gets our own ``Message-ID`` (``<csmkit.<ticket>.<random>@domain>``, which
    the built-in inbound filter recognises if it ever comes back), ``In-Reply-To`` and
    ``References`` (capped at 10 ids, keeping the first and the newest) so the
    customer's reply threads back, and the ticket tag in the subject.

    Args:
        host: SMTP server host.
        port: SMTP server port.
        sender: The ``From`` address (``"客服 <support@example.com>"`` or a plain address).
        domain: Right-hand side of generated Message-IDs (default: the sender's domain).
        timeout: Socket timeout in seconds.
        starttls: Upgrade with ``STARTTLS`` before sending.
        username: Login user (with ``password``).
        password: Login password.
        subject_tag: The ticket tag put in subjects.
        smtp_factory: Called as ``smtp_factory(host, port, timeout=...)``; default
            ``smtplib.SMTP`` (``smtplib.SMTP_SSL`` for implicit TLS).
        token: Returns the random part of Message-IDs (tests pass a counter).
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        sender: str,
        domain: str | None = None,
        timeout: float = 30.0,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        subject_tag: SubjectTag | None = None,
        smtp_factory: Callable[..., smtplib.SMTP] = smtplib.SMTP,
        token: Callable[[], str] | None = None,
    ) -> None:
        _no_newlines("sender", sender)
        _, address = email.utils.parseaddr(sender)
        if "@" not in address:
            raise NotificationError(f"sender {sender!r} has no e-mail address")
        self.host = host
        self.port = port
        self.sender = sender
        self.domain = domain or address.rpartition("@")[2]
        if not re.fullmatch(r"[A-Za-z0-9.-]+", self.domain):
            raise NotificationError(f"domain {self.domain!r} is not a host name")
        self.timeout = timeout
        self.starttls = starttls
        self.username = username
        self.password = password
        self.subject_tag = subject_tag or SubjectTag()
        self._factory = smtp_factory
        self._token = token or (lambda: secrets.token_hex(8))

    def __repr__(self) -> str:
        return f"<SmtpChannel {self.host}:{self.port} from {self.sender!r}>"

    def build(self, notification: EmailNotification) -> EmailMessage:
        """The complete message that [`send()`][csmkit.channels.SmtpChannel.send] would send."""
        if not isinstance(notification, EmailNotification):
            raise NotificationError(
                f"SmtpChannel sends EmailNotification, got {type(notification).__name__}"
            )
        ticket = notification.ticket_id
        local = f"{OWN_MESSAGE_ID_PREFIX}{ticket + '.' if ticket else ''}{self._token()}"
        message_id = f"<{local}@{self.domain}>"
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(notification.to)
        if notification.cc:
            message["Cc"] = ", ".join(notification.cc)
        subject = notification.subject
        if ticket is not None:
            subject = self.subject_tag.apply(subject, ticket)
        message["Subject"] = subject
        message["Date"] = email.utils.format_datetime(notification.at)
        message["Message-ID"] = message_id
        references = list(notification.references)
        if notification.in_reply_to is not None:
            message["In-Reply-To"] = notification.in_reply_to
            if notification.in_reply_to not in references:
                references.append(notification.in_reply_to)
        if len(references) > _MAX_REFERENCES:
            references = references[:1] + references[-(_MAX_REFERENCES - 1) :]
        if references:
            message["References"] = " ".join(references)
        if notification.automatic:
            message["Auto-Submitted"] = "auto-replied"
            message["X-Auto-Response-Suppress"] = "All"
            message["Precedence"] = "auto_reply"
        for name, value in notification.headers.items():
            message[name] = value
        message.set_content(notification.text)
        if notification.html is not None:
            message.add_alternative(notification.html, subtype="html")
        return message

    def send(self, notification: EmailNotification) -> DeliveryReceipt:
        """Send one e-mail.

        Returns:
            A receipt with the generated Message-ID and the accepted recipients.

        Raises:
            NotificationError: not an [`EmailNotification`][csmkit.channels.EmailNotification].
            DeliveryError: the server refused every recipient, or SMTP/network failed.
        """
        message = self.build(notification)
        recipients = [*notification.to, *notification.cc]
        try:
            with self._factory(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(message, to_addrs=recipients)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"SMTP delivery to {self.host}:{self.port} failed: {type(exc).__name__}: {exc}"
            ) from exc
        accepted = tuple(r for r in recipients if r not in refused)
        return DeliveryReceipt("smtp", str(message["Message-ID"]), accepted)


class WebhookChannel:
    """POSTs [`WebhookNotification`][csmkit.channels.WebhookNotification] JSON to a URL (stdlib
    ``urllib``).

    Signed with Standard Webhooks headers when a secret is given. Network errors,
    HTTP 408, 429 and 5xx are retried with exponential backoff (``backoff``,
    ``2 * backoff``, …); other 4xx answers fail at once (retrying will not help).

    Args:
        url: ``http://`` or ``https://`` endpoint.
        secret: Signing secret, or ``None`` for unsigned requests.
        timeout: Seconds per attempt.
        retries: Extra attempts after the first.
        backoff: Seconds before the first retry (doubled each time).
        sleep: Called with the seconds to wait (tests pass a recorder).
        opener: Called as ``opener(request, timeout=...)``; default
            ``urllib.request.urlopen``.
        headers: Extra request headers.
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str | bytes | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        opener: Callable[..., Any] = urllib.request.urlopen,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise NotificationError(f"webhook url must be http:// or https://, got {url!r}")
        _no_newlines("url", url)
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise NotificationError(f"retries must be an integer >= 0, got {retries!r}")
        if backoff < 0 or timeout <= 0:
            raise NotificationError("backoff must be >= 0 and timeout > 0")
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._opener = opener
        self.headers = dict(headers or {})
        for name, value in self.headers.items():
            if not _HEADER_NAME.match(name):
                raise NotificationError(f"header name {name!r} is not a valid field name")
            _no_newlines(f"headers[{name!r}]", value)

    def __repr__(self) -> str:
        return f"<WebhookChannel {self.url}>"

    def send(self, notification: WebhookNotification) -> DeliveryReceipt:
        """POST one notification, retrying transient failures.

        Raises:
            NotificationError: not a [`WebhookNotification`][csmkit.channels.WebhookNotification].
            DeliveryError: a permanent 4xx answer, or every attempt failed.
        """
        if not isinstance(notification, WebhookNotification):
            raise NotificationError(
                f"WebhookChannel sends WebhookNotification, got {type(notification).__name__}"
            )
        body = notification.body()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "csmkit-webhook",
            **self.headers,
        }
        if self.secret is not None:
            headers.update(webhook_headers(self.secret, notification.id, notification.at, body))
        else:
            headers["webhook-id"] = notification.id
        attempts = 0
        last = ""
        while True:
            attempts += 1
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with self._opener(request, timeout=self.timeout) as response:
                    response.read()
                return DeliveryReceipt("webhook", notification.id, (self.url,), attempts)
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                exc.close()
                if exc.code not in (408, 429) and exc.code < 500:
                    raise DeliveryError(
                        f"webhook {self.url} refused {notification.id!r}: {last}",
                        attempts=attempts,
                    ) from None
            except (urllib.error.URLError, OSError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempts > self.retries:
                raise DeliveryError(
                    f"webhook {self.url}: {attempts} attempts failed, last: {last}",
                    attempts=attempts,
                )
            self._sleep(self.backoff * 2 ** (attempts - 1))
