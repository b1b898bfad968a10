"""Ticket operations of the desk: open, reply, note, update, transition, assign, survey,
link."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from csmkit._time import require_aware
from csmkit.automation import Outcome
from csmkit.desk._core import DeskCore
from csmkit.desk._routing import REFERENCE_KEY, explain_recorded, last_unassigned
from csmkit.desk._types import pending_fields, relaxed_form
from csmkit.errors import (
    AutomationError,
    ConcurrencyError,
    NotFoundError,
    WorkflowError,
)
from csmkit.knowledge import TemplateError, TemplateSet
from csmkit.routing import Decision
from csmkit.timeline import (
    CORE_FIELDS,
    RESERVED_FIELDS,
    Assigned,
    Direction,
    Event,
    FieldChanged,
    Linked,
    MessageAdded,
    StatusChanged,
    SurveyAnswered,
    Ticket,
    Timeline,
)
from csmkit.workflow import Actor

__all__ = ["TicketOperations"]

_log = logging.getLogger(__name__)


class TicketOperations(DeskCore):
    """The operations on one ticket, each committed by the desk's commit loop."""

    templates: TemplateSet

    def open_ticket(
        self,
        type: str,
        *,
        channel: str,
        customer_id: str | None = None,
        subject: str = "",
        priority: str = "normal",
        fields: Mapping[str, Any] | None = None,
        tags: Sequence[str] = (),
        ticket_id: str | None = None,
        actor: str | None = None,
        meta: Mapping[str, Any] | None = None,
        _chain: tuple[str, ...] = (),
    ) -> Ticket:
        """Open a ticket of a known type (its form is checked), run the rules, store it.

        Raises:
            AutomationError: unknown type.
            WorkflowError: fields that break the type's form (nothing is written).
            ConcurrencyError: ``ticket_id`` already exists.
        """
        self._kind(type)
        if ticket_id is None:
            ticket_id = self._next_id()
        final, outcome, wrote = self._open(
            type,
            channel=channel,
            customer_id=customer_id,
            subject=subject,
            priority=priority,
            fields=fields,
            tags=tags,
            ticket_id=ticket_id,
            actor=actor,
            meta=meta,
            chain=_chain,
        )
        assert final is not None
        if wrote:
            self._scheduler.after_operation(final, self.now())
            self._run_intents(outcome)
        return final.ticket

    def _open(
        self,
        type: str,
        *,
        channel: str,
        customer_id: str | None,
        subject: str,
        priority: str,
        fields: Mapping[str, Any] | None,
        ticket_id: str,
        actor: str | None,
        meta: Mapping[str, Any] | None,
        chain: tuple[str, ...],
        tags: Sequence[str] = (),
    ) -> tuple[Timeline | None, Outcome, bool]:
        """Commit a new ticket (no intents run: the caller runs them)."""
        kind = self._kind(type)

        def build(timeline: Timeline | None, at: datetime) -> list[Event]:
            if timeline is not None:
                raise ConcurrencyError(
                    f"ticket {ticket_id!r} already exists",
                    ticket_id=ticket_id,
                    expected=0,
                    actual=len(timeline),
                )
            return [
                kind.workflow.created_event(
                    ticket_id=ticket_id,
                    at=at,
                    type=type,
                    channel=channel,
                    customer_id=customer_id,
                    subject=subject,
                    priority=priority,
                    fields=dict(fields or {}),
                    tags=tuple(tags),
                    actor=actor,
                    **({"meta": dict(meta)} if meta else {}),
                )
            ]

        return self._commit(ticket_id, build, chain=chain)

    def _add(self, ticket_id: str, event: Callable[[Timeline, datetime], Event]) -> Ticket:
        """Commit the one event ``event(timeline, at)`` makes."""
        return self._operation(ticket_id, lambda timeline, at: [event(timeline, at)])

    def reply(
        self,
        ticket_id: str,
        *,
        author: str,
        channel: str | None = None,
        body_ref: str | None = None,
        message_id: str | None = None,
        template: str | None = None,
        language: str | None = None,
        agent_name: str | None = None,
        actor: Actor | None = None,
    ) -> Ticket:
        """Add a public reply to the customer, written by hand or from a reply template.

        With ``template``, the desk's template of that name (in ``language``, its base
        language or the set's fallback) is filled from ``ticket`` (the ticket),
        ``customer`` (its profile from the desk's customer directory, with ``id`` and
        ``name``) and ``agent`` (``{"id": author, "name": ...}``). The filled text is
        kept in the message's ``meta["body"]`` with ``meta["template"]`` and
        ``meta["language"]`` (``body_ref`` stays for bodies kept elsewhere), and the
        template's actions are applied in order in the **same** commit: all or nothing.

        Args:
            ticket_id: The ticket.
            author: The agent replying (the message's author and actor).
            channel: The channel (default: the ticket's).
            body_ref: Where a hand-written body is kept (not with ``template``).
            message_id: The channel's id for the message.
            template: A template name of the desk's ``templates``.
            language: The template's language (default: the customer's ``language``
                when the profile has one, else the set's fallback).
            agent_name: ``{agent.name}`` (default: the agent's name in the desk's pool,
                else ``author``).
            actor: Who fires a template's transition (default: ``Actor(author)``, no roles).

        Raises:
            TemplateError: an unknown template, or a placeholder without a value.
            WorkflowError: an action the workflow or form refuses (e.g.
                ``TransitionNotAllowed``): nothing is written.
            NotFoundError: unknown ticket.
        """
        if template is None:
            return self._add(
                ticket_id,
                lambda timeline, at: MessageAdded(
                    ticket_id=ticket_id,
                    at=at,
                    actor=author,
                    direction=Direction.OUTBOUND,
                    channel=channel or timeline.ticket.channel,
                    author=author,
                    message_id=message_id,
                    body_ref=body_ref,
                ),
            )
        if body_ref is not None:
            raise TemplateError("reply: give either template or body_ref, not both")
        who = actor if actor is not None else Actor(author)

        def build(timeline: Timeline, at: datetime) -> Sequence[Event]:
            ticket = timeline.ticket
            customer, _ = self._customer_context(ticket)
            wanted = language
            if (
                wanted is None
                and customer is not None
                and isinstance(customer.get("language"), str)
            ):
                wanted = customer["language"]
            chosen = self.templates.get(template, wanted or self.templates.fallback)
            name = agent_name
            if name is None:
                found = None if self.agents is None else self.agents.get(author)
                name = author if found is None or not found.name else found.name
            text = chosen.render(
                {"ticket": ticket, "customer": customer, "agent": {"id": author, "name": name}}
            )
            events: list[Event] = [
                MessageAdded(
                    ticket_id=ticket_id,
                    at=at,
                    actor=author,
                    direction=Direction.OUTBOUND,
                    channel=channel or ticket.channel,
                    author=author,
                    message_id=message_id,
                    meta={"body": text, "template": chosen.name, "language": chosen.language},
                )
            ]
            kind = self._kind(ticket.type)
            for index, action in enumerate(chosen.actions):
                so_far = timeline.append(*events)
                where = f"template {chosen.name!r} ({chosen.language}) actions[{index}]"
                if action["do"] == "set_field":
                    changes = {str(action["name"]): action["value"]}
                    events.extend(self._field_events(so_far, changes, author, at, where=where))
                else:
                    data = action.get("data")
                    _, fired = kind.workflow.fire(
                        so_far,
                        str(action["transition"]),
                        actor=who,
                        at=at,
                        data=dict(data) if isinstance(data, Mapping) else {},
                        reason=None if action.get("reason") is None else str(action["reason"]),
                    )
                    events.extend(fired)
            return events

        return self._operation(ticket_id, build)

    def note(self, ticket_id: str, *, author: str, body_ref: str | None = None) -> Ticket:
        """Add an internal note (never public)."""
        return self._add(
            ticket_id,
            lambda timeline, at: MessageAdded(
                ticket_id=ticket_id,
                at=at,
                actor=author,
                direction=Direction.INTERNAL,
                channel="internal",
                author=author,
                public=False,
                body_ref=body_ref,
            ),
        )

    def transition(
        self,
        ticket_id: str,
        transition: str,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> Ticket:
        """Fire a workflow transition (checked; ``TransitionNotAllowed`` writes nothing)."""

        def make(timeline: Timeline, at: datetime) -> Sequence[Event]:
            kind = self._kind(timeline.ticket.type)
            _, events = kind.workflow.fire(
                timeline, transition, actor=actor, at=at, data=dict(data or {}), reason=reason
            )
            return events

        return self._operation(ticket_id, make)

    def update(
        self,
        ticket_id: str,
        *,
        fields: Mapping[str, Any],
        actor: str | None = None,
        at: datetime | None = None,
    ) -> Ticket:
        """Set form fields (``None`` clears one), checked by the ticket type's form, and
        run the rules on the resulting ``FieldChanged`` events like any operation.

        Required fields that a transition also requires may stay empty until that
        transition has fired (as on a ticket opened from a message); every other rule
        of the form holds for the fields after the change. A value equal to the current one
        records nothing.

        Args:
            ticket_id: The ticket.
            fields: Field name -> new value.
            actor: Who changed them.
            at: When (default: the clock); never before the ticket's last event.

        Raises:
            WorkflowError: an unknown field, a wrong type or value, or a required field
                cleared: every problem listed, nothing written.
            NotFoundError: unknown ticket.
        """
        if not isinstance(fields, Mapping) or not fields:
            raise WorkflowError(f"update of {ticket_id!r}: fields must be a non-empty mapping")
        if at is not None:
            require_aware(at, "at", AutomationError)
        changes = dict(fields)

        def build(timeline: Timeline | None, when: datetime) -> Sequence[Event]:
            if timeline is None:
                raise NotFoundError(f"ticket {ticket_id!r} not found")
            return self._field_events(timeline, changes, actor, when)

        final, _ = self._command(ticket_id, build, now=at)
        assert final is not None
        return final.ticket

    def _field_events(
        self,
        timeline: Timeline,
        changes: Mapping[str, Any],
        actor: str | None,
        when: datetime,
        *,
        where: str = "",
    ) -> list[FieldChanged]:
        """The ``FieldChanged`` events setting ``changes`` (checked by the ticket type's
        form as [`update()`][csmkit.desk.ServiceDesk.update] documents).

        Raises:
            WorkflowError: every problem listed, ``where`` naming the caller's context.
        """
        ticket_id = timeline.ticket.id
        kind = self._kind(timeline.ticket.type)
        current = dict(timeline.ticket.fields)
        merged = {k: v for k, v in {**current, **changes}.items() if v is not None}
        fired = {
            e.transition
            for e in timeline.events
            if isinstance(e, StatusChanged) and e.transition is not None
        }
        form = relaxed_form(kind.workflow, pending_fields(kind.workflow, fired))
        problems = []
        for name in changes:
            if not isinstance(name, str) or not name:
                problems.append(f"{name!r}: is not a field name")
            elif name in CORE_FIELDS or name in RESERVED_FIELDS:
                problems.append(
                    f"{name}: is a ticket attribute, not a form field; use its own "
                    "operation (assign, transition ...)"
                )
            elif form is not None and not form.allow_unknown and name not in form:
                problems.append(f"{name}: is not a field of the form of type {kind.name!r}")
        if form is not None and not problems:
            problems = [str(e) for e in form.validate(merged).errors]
        if problems:
            raise WorkflowError(
                f"ticket {ticket_id!r}: {where + ': ' if where else ''}fields do not match "
                f"the form of type {kind.name!r}",
                problems=problems,
            )
        return [
            FieldChanged(
                ticket_id=ticket_id,
                at=when,
                actor=actor,
                name=name,
                old=current.get(name),
                new=value,
            )
            for name, value in changes.items()
            if current.get(name) != value
        ]

    def assign(
        self,
        ticket_id: str,
        agent: str | None = None,
        *,
        group: str | None = None,
        actor: str | None = None,
    ) -> Ticket:
        """Assign to ``agent``/``group``, or with neither, let the router choose.

        The router runs on its fast path (``explain="chosen"``: O(log n) in the number of
        agents for the built-in strategies); the ``Assigned`` event records the rule and
        step (``decision``) and a compact reference in ``meta["routing"]`` from which
        `explain()` rebuilds the full explanation. The escalation clock starts at
        the ticket's last ``Unassigned`` (else its creation), as in the automation.

        Raises:
            AutomationError: auto-assign without a router and agents.
        """

        routed: list[Decision] = []  # the last attempt's decision

        def make(timeline: Timeline, at: datetime) -> Sequence[Event]:
            if agent is not None or group is not None:
                return [Assigned(ticket_id=ticket_id, at=at, actor=actor, agent=agent, group=group)]
            if self.router is None or self.agents is None:
                raise AutomationError("auto-assign needs ServiceDesk(router=..., agents=...)")
            since = last_unassigned(timeline[:])
            decision = self.router.route(
                timeline.ticket,
                self.agents,
                self.routing_state(),
                at,
                since=since,
                explain="chosen",
            )
            routed[:] = [decision]
            if decision.agent is None:
                return []
            return [
                Assigned(
                    ticket_id=ticket_id,
                    at=at,
                    actor=actor or "router",
                    agent=decision.agent,
                    group=decision.group,
                    decision=f"{decision.rule}#{decision.step}",
                    meta={REFERENCE_KEY: self._routing.reference(ticket_id, at)},
                )
            ]

        ticket = self._operation(ticket_id, make)
        if routed and routed[-1].agent is None:
            _log.info("ticket %s: no agent available, stays queued", ticket_id)
        return ticket

    def explain(self, ticket_id: str) -> Decision:
        """The full explanation of the ticket's latest routing decision: what
        ``router.route(..., explain="full")`` returned at that moment — a verdict for
        every agent, scores, the tie-break.

        The routing state is rebuilt from the store as of the decision (the reference
        in the ``Assigned`` event's ``meta["routing"]``) and checked against the digest
        recorded then; the agents are the desk's current pool.

        Raises:
            NotFoundError: unknown ticket, or no routed assignment with a reference.
            AutomationError: the desk has no router and agents.
            RoutingError: the state cannot be rebuilt exactly, or the agents changed so
                that the decision no longer comes out the same (nothing is guessed).
        """
        if self.router is None or self.agents is None:
            raise AutomationError("explain needs ServiceDesk(router=..., agents=...)")
        timeline = self._cache.load(ticket_id)
        return explain_recorded(self.router, self.agents, timeline, self._timelines())

    def record_survey(
        self,
        ticket_id: str,
        survey: str,
        score: float,
        *,
        comment: str | None = None,
        actor: str | None = None,
    ) -> Ticket:
        """Record the customer's survey answer on the ticket.

        Args:
            ticket_id: The ticket answered about.
            survey: A kind (``"csat"``, ``"nps"``, ``"ces"``) or the name of a survey the
                ticket's type or the desk declares. With a declared survey the answer
                must be an integer on its scale, and the event's ``meta`` records the
                survey's name and scale (so reports never mix scales).
            score: The answer.
            comment: Free text.
            actor: Who answered (default: the ticket's customer).

        Raises:
            AutomationError: an unknown survey name, or an answer off the declared
                scale (nothing is written).
            NotFoundError: an unknown ticket.
        """

        def answer(timeline: Timeline, at: datetime) -> Event:
            kind, declared = self.surveys.resolve(timeline.ticket.type, survey)
            self.surveys.check_answer(ticket_id, declared, score)
            return SurveyAnswered(
                ticket_id=ticket_id,
                at=at,
                actor=actor or timeline.ticket.customer_id,
                survey=kind,
                score=score,
                comment=comment,
                meta={} if declared is None else declared.stamp(),
            )

        return self._add(ticket_id, answer)

    def link(
        self,
        ticket_id: str,
        other: str,
        relation: str,
        *,
        back: str | None = None,
        actor: str | None = None,
    ) -> Ticket:
        """Link ``ticket_id`` to ``other`` (and, with ``back``, ``other`` back to it).

        Raises:
            NotFoundError: either ticket is unknown (checked before anything is written).
        """
        self._cache.load(other)
        ticket = self._operation(
            ticket_id,
            lambda timeline, at: (
                []
                if any(
                    isinstance(e, Linked) and e.relation == relation and e.other_ticket == other
                    for e in timeline.events
                )
                else [
                    Linked(
                        ticket_id=ticket_id,
                        at=at,
                        actor=actor,
                        relation=relation,
                        other_ticket=other,
                    )
                ]
            ),
        )
        if back is not None:
            self.link(other, ticket_id, back, actor=actor)
        return ticket
