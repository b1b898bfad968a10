"""The public [`Condition`][csmkit.conditions.Condition] value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from csmkit.conditions._compile import Predicate, compile_node
from csmkit.conditions._dictform import from_dict as _tree_from_dict
from csmkit.conditions._dictform import to_dict as _tree_to_dict
from csmkit.conditions._text import check_node, operand_text, parse_text, to_text
from csmkit.conditions._tree import (
    And,
    Call,
    Compare,
    Literal,
    Name,
    Node,
    Not,
    Operand,
    Or,
    Truth,
)
from csmkit.errors import ConditionEvaluationError, ConditionSyntaxError

__all__ = ["Condition"]


def _render(node: Node | Operand) -> str:
    if isinstance(node, (Literal, Name, Call)):
        return operand_text(node)
    return to_text(node)


def _collect_names(node: Node | Operand, out: set[str]) -> None:
    if isinstance(node, Name):
        out.add(node.dotted)
    elif isinstance(node, Literal):
        return
    elif isinstance(node, Call):
        for arg in node.args:
            _collect_names(arg, out)
    else:
        for child in _children(node):
            _collect_names(child, out)


def _children(node: Node) -> tuple[Node | Operand, ...]:
    if isinstance(node, (And, Or)):
        return node.items
    if isinstance(node, Not):
        return (node.item,)
    if isinstance(node, Truth):
        return (node.operand,)
    assert isinstance(node, Compare)
    return (node.left, node.right)


class Condition:
    """A compiled, immutable condition: "does this ticket match?".

    Build one from text with [`parse()`][csmkit.conditions.Condition.parse] or from the JSON form
    with [`from_dict()`][csmkit.conditions.Condition.from_dict]; both give the same tree, which
    [`to_dict()`][csmkit.conditions.Condition.to_dict] and ``str()`` render back. The tree is
    compiled once; [`evaluate()`][csmkit.conditions.Condition.evaluate] never re-parses.

    Examples:
        >>> rule = Condition.parse(
        ...     'priority >= "high" and ticket.fields.region in ["east", "north"]')
        >>> rule.evaluate({"priority": "urgent", "ticket": {"fields": {"region": "east"}}})
        True
        >>> rule.names
        ('priority', 'ticket.fields.region')
        >>> Condition.from_dict(rule.to_dict()) == rule
        True

    Raises:
        ConditionSyntaxError: from [`parse()`][csmkit.conditions.Condition.parse] /
            [`from_dict()`][csmkit.conditions.Condition.from_dict] on invalid input, carrying the
            position (text) or path (dict) of the problem.
    """

    __slots__ = ("_names", "_predicate", "_text", "_tree")

    _tree: Node
    _predicate: Predicate
    _text: str
    _names: tuple[str, ...]

    def __init__(self, tree: Node) -> None:
        """Wrap a tree built by [`parse()`][csmkit.conditions.Condition.parse] /
        [`from_dict()`][csmkit.conditions.Condition.from_dict] (prefer those)."""
        check_node(tree)
        self._tree = tree
        self._text = to_text(tree)
        self._predicate = compile_node(tree, _render)
        names: set[str] = set()
        _collect_names(tree, names)
        self._names = tuple(sorted(names))

    # ------------------------------------------------------------ constructors
    @classmethod
    def parse(cls, text: str) -> Condition:
        """Parse the text form (``priority == "urgent" and not agent.away``)."""
        return cls(parse_text(text))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Condition:
        """Build from the dict form (``{"all": [{"field": ..., "op": ..., "value": ...}]}``)."""
        return cls(_tree_from_dict(data))

    @classmethod
    def coerce(cls, value: Condition | str | Mapping[str, Any]) -> Condition:
        """Accept a condition, its text or its dict form (for configuration loaders)."""
        if isinstance(value, Condition):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        raise ConditionSyntaxError(
            f"a condition must be text or a dict, got {type(value).__name__} {value!r}"
        )

    # ------------------------------------------------------------ forms
    def to_dict(self) -> dict[str, Any]:
        """The canonical dict form (JSON-safe)."""
        return _tree_to_dict(self._tree)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Condition.parse({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Condition):
            return NotImplemented
        return self._tree == other._tree

    def __hash__(self) -> int:
        return hash(self._text)

    def __reduce__(self) -> tuple[Any, ...]:
        # The compiled predicate is a closure: pickle the tree and compile it on load.
        return (Condition, (self._tree,))

    @property
    def tree(self) -> Node:
        """The syntax tree (immutable nodes from [`csmkit.conditions`][csmkit.conditions])."""
        return self._tree

    @property
    def names(self) -> tuple[str, ...]:
        """Every dotted name the condition reads, sorted (for validating definitions)."""
        return self._names

    # ------------------------------------------------------------ evaluation
    def evaluate(self, context: Mapping[str, Any]) -> bool:
        """Whether the condition holds for ``context``.

        Args:
            context: Names to values; nested mappings and ``attrs`` instances (such as a
                [`Ticket`][csmkit.timeline.Ticket]) are walked by dotted names.

        Raises:
            ConditionEvaluationError: ``context`` is not a mapping, or the condition
                compares values that cannot be compared (a number with a string).
        """
        if type(context) is not dict and not isinstance(context, Mapping):
            raise ConditionEvaluationError(
                f"a condition is evaluated against a mapping, got {type(context).__name__}"
            )
        return self._predicate(context)

    __call__ = evaluate
