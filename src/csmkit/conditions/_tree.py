"""The syntax tree shared by the text and dict forms of a condition.

Nodes are immutable and compare by value, so ``parse(text) == from_dict(data)`` is a
meaningful check. Two families:

* operands produce values: [`Literal`][csmkit.conditions.Literal], [`Name`][csmkit.conditions.Name],
[`Call`][csmkit.conditions.Call];
* conditions produce booleans: [`Compare`][csmkit.conditions.Compare],
  [`Truth`][csmkit.conditions.Truth], [`And`][csmkit.conditions.And], [`Or`][csmkit.conditions.Or],
  [`Not`][csmkit.conditions.Not].
"""

from __future__ import annotations

import math
from typing import TypeAlias

import attrs

__all__ = [
    "BOOLEAN_HELPERS",
    "COMPARE_OPS",
    "HELPERS",
    "KEYWORDS",
    "ORDERING_OPS",
    "And",
    "Call",
    "Compare",
    "Literal",
    "Name",
    "Node",
    "Not",
    "Operand",
    "Or",
    "Scalar",
    "Truth",
    "format_literal",
]

Scalar: TypeAlias = "str | int | float | bool | None"

COMPARE_OPS: tuple[str, ...] = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")
ORDERING_OPS: frozenset[str] = frozenset({"<", "<=", ">", ">="})

HELPERS: dict[str, int] = {
    "contains": 2,
    "endswith": 2,
    "intersects": 2,
    "len": 1,
    "lower": 1,
    "startswith": 2,
    "upper": 1,
}
"""The only callable names, with their number of arguments."""

BOOLEAN_HELPERS: frozenset[str] = frozenset({"contains", "endswith", "intersects", "startswith"})
"""Helpers that return a boolean, so they may stand alone as a condition."""

KEYWORDS: frozenset[str] = frozenset(
    {"and", "or", "not", "in", "True", "False", "None", "true", "false", "null"}
)


@attrs.frozen
class Literal:
    """A constant: str, int, float, bool, ``None``, or a tuple of those (a list)."""

    value: Scalar | tuple[Scalar, ...]


@attrs.frozen
class Name:
    """A dotted name looked up in the evaluation context (``ticket.fields.region``)."""

    path: tuple[str, ...]

    @property
    def dotted(self) -> str:
        """The name as written: segments joined by dots."""
        return ".".join(self.path)


@attrs.frozen
class Call:
    """A call of one of the fixed [`HELPERS`][csmkit.conditions.HELPERS]."""

    function: str
    args: tuple[Operand, ...]


Operand: TypeAlias = "Literal | Name | Call"


@attrs.frozen
class Compare:
    """``left op right`` with ``op`` one of `COMPARE_OPS`."""

    op: str
    left: Operand
    right: Operand


@attrs.frozen
class Truth:
    """An operand used as a condition on its own (``agent.away``, ``contains(a, b)``)."""

    operand: Operand


@attrs.frozen
class And:
    """All of ``items`` hold (at least two; nested ``And`` nodes are flattened)."""

    items: tuple[Node, ...]


@attrs.frozen
class Or:
    """Any of ``items`` holds (at least two; nested ``Or`` nodes are flattened)."""

    items: tuple[Node, ...]


@attrs.frozen
class Not:
    """``item`` does not hold."""

    item: Node


Node: TypeAlias = "Compare | Truth | And | Or | Not"


def format_literal(value: Scalar | tuple[Scalar, ...]) -> str:
    """The canonical text of a literal (strings double-quoted with escapes)."""
    if isinstance(value, tuple):
        return "[" + ", ".join(format_literal(item) for item in value) + "]"
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):  # pragma: no cover - rejected when built
            raise ValueError(f"{value!r} is not a finite number")
        return repr(value)
    return _quote(value)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _quote(text: str) -> str:
    out = ['"']
    for char in text:
        escaped = _ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif ord(char) < 0x20 or 0xD800 <= ord(char) <= 0xDFFF or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
