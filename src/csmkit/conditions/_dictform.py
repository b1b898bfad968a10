"""Dict (JSON) form of conditions, for UI rule builders.

Shapes::

    {"all": [cond, cond, ...]}                       # and
    {"any": [cond, cond, ...]}                       # or
    {"not": cond}
    {"field": "priority", "op": "==", "value": "urgent"}        # name op literal
    {"left": operand, "op": ">=", "right": operand}             # any comparison
    operand                                                      # truth of an operand

    operand := {"field": "ticket.fields.region"}
             | {"value": literal}
             | {"call": "contains", "args": [operand, ...]}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from csmkit.conditions._text import MAX_DEPTH, compare, make_and, make_or, truth
from csmkit.conditions._tree import (
    COMPARE_OPS,
    HELPERS,
    KEYWORDS,
    And,
    Call,
    Compare,
    Literal,
    Name,
    Node,
    Not,
    Operand,
    Or,
    Scalar,
    Truth,
)
from csmkit.errors import ConditionSyntaxError

__all__ = ["MAX_NODES", "from_dict", "to_dict"]

MAX_NODES = 5_000
"""Most nodes a dict-form condition may hold."""


class _Reader:
    def __init__(self) -> None:
        self.nodes = 0

    def _count(self, path: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ConditionSyntaxError(f"more than {MAX_NODES} nodes", path=path)
        if depth > MAX_DEPTH:
            raise ConditionSyntaxError(f"nested deeper than {MAX_DEPTH} levels", path=path)

    def condition(self, data: object, path: str, depth: int) -> Node:
        self._count(path, depth)
        if not isinstance(data, Mapping):
            raise ConditionSyntaxError(
                f"a condition must be a dict, got {type(data).__name__} {data!r}", path=path
            )
        keys = set(data)
        for group, builder in (("all", make_and), ("any", make_or)):
            if group in keys:
                _only(data, {group}, path)
                items = data[group]
                if not isinstance(items, list) or not items:
                    raise ConditionSyntaxError(
                        f"{group!r} must be a non-empty list of conditions", path=_at(path, group)
                    )
                return builder(
                    [
                        self.condition(item, f"{_at(path, group)}[{i}]", depth + 1)
                        for i, item in enumerate(items)
                    ]
                )
        if "not" in keys:
            _only(data, {"not"}, path)
            return Not(self.condition(data["not"], _at(path, "not"), depth + 1))
        if "op" in keys:
            return self._compare(data, path, depth)
        operand = self.operand(data, path, depth, counted=True)
        return truth(operand, None, None, path=path)

    def _compare(self, data: Mapping[str, Any], path: str, depth: int) -> Compare:
        op = data["op"]
        if op not in COMPARE_OPS:
            raise ConditionSyntaxError(
                f"unknown operator {op!r}; expected one of {', '.join(COMPARE_OPS)}",
                path=_at(path, "op"),
            )
        if "left" in data or "right" in data:
            _only(data, {"left", "op", "right"}, path, required=True)
            left = self.operand(data["left"], _at(path, "left"), depth + 1)
            right = self.operand(data["right"], _at(path, "right"), depth + 1)
        else:
            _only(data, {"field", "op", "value"}, path, required=True)
            left = _name(data["field"], _at(path, "field"))
            right = Literal(_literal(data["value"], _at(path, "value"), allow_list=True))
        return compare(op, left, right, None, None, path=path)

    def operand(self, data: object, path: str, depth: int, *, counted: bool = False) -> Operand:
        if not counted:
            self._count(path, depth)
        if not isinstance(data, Mapping):
            raise ConditionSyntaxError(
                f"an operand must be a dict, got {type(data).__name__} {data!r}", path=path
            )
        if "field" in data:
            _only(data, {"field"}, path)
            return _name(data["field"], _at(path, "field"))
        if "value" in data:
            _only(data, {"value"}, path)
            return Literal(_literal(data["value"], _at(path, "value"), allow_list=True))
        if "call" in data:
            _only(data, {"call", "args"}, path, required=True)
            function = data["call"]
            if function not in HELPERS:
                allowed = ", ".join(sorted(HELPERS))
                raise ConditionSyntaxError(
                    f"unknown function {function!r}; the only functions are {allowed}",
                    path=_at(path, "call"),
                )
            args = data["args"]
            if not isinstance(args, list):
                raise ConditionSyntaxError("'args' must be a list", path=_at(path, "args"))
            if len(args) != HELPERS[function]:
                raise ConditionSyntaxError(
                    f"{function}() takes {HELPERS[function]} argument(s), got {len(args)}",
                    path=_at(path, "args"),
                )
            return Call(
                function,
                tuple(
                    self.operand(arg, f"{_at(path, 'args')}[{i}]", depth + 1)
                    for i, arg in enumerate(args)
                ),
            )
        raise ConditionSyntaxError(
            "expected one of the keys 'all', 'any', 'not', 'op', 'field', 'value', 'call'; "
            f"got {sorted(map(str, data))}",
            path=path,
        )


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _only(data: Mapping[Any, Any], allowed: set[str], path: str, *, required: bool = False) -> None:
    extra = sorted(map(str, set(data) - allowed))
    if extra:
        raise ConditionSyntaxError(
            f"unexpected key(s) {', '.join(map(repr, extra))} next to "
            f"{', '.join(map(repr, sorted(allowed)))}",
            path=path,
        )
    if required:
        missing = sorted(allowed - set(data))
        if missing:
            raise ConditionSyntaxError(f"missing key(s) {', '.join(map(repr, missing))}", path=path)


def _name(value: object, path: str) -> Name:
    if not isinstance(value, str) or not value:
        raise ConditionSyntaxError(f"a field name must be non-empty text, got {value!r}", path=path)
    segments = value.split(".")
    for segment in segments:
        if not segment.isidentifier():
            raise ConditionSyntaxError(f"{value!r} is not a dotted name", path=path)
        if segment.startswith("__"):
            raise ConditionSyntaxError(f"name segment {segment!r} is not allowed", path=path)
        if segment in KEYWORDS:
            raise ConditionSyntaxError(f"keyword {segment!r} cannot be a name", path=path)
    return Name(tuple(segments))


def _scalar(value: object, path: str) -> Scalar:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        if len(str(abs(value))) > 40:
            raise ConditionSyntaxError("integer literal has more than 40 digits", path=path)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConditionSyntaxError(f"{value!r} is not a finite number", path=path)
        return value
    raise ConditionSyntaxError(
        f"a literal must be text, a number, a boolean or null, got {type(value).__name__}",
        path=path,
    )


def _literal(value: object, path: str, *, allow_list: bool) -> Scalar | tuple[Scalar, ...]:
    if isinstance(value, (list, tuple)) and allow_list:
        return tuple(_scalar(item, f"{path}[{i}]") for i, item in enumerate(value))
    return _scalar(value, path)


def from_dict(data: object) -> Node:
    """Build a tree from the dict form.

    Raises:
        ConditionSyntaxError: with the path of the first problem (``all[1].op``).
    """
    return _Reader().condition(data, "", 0)


def _operand_dict(operand: Operand) -> dict[str, Any]:
    if isinstance(operand, Name):
        return {"field": operand.dotted}
    if isinstance(operand, Literal):
        return {"value": _plain(operand.value)}
    return {"call": operand.function, "args": [_operand_dict(a) for a in operand.args]}


def _plain(value: Scalar | tuple[Scalar, ...]) -> Any:
    return list(value) if isinstance(value, tuple) else value


def to_dict(node: Node) -> dict[str, Any]:
    """The canonical dict form of a tree (compact ``field/op/value`` where possible)."""
    if isinstance(node, And):
        return {"all": [to_dict(item) for item in node.items]}
    if isinstance(node, Or):
        return {"any": [to_dict(item) for item in node.items]}
    if isinstance(node, Not):
        return {"not": to_dict(node.item)}
    if isinstance(node, Truth):
        return _operand_dict(node.operand)
    if isinstance(node.left, Name) and isinstance(node.right, Literal):
        return {"field": node.left.dotted, "op": node.op, "value": _plain(node.right.value)}
    return {"left": _operand_dict(node.left), "op": node.op, "right": _operand_dict(node.right)}
