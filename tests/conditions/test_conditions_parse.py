"""Condition language: parsing, printing, the dict form and their errors."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.conditions import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_TEXT_LENGTH,
    And,
    Call,
    Compare,
    Condition,
    Literal,
    Name,
    Not,
    Or,
    Truth,
)
from csmkit.errors import ConditionSyntaxError, CsmkitError
from strategies import condition_trees


class TestTextForm:
    def test_the_issue_example(self) -> None:
        text = (
            'priority == "urgent" and ticket.fields.region in ["east", "north"] and not agent.away'
        )
        condition = Condition.parse(text)
        assert condition.tree == And(
            (
                Compare("==", Name(("priority",)), Literal("urgent")),
                Compare("in", Name(("ticket", "fields", "region")), Literal(("east", "north"))),
                Not(Truth(Name(("agent", "away")))),
            )
        )
        assert str(condition) == text
        assert condition.names == ("agent.away", "priority", "ticket.fields.region")

    def test_precedence_not_and_or(self) -> None:
        tree = Condition.parse("a or b and not c == 1").tree
        assert tree == Or(
            (
                Truth(Name(("a",))),
                And((Truth(Name(("b",))), Not(Compare("==", Name(("c",)), Literal(1))))),
            )
        )

    def test_parentheses_override_and_are_printed_only_when_needed(self) -> None:
        condition = Condition.parse("(a or b) and (c)")
        assert str(condition) == "(a or b) and c"
        assert str(Condition.parse("not (a and b)")) == "not (a and b)"
        assert str(Condition.parse("((a and b) and c)")) == "a and b and c"

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("x == 12", 12),
            ("x == -3", -3),
            ("x == 2.5", 2.5),
            ("x == 1e3", 1000.0),
            ("x == true", True),
            ("x == False", False),
            ("x == null", None),
            ("x == 'it''s'", None),
        ],
    )
    def test_literals(self, text: str, value: object) -> None:
        if "''" in text:
            with pytest.raises(ConditionSyntaxError):
                Condition.parse(text)
            return
        tree = Condition.parse(text).tree
        assert isinstance(tree, Compare)
        assert tree.right == Literal(value)  # type: ignore[arg-type]

    def test_strings_escapes_and_unicode(self) -> None:
        condition = Condition.parse(
            r"""subject == 'say "hi"\n' and 地区 == "华东" and a == "\u00e9" """
        )
        assert str(condition) == r'subject == "say \"hi\"\n" and 地区 == "华东" and a == "é"'
        assert Condition.parse(str(condition)) == condition

    def test_not_in_and_helpers(self) -> None:
        condition = Condition.parse(
            'tier not in ["junior"] and contains(tags, "vip") and len(subject) > 3'
        )
        assert (
            str(condition)
            == 'tier not in ["junior"] and contains(tags, "vip") and len(subject) > 3'
        )
        assert condition.names == ("subject", "tags", "tier")

    @pytest.mark.parametrize(
        ("text", "message", "position"),
        [
            ("", "empty condition", 0),
            ("   ", "empty condition", 0),
            ("a = 1", "use '=='", 2),
            ("a && b", "use 'and'", 2),
            ("a + 1 > 2", "arithmetic", 2),
            ("a ==", "expected a value", 4),
            ("(a == 1", "expected ')'", 7),
            ("a == 1)", "expected 'and', 'or' or the end", 6),
            ('a == "x', "unterminated string", 5),
            (r'a == "\q"', "unknown escape", 6),
            (r'a == "\u12"', "4 hex digits", 6),
            ("a == 1.", "malformed number", 5),
            ("a == 1x", "malformed number", 5),
            ("a.", "expected a name after '.'", 2),
            ("a.and == 1", "keyword 'and' cannot be part of a name", 2),
            ("__import__('os')", "not allowed", 0),
            ("ticket.__class__", "'__class__' is not allowed", 7),
            ("open('f')", "unknown function 'open'", 0),
            ("len(a, b) > 1", "len() takes 1 argument", 0),
            ("len(a)", "does not return a boolean", 0),
            ("'text'", "is not a condition", 0),
            ("42", "is not a condition", 0),
            ("a < b < c", "cannot be chained", 6),
            ("(a or b) == 1", "parenthesised condition cannot be compared", 9),
            ("a == (b or c)", "parenthesised condition cannot be compared", 5),
            ("a in 3", "needs a list or a string", 2),
            ("a in [b]", "only literal values", 6),
            ("a in [[1]]", "only literal values", 6),
            ("[x for x in y]", "only literal values", 1),
            ("lambda: 1", "unexpected character ':'", 6),
            ("a.b(1)", "unknown function 'a.b'", 0),
            ("x == 1e999", "too large", 5),
            ("x == " + "9" * 41, "more than 40 digits", 5),
            ("not", "expected a value", 3),
            ("and", "expected a value", 0),
            ("a ; b", "unexpected character ';'", 2),
        ],
    )
    def test_rejected_text(self, text: str, message: str, position: int) -> None:
        with pytest.raises(ConditionSyntaxError) as info:
            Condition.parse(text)
        assert message in info.value.message
        assert info.value.position == position
        assert info.value.text == text
        assert "^" in str(info.value)

    def test_errors_are_value_errors_and_csmkit_errors(self) -> None:
        with pytest.raises(ValueError, match="use '=='"):
            Condition.parse("a = 1")
        with pytest.raises(CsmkitError):
            Condition.parse("a = 1")

    def test_limits(self) -> None:
        with pytest.raises(ConditionSyntaxError, match="limit is 10000"):
            Condition.parse("a or " * (MAX_TEXT_LENGTH // 5) + "a")
        deep = "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1)
        with pytest.raises(ConditionSyntaxError, match="nested deeper than 32"):
            Condition.parse(deep)
        ok = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
        assert str(Condition.parse(ok)) == "a"
        with pytest.raises(ConditionSyntaxError, match="nested deeper"):
            Condition.parse("not " * (MAX_DEPTH + 1) + "a")

    def test_long_flat_conditions_are_fine(self) -> None:
        text = " and ".join(f"f{i} == {i}" for i in range(500))
        condition = Condition.parse(text)
        assert str(condition) == text
        assert len(condition.names) == 500

    def test_not_text(self) -> None:
        with pytest.raises(ConditionSyntaxError, match="must be text"):
            Condition.parse(42)  # type: ignore[arg-type]


class TestDictForm:
    def test_the_issue_example(self) -> None:
        data = {
            "all": [
                {"field": "priority", "op": "==", "value": "urgent"},
                {"any": [{"field": "a", "op": "<", "value": 3}, {"not": {"field": "agent.away"}}]},
            ]
        }
        condition = Condition.from_dict(data)
        assert str(condition) == 'priority == "urgent" and (a < 3 or not agent.away)'
        assert condition.to_dict() == data
        assert condition == Condition.parse(str(condition))

    def test_general_comparison_and_calls(self) -> None:
        data = {
            "left": {"field": "agent.region"},
            "op": "==",
            "right": {"field": "ticket.fields.region"},
        }
        condition = Condition.from_dict(data)
        assert str(condition) == "agent.region == ticket.fields.region"
        assert condition.to_dict() == data
        call = {"call": "contains", "args": [{"field": "tags"}, {"value": "vip"}]}
        assert str(Condition.from_dict(call)) == 'contains(tags, "vip")'
        assert Condition.from_dict(call).to_dict() == call

    def test_single_item_groups_collapse(self) -> None:
        condition = Condition.from_dict({"all": [{"field": "a", "op": "==", "value": 1}]})
        assert condition.to_dict() == {"field": "a", "op": "==", "value": 1}

    @pytest.mark.parametrize(
        ("data", "path", "message"),
        [
            ([], "", "must be a dict"),
            ({"all": []}, "all", "non-empty list"),
            ({"all": [{"field": "a", "op": "=", "value": 1}]}, "all[0].op", "unknown operator"),
            ({"any": [{"field": "a"}, {"fld": "b"}]}, "any[1]", "expected one of the keys"),
            ({"not": {"field": "a"}, "all": []}, "", "unexpected key(s) 'not'"),
            ({"field": "a", "op": "=="}, "", "missing key(s) 'value'"),
            ({"field": "a b", "op": "==", "value": 1}, "field", "not a dotted name"),
            ({"field": "x.__class__", "op": "==", "value": 1}, "field", "not allowed"),
            ({"field": "a", "op": "==", "value": {"x": 1}}, "value", "a literal must be"),
            ({"field": "a", "op": "==", "value": float("nan")}, "value", "finite"),
            ({"field": "a", "op": "in", "value": 5}, "", "needs a list or a string"),
            ({"call": "eval", "args": []}, "call", "unknown function 'eval'"),
            ({"call": "len", "args": [{"field": "a"}]}, "", "does not return a boolean"),
            ({"value": "yes"}, "", "is not a condition"),
            ({"left": {"field": "a"}, "op": "==", "right": 3}, "right", "must be a dict"),
        ],
    )
    def test_rejected_dicts(self, data: object, path: str, message: str) -> None:
        with pytest.raises(ConditionSyntaxError) as info:
            Condition.from_dict(data)  # type: ignore[arg-type]
        assert info.value.path == path
        assert message in info.value.message

    def test_dict_limits(self) -> None:
        deep: dict[str, object] = {"field": "a"}
        for _ in range(MAX_DEPTH + 1):
            deep = {"not": deep}
        with pytest.raises(ConditionSyntaxError, match="nested deeper"):
            Condition.from_dict(deep)
        wide = {"any": [{"field": f"f{i}"} for i in range(MAX_NODES + 1)]}
        with pytest.raises(ConditionSyntaxError, match="more than 5000 nodes"):
            Condition.from_dict(wide)

    def test_coerce(self) -> None:
        condition = Condition.parse("a == 1")
        assert Condition.coerce(condition) is condition
        assert Condition.coerce("a == 1") == condition
        assert Condition.coerce({"field": "a", "op": "==", "value": 1}) == condition
        with pytest.raises(ConditionSyntaxError, match="text or a dict"):
            Condition.coerce(3)  # type: ignore[arg-type]

    def test_hand_built_trees_are_checked(self) -> None:
        with pytest.raises(ConditionSyntaxError, match="at least two"):
            Condition(And((Truth(Name(("a",))),)))
        with pytest.raises(ConditionSyntaxError, match="not a condition"):
            Condition(Truth(Literal(3)))
        assert str(Condition(Truth(Call("contains", (Name(("t",)), Literal("x")))))) == (
            'contains(t, "x")'
        )


# ------------------------------------------------------------------ properties
@given(condition_trees)
def test_tree_text_tree_round_trip(tree: object) -> None:
    condition = Condition(tree)  # type: ignore[arg-type]
    again = Condition.parse(str(condition))
    assert again == condition
    assert str(again) == str(condition)


@given(condition_trees)
def test_tree_dict_tree_round_trip_through_json(tree: object) -> None:
    condition = Condition(tree)  # type: ignore[arg-type]
    data = json.loads(json.dumps(condition.to_dict()))
    again = Condition.from_dict(data)
    assert again == condition
    assert again.to_dict() == condition.to_dict()


@given(condition_trees)
def test_text_and_dict_forms_agree(tree: object) -> None:
    condition = Condition(tree)  # type: ignore[arg-type]
    assert Condition.parse(str(condition)) == Condition.from_dict(condition.to_dict())
    assert hash(Condition.parse(str(condition))) == hash(condition)


_ALPHABET = st.sampled_from(
    list("abcxyz_019.()[],'\"\\-+=!<>&|: \t\n") + ["and", "or", "not", "in", "None", "地"]
)


@given(st.text(max_size=200))
def test_arbitrary_text_only_ever_raises_condition_syntax_error(text: str) -> None:
    try:
        condition = Condition.parse(text)
    except ConditionSyntaxError as exc:
        assert exc.position is not None and 0 <= exc.position <= len(text)
    else:
        assert Condition.parse(str(condition)) == condition


@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_grammar_shaped_noise_only_ever_raises_condition_syntax_error(text: str) -> None:
    try:
        condition = Condition.parse(text)
    except ConditionSyntaxError as exc:
        assert exc.position is not None and 0 <= exc.position <= len(text)
    else:
        assert Condition.parse(str(condition)) == condition


@given(st.lists(_ALPHABET, max_size=40).map(" ".join))
def test_token_noise_only_ever_raises_condition_syntax_error(text: str) -> None:
    with contextlib.suppress(ConditionSyntaxError):
        Condition.parse(text)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda c: (
        st.lists(c, max_size=3)
        | st.dictionaries(
            st.sampled_from(["all", "any", "not", "field", "op", "value", "left", "right", "call"])
            | st.text(max_size=3),
            c,
            max_size=3,
        )
    ),
    max_leaves=12,
)


@given(_json)
def test_arbitrary_json_only_ever_raises_condition_syntax_error(data: object) -> None:
    try:
        condition = Condition.from_dict(data)  # type: ignore[arg-type]
    except ConditionSyntaxError:
        pass
    else:
        assert Condition.from_dict(condition.to_dict()) == condition
