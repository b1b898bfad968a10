"""Ticket operations of the desk: open, reply, note, update, transition, assign, survey,
link, and the opening of tickets the rules request.

Each operation commits through the [kernel][csmkit.desk._core.DeskKernel]'s command loop and
**returns** the stored outcomes with its result; it runs no intents itself (the
[outcome runner][csmkit.desk._outcomes.OutcomeRunner] does, after the command)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from csmkit._time import require_aware
from csmkit.automation import Outcome, TicketRequest
from csmkit.desk._core import DeskKernel
from csmkit.desk._routing import explain_recorded
from csmkit.desk._types import pending_fields, relaxed_form
from csmkit.errors import (
    AutomationError,
    ConcurrencyError,
    NotFoundError,
    WorkflowError,
)
from csmkit.knowledge import TemplateError, TemplateSet
from csmkit.routing import Decision, Pick
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
    Unassigned,
)
from csmkit.workflow import Actor

__all__ = ["TicketOperations"]

_log = logging.getLogger(__name__)


Done = tuple[Ticket, list[Outcome]]
"""An operation's result: the ticket after it, and the outcomes whose intents are to run."""


class TicketOperations:
    """The operations on one ticket, each committed by the kernel's command loop.

    Args:
        kernel: The desk's kernel.
        templates: The desk's reply templates.
    """

    def __init__(self, kernel: DeskKernel, templates: TemplateSet) -> None:
        self._kernel = kernel
        self.templates = templates

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
    ) -> Done:
        """[`ServiceDesk.open_ticket()`][csmkit.desk.ServiceDesk.open_ticket]."""
        self._kernel.kind(type)
        if ticket_id is None:
            ticket_id = self._kernel.next_id()
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
        return final.ticket, [outcome] if wrote else []

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
        """Commit a new ticket and schedule its timer (its intents are the caller's to run)."""
        kind = self._kernel.kind(type)
        kernel = self._kernel

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

        with kernel.lock:
            final, outcome, wrote = kernel.commit(ticket_id, build, chain=chain)
            if wrote:
                assert final is not None
                kernel.scheduler.after_operation(final, kernel.now())
            return final, outcome, wrote

    def _add(self, ticket_id: str, event: Callable[[Timeline, datetime], Event]) -> Done:
        """Commit the one event ``event(timeline, at)`` makes."""
        return self._operation(ticket_id, lambda timeline, at: [event(timeline, at)])

    def _operation(
        self, ticket_id: str, make: Callable[[Timeline, datetime], Sequence[Event]]
    ) -> Done:
        ticket, outcome = self._kernel.operation(ticket_id, make)
        return ticket, [outcome]

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
    ) -> Done:
        """[`ServiceDesk.reply()`][csmkit.desk.ServiceDesk.reply]."""
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
            customer, _ = self._kernel.customer_context(ticket)
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
                found = None if self._kernel.agents is None else self._kernel.agents.get(author)
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
            kind = self._kernel.kind(ticket.type)
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

    def note(self, ticket_id: str, *, author: str, body_ref: str | None = None) -> Done:
        """[`ServiceDesk.note()`][csmkit.desk.ServiceDesk.note]."""
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
    ) -> Done:
        """[`ServiceDesk.transition()`][csmkit.desk.ServiceDesk.transition]."""

        def make(timeline: Timeline, at: datetime) -> Sequence[Event]:
            kind = self._kernel.kind(timeline.ticket.type)
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
    ) -> Done:
        """[`ServiceDesk.update()`][csmkit.desk.ServiceDesk.update]."""
        if not isinstance(fields, Mapping) or not fields:
            raise WorkflowError(f"update of {ticket_id!r}: fields must be a non-empty mapping")
        if at is not None:
            require_aware(at, "at", AutomationError)
        changes = dict(fields)

        def build(timeline: Timeline | None, when: datetime) -> Sequence[Event]:
            if timeline is None:
                raise NotFoundError(f"ticket {ticket_id!r} not found")
            return self._field_events(timeline, changes, actor, when)

        final, outcome, _ = self._kernel.command(ticket_id, build, now=at)
        assert final is not None
        return final.ticket, [outcome]

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
        kind = self._kernel.kind(timeline.ticket.type)
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
    ) -> Done:
        """[`ServiceDesk.assign()`][csmkit.desk.ServiceDesk.assign]."""

        routed: list[Pick] = []  # the last attempt's decision

        def make(timeline: Timeline, at: datetime) -> Sequence[Event]:
            if agent is not None or group is not None:
                return [Assigned(ticket_id=ticket_id, at=at, actor=actor, agent=agent, group=group)]
            if self._kernel.router is None or self._kernel.agents is None:
                raise AutomationError("auto-assign needs ServiceDesk(router=..., agents=...)")
            # the escalation start, as the automation reads it (memoised on the timeline
            # and carried over by its appends: not a walk of the whole history)
            unassigned = timeline.last(Unassigned)
            since = None if unassigned is None else unassigned.at
            decision = self._kernel.router.pick(
                timeline.ticket, self._kernel.agents, self._kernel.routing_state(), at, since=since
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
                    meta=self._kernel.routing.meta(ticket_id, at),
                )
            ]

        done = self._operation(ticket_id, make)
        if routed and routed[-1].agent is None:
            _log.info("ticket %s: no agent available, stays queued", ticket_id)
        return done

    def explain(self, ticket_id: str) -> Decision:
        """[`ServiceDesk.explain()`][csmkit.desk.ServiceDesk.explain]."""
        kernel = self._kernel
        router, agents = kernel.router, kernel.agents
        if router is None or agents is None:
            raise AutomationError("explain needs ServiceDesk(router=..., agents=...)")
        timeline = kernel.cache.load(ticket_id)
        return explain_recorded(router, agents, timeline, kernel.timelines())

    def record_survey(
        self,
        ticket_id: str,
        survey: str,
        score: float,
        *,
        comment: str | None = None,
        actor: str | None = None,
    ) -> Done:
        """[`ServiceDesk.record_survey()`][csmkit.desk.ServiceDesk.record_survey]."""

        def answer(timeline: Timeline, at: datetime) -> Event:
            kind, declared = self._kernel.surveys.resolve(timeline.ticket.type, survey)
            self._kernel.surveys.check_answer(ticket_id, declared, score)
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
    ) -> Done:
        """[`ServiceDesk.link()`][csmkit.desk.ServiceDesk.link]."""
        self._kernel.cache.load(other)
        ticket, outcomes = self._operation(
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
            outcomes.extend(self.link(other, ticket_id, back, actor=actor)[1])
        return ticket, outcomes

    def create_requested(self, request: TicketRequest) -> tuple[list[str], list[Outcome]]:
        """Open a requested ticket (once: its id is derived from the request) and link
        it to its source; the tickets created, and the outcomes whose intents are to run
        (the links', then the new ticket's)."""
        kernel = self._kernel
        if kernel.store.version(request.ticket_id) > 0:
            return [], []
        try:
            _, outcome, _ = self._open(
                request.type,
                channel=request.channel,
                customer_id=request.customer_id,
                subject=request.subject,
                priority=request.priority,
                fields=dict(request.fields),
                ticket_id=request.ticket_id,
                actor="system",
                meta=(
                    {"rule": request.rule}
                    if request.source_asset is None
                    else {"rule": request.rule, "asset": request.source_asset}
                ),
                chain=request.chain,
            )
        except ConcurrencyError:
            return [], []  # another desk created it first
        outcomes: list[Outcome] = []
        if request.source_ticket is not None:
            relation = f"{request.relation}_of"
            _, outcomes = self.link(
                request.ticket_id, request.source_ticket, relation, actor="system"
            )
        return [request.ticket_id], [*outcomes, outcome]
