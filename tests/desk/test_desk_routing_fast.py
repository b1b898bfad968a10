"""The routing history's shortcuts answer as the general code they stand in for: a
routed assignment's reference added without validating the event again
(``_with_reference``, against ``attrs.evolve``), and a ticket's load read by category
member (``_load_of``, against the category's value)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.desk._routing import OPEN_CATEGORIES, REFERENCE_KEY, _load_of, _with_reference
from csmkit.errors import TimelineError
from csmkit.testing import T0
from csmkit.timeline import Assigned, StatusCategory, Ticket, TicketCreated
from csmkit.timeline.trusted import trusted_ticket
from strategies import ids, instants, json_scalars, json_values


@attrs.frozen(kw_only=True)
class _Routed(Assigned):
    """An Assigned subclass: takes ``attrs.evolve`` itself."""


assignments = st.builds(
    lambda cls, agent, group, **rest: cls(agent=agent, group=group or "g", **rest),
    cls=st.sampled_from([Assigned, _Routed]),
    ticket_id=ids,
    at=instants(),
    actor=st.none() | ids,
    meta=st.dictionaries(st.text(max_size=6), json_values, max_size=3),
    agent=st.none() | ids,
    group=st.none() | ids,
    decision=st.none() | ids,
)
references = st.dictionaries(
    st.sampled_from(["state", "horizon", "ties", "since", "base", "run"]),
    json_values | st.sets(json_scalars, max_size=2),  # a set is not JSON-safe
    max_size=4,
)


def _outcome(make: Any) -> tuple[str, Any]:
    try:
        event = make()
    except TimelineError as exc:
        return "error", (type(exc), str(exc), exc.path)
    return "ok", (type(event), attrs.asdict(event, recurse=False))


@given(assignments, references)
def test_a_reference_is_added_as_attrs_evolve_adds_it(event: Assigned, ref: dict[str, Any]) -> None:
    got = _outcome(lambda: _with_reference(event, ref))
    want = _outcome(lambda: attrs.evolve(event, meta={**event.meta, REFERENCE_KEY: ref}))
    assert got == want


def _reference_load(ticket: Ticket) -> tuple[str, str] | None:
    if ticket.assignee is None or ticket.category.value not in OPEN_CATEGORIES:
        return None
    return (ticket.assignee, ticket.channel)


@given(st.sampled_from(list(StatusCategory)), st.none() | ids, st.sampled_from(["web", "sms"]))
def test_a_load_is_read_as_from_the_category_value(
    category: StatusCategory, assignee: str | None, channel: str
) -> None:
    created = Ticket.created(TicketCreated(ticket_id="T-1", at=T0, type="r", channel=channel))
    ticket = attrs.evolve(created, category=category, assignee=assignee)
    assert _load_of(ticket) == _reference_load(ticket)


class _Category(str):
    """Not a member (a trusted ticket built from a careless value): read by its value."""

    @property
    def value(self) -> str:
        return str(self)


@pytest.mark.parametrize("name", ["open", "closed"])
def test_a_category_that_is_not_a_member_is_read_by_its_value(name: str) -> None:
    created = Ticket.created(TicketCreated(ticket_id="T-1", at=T0, type="r", channel="web"))
    values = {a.name: getattr(created, a.name) for a in attrs.fields(Ticket)}
    ticket = trusted_ticket(**{**values, "assignee": "a1", "category": _Category(name)})
    assert _load_of(ticket) == _reference_load(ticket)
