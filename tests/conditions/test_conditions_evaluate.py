"""Condition language: evaluation semantics, checked by examples and against a reference."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.conditions import (
    And,
    Call,
    Compare,
    Condition,
    Literal,
    Name,
    Not,
    Or,
    Truth,
    resolve,
)
from csmkit.errors import ConditionEvaluationError
from csmkit.timeline import Priority, Ticket, TicketCreated
from strategies import condition_trees_over

CST = timezone(timedelta(hours=8))


def holds(text: str, **context: Any) -> bool:
    return Condition.parse(text).evaluate(context)


class TestNames:
    def test_dotted_names_walk_mappings(self) -> None:
        assert holds('ticket.fields.region == "east"', ticket={"fields": {"region": "east"}})

    def test_missing_names_are_none(self) -> None:
        assert holds("ticket.fields.region == None", ticket={"fields": {}})
        assert holds("nothing.at.all == None")
        assert not holds('ticket.fields.region == "east"', ticket={})
        assert holds('ticket.fields.region != "east"', ticket={})
        assert not holds("agent.away")  # a missing flag is false

    def test_walking_into_a_scalar_is_missing(self) -> None:
        assert holds("subject.length == None", subject="hello")

    def test_attrs_instances_expose_fields_only(self) -> None:
        ticket = Ticket.created(
            TicketCreated(
                ticket_id="T-1",
                at=datetime(2026, 9, 30, 9, tzinfo=CST),
                type="repair",
                channel="phone",
                priority="urgent",
                fields={"region": "east"},
                tags=["vip"],
            )
        )
        assert holds('ticket.priority >= "high" and ticket.fields.region == "east"', ticket=ticket)
        assert holds('"vip" in ticket.tags', ticket=ticket)
        # methods and private attributes are not reachable, only attrs fields
        assert holds("ticket.apply == None and ticket.created == None", ticket=ticket)

    def test_private_attrs_fields_are_hidden(self) -> None:
        @attrs.define
        class Agent:
            name: str
            _secret: str = "x"

        assert holds("agent._secret == None and agent.name == 'li'", agent=Agent("li"))

    def test_context_must_be_a_mapping(self) -> None:
        with pytest.raises(ConditionEvaluationError, match="against a mapping"):
            Condition.parse("a").evaluate([("a", True)])  # type: ignore[arg-type]


class TestComparisons:
    def test_priority_names_order_by_rank_even_as_plain_strings(self) -> None:
        assert holds('priority >= "high"', priority="urgent")
        assert not holds('priority >= "high"', priority="low")  # "low" > "high" as text
        assert holds('ticket.priority < "normal"', ticket={"priority": "low"})
        assert holds("priority > other", priority=Priority.HIGH, other="normal")
        with pytest.raises(ConditionEvaluationError, match="unknown priority 'p1'"):
            holds('priority >= "high"', priority="p1")

    def test_ordering_with_none_is_false_both_ways(self) -> None:
        assert not holds("age > 3")
        assert not holds("age <= 3")
        assert holds("not age > 3")

    def test_ordering_incomparable_values_raises(self) -> None:
        with pytest.raises(ConditionEvaluationError, match=r"in `age > \"3\"`: cannot order int"):
            holds('age > "3"', age=5)

    def test_ordering_datetimes(self) -> None:
        now = datetime(2026, 9, 30, 9, tzinfo=CST)
        assert holds("a < b", a=now, b=now + timedelta(hours=1))
        with pytest.raises(ConditionEvaluationError, match="cannot order"):
            holds("a < b", a=now, b=datetime(2026, 9, 30, 10))

    def test_equality_is_python_equality(self) -> None:
        assert holds("n == 1.0", n=1)
        assert not holds('n == "1"', n=1)
        assert holds("xs == [1, 2]", xs=(1, 2))

    def test_membership(self) -> None:
        assert holds('region in ["east", "north"]', region="east")
        assert holds('"vip" in tags', tags=["vip", "ac"])
        assert holds('"vip" in tags', tags={"vip"})
        assert holds('"region" in fields', fields={"region": "east"})
        assert holds('"空调" in subject', subject="空调不制冷")
        assert not holds('"vip" in tags')  # missing container: false
        assert holds('"vip" not in tags')
        with pytest.raises(ConditionEvaluationError, match="inside text"):
            holds("n in subject", n=3, subject="abc")
        with pytest.raises(ConditionEvaluationError, match="needs a list"):
            holds("n in count", n=3, count=3)
        with pytest.raises(ConditionEvaluationError, match="cannot be looked up"):
            holds("xs in s", xs=[1], s={1})

    def test_truth_requires_booleans(self) -> None:
        assert holds("agent.away", agent={"away": True})
        with pytest.raises(ConditionEvaluationError, match="expected a boolean, got str"):
            holds("agent.away", agent={"away": "yes"})

    def test_and_or_short_circuit(self) -> None:
        # the right side would raise if evaluated
        assert not holds('flag and n > "x"', flag=False, n=1)
        assert holds('flag or n > "x"', flag=True, n=1)
        assert holds("a and b and c", a=True, b=True, c=True)
        assert not holds("a and b and c", a=True, b=True, c=False)
        assert holds("a or b or c", a=False, b=False, c=True)


class TestHelpers:
    @pytest.mark.parametrize(
        ("text", "context", "expected"),
        [
            ('contains(subject, "退货")', {"subject": "申请退货"}, True),
            ('contains(tags, "vip")', {"tags": ["vip"]}, True),
            ('contains(tags, "vip")', {}, False),
            ('startswith(phone, "+86")', {"phone": "+8613800138000"}, True),
            ('endswith(email, "@example.cn")', {"email": "li@example.cn"}, True),
            ('startswith(phone, "+86")', {}, False),
            ("len(tags) >= 2", {"tags": ["a", "b"]}, True),
            ("len(tags) == 0", {}, True),
            ('lower(channel) == "email"', {"channel": "EMAIL"}, True),
            ('upper(code) == "CN"', {"code": "cn"}, True),
            ("lower(missing) == None", {}, True),
            ('intersects(tags, ["vip", "gold"])', {"tags": ["gold"]}, True),
            ('intersects(tags, ["vip", "gold"])', {"tags": ["bronze"]}, False),
            ('intersects(tags, ["vip"])', {}, False),
        ],
    )
    def test_helpers(self, text: str, context: dict[str, Any], expected: bool) -> None:
        assert Condition.parse(text).evaluate(context) is expected

    @pytest.mark.parametrize(
        ("text", "context", "message"),
        [
            ("len(n) > 1", {"n": 5}, "len() of int"),
            ("contains(subject, 3)", {"subject": "abc"}, "cannot look for 3"),
            ("contains(n, 3)", {"n": 5}, "contains() needs"),
            ('startswith(n, "a")', {"n": 5}, "startswith() needs two strings"),
            ('lower(n) == "a"', {"n": 5}, "lower() needs a string"),
            ("intersects(a, b)", {"a": "x", "b": ["x"]}, "intersects() needs two lists"),
            ("intersects(a, b)", {"a": [[1]], "b": [1]}, "unhashable"),
            ("contains(s, x)", {"s": {1}, "x": [1]}, "unhashable"),
        ],
    )
    def test_helper_type_errors(self, text: str, context: dict[str, Any], message: str) -> None:
        with pytest.raises(
            ConditionEvaluationError, match=message.replace("(", r"\(").replace(")", r"\)")
        ):
            Condition.parse(text).evaluate(context)


def test_evaluation_does_not_reparse(monkeypatch: pytest.MonkeyPatch) -> None:
    from csmkit.conditions import _text

    condition = Condition.parse('priority == "urgent" and region in ["east"]')

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(_text, "_Parser", boom)
    monkeypatch.setattr(_text, "parse_text", boom)
    assert condition.evaluate({"priority": "urgent", "region": "east"}) is True
    assert condition({"priority": "low", "region": "east"}) is False


# ------------------------------------------------------------------ differential check
class _Invalid(Exception):
    pass


def _reference_value(node: Any, context: Mapping[str, Any]) -> Any:
    """A slow, obviously-correct tree-walking interpreter of the documented semantics."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        value: Any = context
        for key in node.path:
            value = value.get(key) if isinstance(value, Mapping) else None
        return value
    assert isinstance(node, Call)
    args = [_reference_value(a, context) for a in node.args]
    f = node.function
    try:
        if f == "len":
            if args[0] is None:
                return 0
            if isinstance(args[0], (str, list, tuple, set, frozenset, Mapping)):
                return len(args[0])
            raise _Invalid
        if f in ("lower", "upper"):
            if args[0] is None:
                return None
            if not isinstance(args[0], str):
                raise _Invalid
            return args[0].lower() if f == "lower" else args[0].upper()
        if f in ("startswith", "endswith"):
            if args[0] is None:
                return False
            if not isinstance(args[0], str) or not isinstance(args[1], str):
                raise _Invalid
            return args[0].startswith(args[1]) if f == "startswith" else args[0].endswith(args[1])
        if f == "contains":
            return _reference_member(args[1], args[0])
        if args[0] is None or args[1] is None:
            return False
        kinds = (list, tuple, set, frozenset)
        if not isinstance(args[0], kinds) or not isinstance(args[1], kinds):
            raise _Invalid
        return any(x in set(args[1]) for x in args[0])
    except TypeError:
        raise _Invalid from None


def _reference_member(item: Any, container: Any) -> bool:
    if container is None:
        return False
    if isinstance(container, str):
        if not isinstance(item, str):
            raise _Invalid
        return item in container
    if isinstance(container, (list, tuple, set, frozenset, Mapping)):
        try:
            return item in container
        except TypeError:
            raise _Invalid from None
    raise _Invalid


def _reference_priority(operand: Any, value: Any, rank: dict[str, int]) -> Any:
    """A plain string under a name ending in ``priority`` orders as a Priority."""
    is_priority_name = isinstance(operand, Name) and operand.path[-1] == "priority"
    if not is_priority_name or type(value) is not str:
        return value
    if value not in rank:
        raise _Invalid
    return Priority(value)


def _reference(node: Any, context: Mapping[str, Any]) -> bool:
    if isinstance(node, And):
        return all(_reference(item, context) for item in node.items)
    if isinstance(node, Or):
        return any(_reference(item, context) for item in node.items)
    if isinstance(node, Not):
        return not _reference(node.item, context)
    if isinstance(node, Truth):
        value = _reference_value(node.operand, context)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise _Invalid
        return value
    assert isinstance(node, Compare)
    a = _reference_value(node.left, context)
    b = _reference_value(node.right, context)
    if node.op == "==":
        return bool(a == b)
    if node.op == "!=":
        return bool(a != b)
    if node.op == "in":
        return _reference_member(a, b)
    if node.op == "not in":
        return not _reference_member(a, b)
    rank = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
    a = _reference_priority(node.left, a, rank)
    b = _reference_priority(node.right, b, rank)
    if a is None or b is None:
        return False
    if isinstance(a, Priority) or isinstance(b, Priority):
        other = b if isinstance(a, Priority) else a
        if not isinstance(other, str) or other not in rank:
            raise _Invalid
        a, b = (rank[str(a)], rank[str(b)])
    try:
        if node.op == "<":
            return bool(a < b)
        if node.op == "<=":
            return bool(a <= b)
        if node.op == ">":
            return bool(a > b)
        return bool(a >= b)
    except TypeError:
        raise _Invalid from None


_KEYS = ["a", "b", "c", "x", "priority", "地区"]
_near_names = st.lists(st.sampled_from(_KEYS), min_size=1, max_size=2).map(
    lambda parts: Name(tuple(parts))
)
_near_literals = st.one_of(
    st.sampled_from([None, True, False, 0, 1, -1, 2.5, "", "a", "vip", "low", "high"]).map(Literal),
    st.lists(st.sampled_from(["a", "vip", 1, None]), max_size=3).map(tuple).map(Literal),
)
_trees = condition_trees_over(_near_names, _near_literals)

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["", "a", "east", "low", "high", "urgent", "地"]),
    st.lists(st.sampled_from(["a", "vip", 1, None]), max_size=3),
)
_contexts = st.recursive(
    st.dictionaries(st.sampled_from(_KEYS), _values, max_size=5),
    lambda children: st.dictionaries(st.sampled_from(_KEYS), children | _values, max_size=4),
    max_leaves=8,
)


@given(_trees, _contexts)
def test_compiled_evaluation_agrees_with_the_reference_interpreter(
    tree: Any, context: dict[str, Any]
) -> None:
    condition = Condition(tree)
    try:
        expected: bool | type[Exception] = _reference(tree, context)
    except _Invalid:
        expected = _Invalid
    except TypeError:
        expected = _Invalid
    try:
        got: bool | type[Exception] = condition.evaluate(context)
    except ConditionEvaluationError:
        got = _Invalid
    assert got is expected


@given(_trees, _contexts)
def test_resolve_reads_what_conditions_read(tree: Any, context: dict[str, Any]) -> None:
    for name in Condition(tree).names:
        expected = Condition(Compare("==", Name(tuple(name.split("."))), Literal(None)))
        assert (resolve(context, name) is None) is expected.evaluate(context)
        assert resolve(context, name) == resolve(context, tuple(name.split(".")))
