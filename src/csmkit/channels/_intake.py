"""Intake: filter, thread and store inbound messages as ticket events."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

import attrs

from csmkit.channels._email import EmailParser
from csmkit.channels._message import BlobStore, InboundMessage, MemoryBlobStore
from csmkit.channels._quotes import strip_quoted_reply
from csmkit.errors import ConcurrencyError, MessageFormatError, StoreArgumentError
from csmkit.plugins import PluginManager, auto_reply_reason
from csmkit.storage import TicketStore
from csmkit.timeline import Direction, Event, MessageAdded, TicketCreated, Timeline

__all__ = ["CustomerResolver", "Intake", "IntakeResult", "default_ticket_id"]

Outcome = Literal["created", "appended", "duplicate", "dropped"]

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
            one), ``"duplicate"`` (its id is already stored: nothing written) or
            ``"dropped"`` (an inbound filter refused it: nothing written).
        ticket_id: The ticket it went to (or already was in); ``None`` when dropped.
        events: The events appended (empty for duplicates and drops).
        customer_id: The resolved customer, ``None`` for an unknown sender.
        reason: Why it was dropped or considered a duplicate (``""`` otherwise).
    """

    outcome: Outcome
    ticket_id: str | None
    events: tuple[Event, ...] = ()
    customer_id: str | None = None
    reason: str = ""


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

    For each message: (1) if its ``external_id`` is already stored, it is a duplicate
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

    def receive_email(self, raw: bytes, *, received_at: datetime) -> IntakeResult:
        """Parse RFC 5322 bytes with `email_parser` and
        [`receive()`][csmkit.channels.Intake.receive] them.

        Raises:
            MessageFormatError: malformed or oversized mail (nothing stored).
        """
        message = self.email_parser.parse(raw, received_at=received_at, blobs=self.blobs)
        return self.receive(message)

    def receive(self, message: InboundMessage) -> IntakeResult:
        """Take in one message; see the class description.

        Returns:
            What happened ([`IntakeResult`][csmkit.channels.IntakeResult]).

        Raises:
            MessageFormatError: not an [`InboundMessage`][csmkit.channels.InboundMessage].
            StorageError: the store failed (nothing half-written).
        """
        if not isinstance(message, InboundMessage):
            raise MessageFormatError(f"expected an InboundMessage, got {type(message).__name__}")
        for _ in range(_ATTEMPTS):
            try:
                return self._receive(message)
            except ConcurrencyError:
                continue  # someone else wrote the ticket; look again (maybe a duplicate)
        raise ConcurrencyError(
            f"message {message.external_id!r}: the ticket kept changing during {_ATTEMPTS} "
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
        if message.attachments:
            meta["attachments"] = [a.to_dict() for a in message.attachments]
        if ticket_id is not None:
            timeline = self.store.load(ticket_id)
            version = len(timeline.events)
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
            self.plugins.append_and_notify(self.store, ticket_id, batch, version)
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
        self.plugins.append_and_notify(self.store, ticket_id, batch, 0)
        return IntakeResult("created", ticket_id, batch, customer_id)

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
