"""Hypothesis strategies shared by the tests (importable as ``strategies``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from csmkit.conditions import And, Call, Compare, Literal, Name, Not, Or, Truth
from csmkit.conditions._text import make_and, make_or
from csmkit.conditions._tree import BOOLEAN_HELPERS, COMPARE_OPS, HELPERS, KEYWORDS
from csmkit.timeline import (
    CORE_FIELDS,
    RESERVED_FIELDS,
    Assigned,
    Direction,
    Escalated,
    Event,
    FieldChanged,
    Linked,
    MessageAdded,
    Priority,
    StatusCategory,
    StatusChanged,
    SurveyAnswered,
    SurveyKind,
    TicketCreated,
    Timeline,
    Unassigned,
)

# ------------------------------------------------------------------ JSON values
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
field_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_区域", min_size=1, max_size=10).filter(
    lambda name: name not in CORE_FIELDS and name not in RESERVED_FIELDS
)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
words = st.text(min_size=1, max_size=12)

# ------------------------------------------------------------------ instants
offsets = st.sampled_from([timedelta(0), timedelta(hours=8), timedelta(hours=-5, minutes=-30)])


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """Aware instants in 2020..2030 with microseconds and assorted UTC offsets."""
    naive = draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)))
    return naive.replace(tzinfo=timezone(draw(offsets)))


# ------------------------------------------------------------------ timelines
@st.composite
def timelines_events(draw: st.DrawFn, max_events: int = 12) -> list[Event]:
    """A valid event list for one ticket: creation first, instants non-decreasing."""
    ticket_id = draw(ids)
    at = draw(instants())
    status = draw(st.sampled_from(["new", "triage"]))
    events: list[Event] = [
        TicketCreated(
            ticket_id=ticket_id,
            at=at,
            actor=draw(st.none() | ids),
            type=draw(st.sampled_from(["repair", "consultation", "complaint"])),
            channel=draw(st.sampled_from(["phone", "email", "web", "wechat"])),
            priority=draw(st.sampled_from(list(Priority))),
            customer_id=draw(st.none() | ids),
            subject=draw(st.text(max_size=20)),
            fields=draw(st.dictionaries(field_names, json_values, max_size=3)),
            tags=draw(st.lists(words, max_size=3)),
            status=status,
            meta=draw(st.dictionaries(st.text(max_size=5), json_scalars, max_size=2)),
        )
    ]
    for _ in range(draw(st.integers(0, max_events - 1))):
        at = at + draw(st.sampled_from([timedelta(0), timedelta(seconds=1), timedelta(hours=3)]))
        common: dict[str, Any] = {"ticket_id": ticket_id, "at": at, "actor": draw(st.none() | ids)}
        choice = draw(st.integers(0, 8))
        event: Event
        if choice == 0:
            new_status = draw(st.sampled_from(["open", "waiting", "solved", "closed", "new"]))
            event = StatusChanged(
                **common,
                from_status=status,
                to_status=new_status,
                category=draw(st.sampled_from(list(StatusCategory))),
                transition=draw(st.none() | ids),
                reason=draw(st.none() | words),
            )
            status = new_status
        elif choice == 1:
            agent = draw(st.none() | ids)
            group = draw(ids) if agent is None else draw(st.none() | ids)
            event = Assigned(**common, agent=agent, group=group, decision=draw(st.none() | ids))
        elif choice == 2:
            event = Unassigned(**common, agent=draw(st.none() | ids), group=draw(st.none() | ids))
        elif choice == 3:
            direction = draw(st.sampled_from(list(Direction)))
            public = (
                False
                if direction is Direction.INTERNAL
                else True
                if direction is Direction.INBOUND
                else draw(st.booleans())
            )
            event = MessageAdded(
                **common,
                direction=direction,
                channel=draw(st.sampled_from(["email", "phone", "wechat"])),
                author=draw(st.none() | ids),
                public=public,
                message_id=draw(st.none() | ids),
                body_ref=draw(st.none() | words),
            )
        elif choice == 4:
            name = draw(st.sampled_from(["priority", "subject", "tags"]) | field_names)
            if name == "priority":
                new: Any = draw(st.sampled_from([p.value for p in Priority]))
            elif name == "subject":
                new = draw(st.text(max_size=10))
            elif name == "tags":
                new = draw(st.lists(words, max_size=3))
            else:
                new = draw(json_values)
            event = FieldChanged(**common, name=name, old=None, new=new)
        elif choice == 5:
            event = Escalated(
                **common, level=draw(st.integers(1, 4)), reason=draw(st.none() | words)
            )
        elif choice == 6:
            event = Linked(**common, relation="related", other_ticket=ticket_id + "-other")
        elif choice == 7:
            kind = draw(st.sampled_from(list(SurveyKind)))
            score = (
                draw(st.integers(0, 10))
                if kind is SurveyKind.NPS
                else draw(st.integers(1, 5) | st.floats(0, 7, allow_nan=False))
            )
            event = SurveyAnswered(
                **common, survey=kind, score=score, comment=draw(st.none() | words)
            )
        else:
            event = MessageAdded(**common, direction="inbound", channel="web")
        events.append(event)
    return events


# ------------------------------------------------------------------ condition trees
_identifier = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=6).filter(
    lambda word: word not in KEYWORDS and not word.startswith("__")
)
_unicode_identifier = st.sampled_from(["地区", "区域", "产品线", "región"])
names = st.lists(_identifier | _unicode_identifier, min_size=1, max_size=3).map(
    lambda parts: Name(tuple(parts))
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)
literals = st.one_of(scalars.map(Literal), st.lists(scalars, max_size=4).map(tuple).map(Literal))


def _calls(operands: st.SearchStrategy[Any]) -> st.SearchStrategy[Call]:
    return st.sampled_from(sorted(HELPERS)).flatmap(
        lambda fn: st.tuples(*[operands] * HELPERS[fn]).map(lambda args: Call(fn, args))
    )


def _membership_ok(node: Compare) -> bool:
    return (
        node.op not in ("in", "not in")
        or not isinstance(node.right, Literal)
        or node.right.value is None
        or isinstance(node.right.value, (str, tuple))
    )


def _combine(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(make_and),
        st.lists(children, min_size=2, max_size=3).map(make_or),
        children.map(Not),
    )


def condition_trees_over(
    name_strategy: st.SearchStrategy[Name], literal_strategy: st.SearchStrategy[Literal] = literals
) -> st.SearchStrategy[Any]:
    """Valid condition trees whose names and literals come from the given strategies."""
    operands = st.recursive(st.one_of(name_strategy, literal_strategy), _calls, max_leaves=3)
    compares = st.builds(Compare, st.sampled_from(COMPARE_OPS), operands, operands).filter(
        _membership_ok
    )
    truths = st.one_of(
        name_strategy.map(Truth),
        st.sampled_from([True, False, None]).map(lambda value: Truth(Literal(value))),
        _calls(operands).filter(lambda call: call.function in BOOLEAN_HELPERS).map(Truth),
    )
    return st.recursive(st.one_of(compares, truths), _combine, max_leaves=8)


condition_trees = condition_trees_over(names)

__all__ = [
    "And",
    "Not",
    "Or",
    "condition_trees",
    "instants",
    "json_values",
    "timelines_events",
]


# ------------------------------------------------------------------ conversations
agents = st.sampled_from(["agent-1", "agent-2", "张伟", None])


@st.composite
def conversation_timelines(draw: st.DrawFn, max_events: int = 14) -> Timeline:
    """A ticket's conversation: customer messages, public replies, internal notes,
    non-public outbound messages and status changes (solves and reopens included).

    Some messages come from the ``"system"`` actor (automatic messages) and the first
    event may share the creation instant (an agent's opening comment), so the SLA
    clock's and the metrics' shared rules for what is a reply are both exercised.
    """
    ticket_id = draw(ids)
    created = draw(instants())
    events: list[Event] = [
        TicketCreated(
            ticket_id=ticket_id,
            at=created,
            type="question",
            channel="email",
            priority=draw(st.sampled_from(list(Priority))),
        )
    ]
    at = created
    status = "new"
    for index in range(draw(st.integers(0, max_events - 1))):
        kind = draw(st.sampled_from(["inbound", "reply", "note", "private", "status"]))
        steps = [timedelta(seconds=1), timedelta(minutes=7), timedelta(hours=3)]
        opening = index == 0 and kind in {"reply", "note", "private"}
        at += draw(st.sampled_from([timedelta(0), *steps] if opening else steps))
        actor = draw(st.one_of(agents, st.just("system")))
        event: Event
        if kind == "inbound":
            event = MessageAdded(ticket_id=ticket_id, at=at, direction="inbound", channel="email")
        elif kind == "reply":
            event = MessageAdded(
                ticket_id=ticket_id, at=at, actor=actor, direction="outbound", channel="email"
            )
        elif kind == "note":
            event = MessageAdded(
                ticket_id=ticket_id, at=at, actor=actor, direction="internal", channel="email"
            )
        elif kind == "private":
            event = MessageAdded(
                ticket_id=ticket_id,
                at=at,
                actor=actor,
                direction="outbound",
                channel="email",
                public=False,
            )
        else:
            new_status = draw(st.sampled_from(["open", "pending", "on_hold", "solved", "closed"]))
            event = StatusChanged(
                ticket_id=ticket_id,
                at=at,
                actor=actor,
                from_status=status,
                to_status=new_status,
                category=new_status,
            )
            status = new_status
        events.append(event)
    return Timeline(events)


@st.composite
def surveys(draw: st.DrawFn) -> Any:
    """Valid :class:`csmkit.metrics.Survey` definitions of every kind and scale."""
    from csmkit.metrics import Survey

    kind = draw(st.sampled_from(["csat", "ces", "nps"]))
    name = draw(st.text(min_size=1, max_size=12).filter(str.strip))
    if kind == "nps":
        return Survey(name, "nps")
    low = draw(st.integers(-2, 2))
    high = low + draw(st.integers(1, 12))
    top = draw(st.integers(low, high))
    return Survey(
        name,
        kind,
        scale=(low, high),
        convention=draw(st.sampled_from(["top_box", "mean"])),
        higher_is_better=draw(st.booleans()),
        satisfied=range(top, high + 1),
    )
