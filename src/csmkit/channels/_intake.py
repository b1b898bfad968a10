"""Intake: filter, thread and store inbound messages as ticket events."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

import attrs

from csmkit.channels._email import EmailParser
from csmkit.channels._message import BlobStore, InboundMessage, MemoryBlobStore
from csmkit.channels._quotes import strip_quoted_reply
from csmkit.channels._reports import AutoReply, DeliveryReport, recognise
from csmkit.errors import ConcurrencyError, MessageFormatError, StoreArgumentError
from csmkit.plugins import OWN_MESSAGE_ID_PREFIX, PluginManager, auto_reply_reason
from csmkit.storage import SlaDue, TicketStore
from csmkit.timeline import (
    AutoReplyReceived,
    DeliveryFailed,
    Direction,
    Event,
    MessageAdded,
    TicketCreated,
    Timeline,
)

__all__ = ["CustomerResolver", "Intake", "IntakeResult", "default_ticket_id"]

_log = logging.getLogger(__name__)

# The level of each outcome: INFO when something was written or a message was refused.
_LEVELS = {
    "created": logging.INFO,
    "appended": logging.INFO,
    "recorded": logging.INFO,
    "dropped": logging.INFO,
    "unmatched": logging.INFO,
    "duplicate": logging.DEBUG,
    "ignored": logging.DEBUG,
}

Outcome = Literal["created", "appended", "duplicate", "dropped", "recorded", "unmatched", "ignored"]

_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|sv|回复|回覆|答复|转发|轉寄)\s*(?:\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)
_ATTEMPTS = 5


class CustomerResolver(Protocol):
    """Anything that maps a sender identity to a customer id (a ``CustomerDirectory``)."""

    def resolve(self, kind: str, value: str) -> str | None:
        """The customer id owning ``kind:value``, or ``None`` when unknown."""
        ...


@attrs.frozen
class IntakeResult:
    """What the intake did with one message.

    Attributes:
        outcome: ``"created"`` (a new ticket), ``"appended"`` (threaded into an existing
            one), ``"duplicate"`` (its id is already stored: nothing written),
            ``"dropped"`` (an inbound filter refused it: nothing written),
            ``"recorded"`` (a bounce or auto-reply recorded on the ticket it answers as
            ``DeliveryFailed`` / ``AutoReplyReceived``), ``"unmatched"`` (a bounce or
            auto-reply whose ticket was not found: nothing written, see ``fact``) or
            ``"ignored"`` (a delivery report without failures: nothing written).
        ticket_id: The ticket it went to (or already was in); ``None`` when dropped.
        events: The events appended (empty for duplicates and drops).
        customer_id: The resolved customer, ``None`` for an unknown sender.
        reason: Why it was dropped, ignored, unmatched or considered a duplicate
            (``""`` otherwise).
        fact: The recognised bounce or auto-reply, for the caller to act on.
    """

    outcome: Outcome
    ticket_id: str | None
    events: tuple[Event, ...] = ()
    customer_id: str | None = None
    reason: str = ""
    fact: DeliveryReport | AutoReply | None = None


def default_ticket_id(message: InboundMessage) -> str:
    """A ticket id derived from the message's channel and id: ``T-`` + 16 base32 chars.

    Deterministic, so two processes taking in the same message race for the same ticket
    id and the store's optimistic concurrency lets only one create it.
    """
    seed = f"{message.channel}\x00{message.external_id}"
    if message.external_id is None:
        seed += f"\x00{message.sender}\x00{message.received_at.isoformat()}\x00{message.text}"
    digest = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).digest()
    return "T-" + base64.b32encode(digest).decode("ascii")[:16]


class Intake:
    """Turns inbound messages into ticket events in a store.

    Bounces and auto-replies (a [`DeliveryReport`][csmkit.channels.DeliveryReport] or
    [`AutoReply`][csmkit.channels.AutoReply], from
    [`EmailParser.parse_inbound()`][csmkit.channels.EmailParser.parse_inbound] or
    recognised here from a message's headers) never open a ticket and are never
    answered: they are matched to the ticket of the message they answer (its
    ``Message-ID``, then the subject tag) and recorded there as ``DeliveryFailed`` (one
    per failed recipient) or ``AutoReplyReceived``; unmatched ones come back as
    ``"unmatched"`` with the fact.

    For other messages: (1) if its ``external_id`` is already stored, it is a duplicate
    and nothing is written; (2) every ``csmkit_inbound_filter`` is asked (the built-in
    one drops auto-replies, list mail and our own mail); (3) ``csmkit_match_ticket``
    picks the ticket (message ids, then the subject tag), else a new ticket is opened;
    (4) the sender is resolved to a customer; (5) the body (quote-stripped for replies)
    goes to the blob store and a ``MessageAdded`` referencing it is appended, after a
    ``TicketCreated`` for new tickets, through ``plugins.append_and_notify``.

    Args:
        store: Where tickets live.
        plugins: The application's plugin manager.
        blobs: Where bodies are kept (default: a new
            [`MemoryBlobStore`][csmkit.channels.MemoryBlobStore]).
        customers: Resolves senders to customers (a
            [`CustomerDirectory`][csmkit.customers.CustomerDirectory]); default: the store's
            ``find_customer``. Unknown senders give ``customer_id=None``.
        ticket_type: Type of tickets opened by intake.
        new_ticket_id: Makes the id of a new ticket (default
            [`default_ticket_id()`][csmkit.channels.default_ticket_id]).
        quote_stripper: Cuts quoted history off replies (default
            [`strip_quoted_reply()`][csmkit.channels.strip_quoted_reply]); ``None`` keeps bodies
            whole.
        email_parser: Parser used by [`receive_email()`][csmkit.channels.Intake.receive_email].
        created_event: Builds the ``TicketCreated`` of a new ticket from keyword
            arguments (``ticket_id``, ``at``, ``actor``, ``type``, ``channel``,
            ``customer_id``, ``subject``), e.g. a workflow's ``created_event`` so the
            ticket starts in the workflow's initial state with its name, version and
            form defaults. Default: a plain ``TicketCreated``. Errors it raises
            propagate and nothing is written.
        extra_events: Called with the ticket's timeline after the intake's events
            (``None`` when there was no ticket before) and those events; the events it
            returns are appended **in the same batch**, so the message and what it
            causes are stored together or not at all (``csmkit.desk`` runs its rules
            here). It is called again when the append is retried.
        due_mark: Called with the ticket's timeline including the batch; returns the
            SLA due mark the batch carries to the store (``store.append(..., due=)``,
            so ``store.due_before`` stays true). ``csmkit.desk`` passes its own; without
            it the batch carries none (the ticket has no mark until its next batch).
    """

    def __init__(
        self,
        store: TicketStore,
        plugins: PluginManager,
        *,
        blobs: BlobStore | None = None,
        customers: CustomerResolver | None = None,
        ticket_type: str = "consultation",
        new_ticket_id: Callable[[InboundMessage], str] = default_ticket_id,
        quote_stripper: Callable[[str], str] | None = strip_quoted_reply,
        email_parser: EmailParser | None = None,
        created_event: Callable[..., TicketCreated] | None = None,
        extra_events: Callable[[Timeline, tuple[Event, ...]], Sequence[Event]] | None = None,
        due_mark: Callable[[Timeline], SlaDue | None] | None = None,
    ) -> None:
        self.store = store
        self.plugins = plugins
        self.blobs: BlobStore = blobs if blobs is not None else MemoryBlobStore()
        self.customers = customers
        self.ticket_type = ticket_type
        self._new_id = new_ticket_id
        self._strip = quote_stripper
        self.email_parser = email_parser or EmailParser()
        self._created_event = created_event if created_event is not None else TicketCreated
        self._extra = extra_events
        self._due_mark = due_mark

    def receive_email(self, raw: bytes, *, received_at: datetime) -> IntakeResult:
        """Parse RFC 5322 bytes with `email_parser` and
        [`receive()`][csmkit.channels.Intake.receive] them.

        Raises:
            MessageFormatError: malformed or oversized mail (nothing stored).
        """
        parsed = self.email_parser.parse_inbound(raw, received_at=received_at, blobs=self.blobs)
        return self.receive(parsed)

    def receive(self, message: InboundMessage | DeliveryReport | AutoReply) -> IntakeResult:
        """Take in one message, bounce or auto-reply; see the class description.

        Returns:
            What happened ([`IntakeResult`][csmkit.channels.IntakeResult]).

        Raises:
            MessageFormatError: not an [`InboundMessage`][csmkit.channels.InboundMessage],
                ``DeliveryReport`` or ``AutoReply``.
            StorageError: the store failed (nothing half-written).
        """
        if isinstance(message, (DeliveryReport, AutoReply)) and _own(message.message):
            message = message.message  # our own mail came back: a loop, for the filters
        elif isinstance(message, InboundMessage) and not _own(message):
            message = recognise(message)
        if not isinstance(message, (InboundMessage, DeliveryReport, AutoReply)):
            raise MessageFormatError(f"expected an InboundMessage, got {type(message).__name__}")
        for _ in range(_ATTEMPTS):
            try:
                if not isinstance(message, InboundMessage):
                    return _logged(_record_fact(self, message), message.message)
                return _logged(self._receive(message), message)
            except ConcurrencyError:
                continue  # someone else wrote the ticket; look again (maybe a duplicate)
        inbound = message if isinstance(message, InboundMessage) else message.message
        raise ConcurrencyError(
            f"message {inbound.external_id!r}: the ticket kept changing during {_ATTEMPTS} "
            "attempts",
            ticket_id="",
        )

    def _receive(self, message: InboundMessage) -> IntakeResult:
        if message.external_id is not None:
            existing = self.store.find_ticket_by_message_id(message.external_id)
            if existing is not None:
                return IntakeResult(
                    "duplicate",
                    existing,
                    reason=f"message {message.external_id} is already in ticket {existing}",
                )
        if not self.plugins.accepts_inbound(message):
            reason = auto_reply_reason(dict(message.headers), message.external_id)
            return IntakeResult(
                "dropped", None, reason=reason or "refused by a csmkit_inbound_filter plugin"
            )
        customer_id = self._customer(message)
        ticket_id = self.plugins.match_ticket(message, self.store)
        author = customer_id or message.sender or None
        meta: dict[str, Any] = {"sender": f"{message.sender_kind}:{message.sender}"}
        if message.quoted_text:
            meta["quoted_ref"] = self._body(message.quoted_text)
        if message.attachments:
            meta["attachments"] = [a.to_dict() for a in message.attachments]
        if ticket_id is not None:
            timeline = self.store.load(ticket_id)
            at = max(message.received_at, timeline.ticket.updated_at)
            text = self._strip(message.text) if self._strip is not None else message.text
            event = MessageAdded(
                ticket_id=ticket_id,
                at=at,
                actor=author,
                direction=Direction.INBOUND,
                channel=message.channel,
                author=author,
                message_id=message.external_id,
                body_ref=self._body(text),
                meta=meta,
            )
            batch = self._with_extra(timeline, (event,))
            self._append(ticket_id, timeline, batch)
            return IntakeResult("appended", ticket_id, batch, customer_id)
        ticket_id = self._new_id(message)
        if self.store.version(ticket_id) > 0:
            # Same derived id, already created: a replay whose id was not indexed.
            return IntakeResult("duplicate", ticket_id, reason=f"ticket {ticket_id} already exists")
        subject = _REPLY_PREFIX.sub("", message.subject).strip() or message.text[:80].strip()
        created = self._created_event(
            ticket_id=ticket_id,
            at=message.received_at,
            actor=author,
            type=self.ticket_type,
            channel=message.channel,
            customer_id=customer_id,
            subject=" ".join(subject.split()),
        )
        added = MessageAdded(
            ticket_id=ticket_id,
            at=message.received_at,
            actor=author,
            direction=Direction.INBOUND,
            channel=message.channel,
            author=author,
            message_id=message.external_id,
            body_ref=self._body(message.text),
            meta=meta,
        )
        batch = self._with_extra(None, (created, added))
        self._append(ticket_id, None, batch)
        return IntakeResult("created", ticket_id, batch, customer_id)

    def _append(self, ticket_id: str, timeline: Timeline | None, batch: tuple[Event, ...]) -> None:
        due = None
        if self._due_mark is not None:
            final = Timeline(batch) if timeline is None else timeline.append(*batch)
            due = self._due_mark(final)  # raises before anything is written
        version = 0 if timeline is None else len(timeline.events)
        self.plugins.append_and_notify(self.store, ticket_id, batch, version, due=due)

    def _with_extra(
        self, timeline: Timeline | None, events: tuple[Event, ...]
    ) -> tuple[Event, ...]:
        if self._extra is None:
            return events
        current = Timeline(events) if timeline is None else timeline.append(*events)
        return (*events, *self._extra(current, events))

    def _customer(self, message: InboundMessage) -> str | None:
        if not message.sender:
            return None
        if self.customers is not None:
            return self.customers.resolve(message.sender_kind, message.sender)
        try:
            customer = self.store.find_customer(message.sender_kind, message.sender)
        except StoreArgumentError:
            return None  # a sender kind the store cannot index: an unknown customer
        return None if customer is None else customer.id

    def _body(self, text: str) -> str:
        return self.blobs.put(text.encode("utf-8"), content_type="text/plain; charset=utf-8")

    def _append_fact(
        self, ticket_id: str, timeline: Timeline, events: tuple[Event, ...], fact: Fact
    ) -> IntakeResult:
        batch = self._with_extra(timeline, events)
        self._append(ticket_id, timeline, batch)
        return IntakeResult("recorded", ticket_id, batch, reason=_describe(fact), fact=fact)


Fact = DeliveryReport | AutoReply


def _logged(result: IntakeResult, message: InboundMessage) -> IntakeResult:
    """Log the intake's decision on ``message`` (its channel and id, never its text)."""
    level = _LEVELS.get(result.outcome, logging.DEBUG)
    if not _log.isEnabledFor(level):
        return result
    what = f"{message.channel} message {(message.external_id or '(no id)')[:200]!r}"
    kind = "auto-reply" if isinstance(result.fact, AutoReply) else "delivery report"
    if result.outcome == "created":
        _log.info("%s opened ticket %s", what, result.ticket_id)
    elif result.outcome == "appended":
        _log.info("%s threaded into ticket %s", what, result.ticket_id)
    elif result.outcome == "recorded":
        _log.info("%s: %s recorded on ticket %s", what, kind, result.ticket_id)
    elif result.outcome == "dropped":
        _log.info("%s dropped: %.200r", what, result.reason)
    elif result.outcome == "unmatched":
        _log.info("%s: %s matches no ticket", what, kind)
    elif result.outcome == "duplicate":
        _log.debug("%s is a duplicate (ticket %s): nothing written", what, result.ticket_id)
    else:
        _log.debug("%s: %s ignored", what, kind)
    return result


def _own(message: InboundMessage) -> bool:
    external_id = message.external_id or ""
    return external_id.startswith(f"<{OWN_MESSAGE_ID_PREFIX}")


def _describe(fact: Fact) -> str:
    if isinstance(fact, AutoReply):
        return f"auto-reply from {fact.message.sender} ({fact.reason})"
    failures = ", ".join(
        f"{r.recipient or '?'} {r.action} {r.status}".strip() for r in fact.failures
    )
    return f"delivery report {fact.message.external_id}: {failures or 'no failures'}"


def _match_fact(intake: Intake, fact: Fact) -> str | None:
    for message_id in fact.answers:
        ticket_id = intake.store.find_ticket_by_message_id(message_id)
        if ticket_id is not None:
            return ticket_id
    subjects = [fact.message.subject]
    if isinstance(fact, DeliveryReport):
        subjects.insert(0, fact.original_subject)
    for subject in subjects:
        ref = intake.email_parser.subject_tag.find(subject) if subject else None
        if ref is not None and intake.store.version(ref) > 0:
            return ref
    return None


def _already_recorded(timeline: Timeline, report_id: str | None) -> bool:
    if report_id is None:
        return False
    for event in timeline.events:
        if isinstance(event, DeliveryFailed) and event.report_id == report_id:
            return True
        if isinstance(event, AutoReplyReceived) and event.message_id == report_id:
            return True
    return False


def _record_fact(intake: Intake, fact: Fact) -> IntakeResult:
    """Record a bounce or an auto-reply on the ticket it answers (never a new ticket)."""
    message = fact.message
    if isinstance(fact, DeliveryReport) and not fact.failures:
        return IntakeResult("ignored", None, reason=_describe(fact), fact=fact)
    ticket_id = _match_fact(intake, fact)
    if ticket_id is None:
        return IntakeResult(
            "unmatched",
            None,
            reason=f"{_describe(fact)}: no ticket sent a message it answers",
            fact=fact,
        )
    timeline = intake.store.load(ticket_id)
    if _already_recorded(timeline, message.external_id):
        return IntakeResult(
            "duplicate",
            ticket_id,
            reason=f"{message.external_id} is already recorded on ticket {ticket_id}",
            fact=fact,
        )
    at = max(message.received_at, timeline.ticket.updated_at)
    events: tuple[Event, ...]
    if isinstance(fact, DeliveryReport):
        events = tuple(
            DeliveryFailed(
                ticket_id=ticket_id,
                at=at,
                actor="system",
                channel=message.channel,
                recipient=failure.recipient,
                action=failure.action,
                status=failure.status or None,
                diagnostic=failure.diagnostic or None,
                message_id=fact.original_message_id,
                report_id=message.external_id,
            )
            for failure in fact.failures
        )
    else:
        events = (
            AutoReplyReceived(
                ticket_id=ticket_id,
                at=at,
                actor="system",
                channel=message.channel,
                sender=message.sender,
                reason=fact.reason,
                message_id=message.external_id,
                in_reply_to=message.in_reply_to,
                subject=message.subject,
                body_ref=intake._body(message.text) if message.text else None,
            ),
        )
    return intake._append_fact(ticket_id, timeline, events, fact)
