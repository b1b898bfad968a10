"""Ticket operations of the desk: open, reply, note, transition, assign, survey, link."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from csmkit.desk._core import DeskCore
from csmkit.errors import AutomationError, ConcurrencyError
from csmkit.timeline import (
    Assigned,
    Direction,
    Event,
    Linked,
    MessageAdded,
    SurveyAnswered,
    Ticket,
    Timeline,
)
from csmkit.workflow import Actor

__all__ = ["TicketOperations"]


class TicketOperations(DeskCore):
    """The operations on one ticket, each committed by the desk's commit loop."""

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
        kind = self._kind(type)
        if ticket_id is None:
            ticket_id = self._next_id()

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

        final, _ = self._commit(ticket_id, build, chain=_chain)
        assert final is not None
        return final.ticket

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
    ) -> Ticket:
        """Add a public reply to the customer."""
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

    def assign(
        self,
        ticket_id: str,
        agent: str | None = None,
        *,
        group: str | None = None,
        actor: str | None = None,
    ) -> Ticket:
        """Assign to ``agent``/``group``, or with neither, let the router choose.

        Raises:
            AutomationError: auto-assign without a router and agents.
        """

        def make(timeline: Timeline, at: datetime) -> Sequence[Event]:
            if agent is not None or group is not None:
                return [Assigned(ticket_id=ticket_id, at=at, actor=actor, agent=agent, group=group)]
            if self.router is None or self.agents is None:
                raise AutomationError("auto-assign needs ServiceDesk(router=..., agents=...)")
            decision = self.router.route(timeline.ticket, self.agents, self.routing_state(), at)
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
                )
            ]

        return self._operation(ticket_id, make)

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
        self.store.load(other)
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
