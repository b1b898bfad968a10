"""Compile a condition tree once into nested closures, so evaluation never re-parses.

Evaluation semantics (documented in ``docs/concepts.md``):

* A dotted name walks the context: mappings by key, ``attrs`` instances by field name
  (never methods, properties or private attributes). A missing name, or a walk into
  something that is neither, yields ``None``.
* ``==`` / ``!=`` are Python equality. Ordering (``< <= > >=``) with ``None`` on either
  side is false; between values Python cannot order (a number and a string) it raises
  [`ConditionEvaluationError`][csmkit.errors.ConditionEvaluationError]. A name ending in
  ``priority`` holding a plain string is ordered as a [`Priority`][csmkit.timeline.Priority]
  (``"low" < "high"``).
* ``x in y`` is false when ``y`` is ``None``; ``y`` must be a list, set, mapping (keys) or
  string (substring, ``x`` a string too), anything else raises.
* An operand standing alone must be a boolean; ``None`` counts as false.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from csmkit.conditions._tree import (
    ORDERING_OPS,
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
from csmkit.errors import ConditionEvaluationError
from csmkit.timeline import Priority

__all__ = ["Getter", "Predicate", "compile_node", "resolve"]

Getter = Callable[[Mapping[str, Any]], Any]
Predicate = Callable[[Mapping[str, Any]], bool]

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

_attrs_fields_cache: dict[type, frozenset[str]] = {}


def _attrs_field_names(cls: type) -> frozenset[str]:
    names = _attrs_fields_cache.get(cls)
    if names is None:
        names = frozenset(a.name for a in attrs.fields(cls) if not a.name.startswith("_"))
        _attrs_fields_cache[cls] = names
    return names


_kind_cache: dict[type, str] = {}


def _kind(cls: type) -> str:
    """``"map"``, ``"attrs"`` or ``""`` for a type; cached, as ABC checks are slow."""
    kind = _kind_cache.get(cls)
    if kind is None:
        kind = "map" if issubclass(cls, Mapping) else "attrs" if attrs.has(cls) else ""
        _kind_cache[cls] = kind
    return kind


def _step(value: Any, key: str) -> Any:
    cls = type(value)
    if cls is dict:
        return value.get(key)
    kind = _kind(cls)
    if kind == "map":
        return value.get(key)
    if kind == "attrs" and key in _attrs_field_names(cls):
        return getattr(value, key)
    return None


def resolve(context: Mapping[str, Any], name: str | tuple[str, ...]) -> Any:
    """Read a dotted name from ``context`` exactly as conditions do.

    Mappings are walked by key and ``attrs`` instances by public field name; a missing
    name, or a walk into anything else, gives ``None``. Use it where code must see the
    same value a condition sees (explanations, index plans).

    Args:
        context: The evaluation context.
        name: A dotted name (``"ticket.fields.region"``) or its segments.

    Examples:
        >>> resolve({"ticket": {"fields": {"region": "east"}}}, "ticket.fields.region")
        'east'
        >>> resolve({"ticket": {}}, ("ticket", "fields", "region")) is None
        True
    """
    path = name.split(".") if isinstance(name, str) else name
    value: Any = context
    for key in path:
        if value is None:
            return None
        value = _step(value, key)
    return value


def _compile_name(name: Name) -> Getter:
    path = name.path
    if len(path) == 1:
        (key,) = path

        def get1(context: Mapping[str, Any]) -> Any:
            return context.get(key)

        return get1
    first, rest = path[0], path[1:]
    if len(rest) == 1:
        (second,) = rest

        def get2(context: Mapping[str, Any]) -> Any:
            value = context.get(first)
            if type(value) is dict:
                return value.get(second)
            return _step(value, second)

        return get2

    def get_n(context: Mapping[str, Any]) -> Any:
        value = context.get(first)
        for key in rest:
            if value is None:
                return None
            value = _step(value, key)
        return value

    return get_n


def _helper(function: str, describe: str) -> Callable[..., Any]:
    def fail(message: str) -> ConditionEvaluationError:
        return ConditionEvaluationError(f"{describe}: {message}")

    def h_len(value: Any) -> int:
        if value is None:
            return 0
        if isinstance(value, (str, list, tuple, set, frozenset, Mapping)):
            return len(value)
        raise fail(f"len() of {type(value).__name__} {value!r}")

    def h_contains(container: Any, item: Any) -> bool:
        if container is None:
            return False
        if isinstance(container, str):
            if not isinstance(item, str):
                raise fail(f"cannot look for {item!r} inside text")
            return item in container
        if isinstance(container, (list, tuple, set, frozenset, Mapping)):
            try:
                return item in container
            except TypeError as exc:
                raise fail(str(exc)) from None
        raise fail(f"contains() needs a list, set, mapping or text, got {container!r}")

    def h_affix(method: str) -> Callable[[Any, Any], bool]:
        def check(text: Any, affix: Any) -> bool:
            if text is None:
                return False
            if not isinstance(text, str) or not isinstance(affix, str):
                raise fail(f"{method}() needs two strings, got {text!r} and {affix!r}")
            return bool(getattr(text, method)(affix))

        return check

    def h_case(method: str) -> Callable[[Any], Any]:
        def change(text: Any) -> Any:
            if text is None:
                return None
            if not isinstance(text, str):
                raise fail(f"{method}() needs a string, got {text!r}")
            return getattr(text, method)()

        return change

    def h_intersects(left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
        kinds = (list, tuple, set, frozenset)
        if not isinstance(left, kinds) or not isinstance(right, kinds):
            raise fail(f"intersects() needs two lists, got {left!r} and {right!r}")
        try:
            return not set(left).isdisjoint(right)
        except TypeError as exc:
            raise fail(str(exc)) from None

    table: dict[str, Callable[..., Any]] = {
        "len": h_len,
        "contains": h_contains,
        "startswith": h_affix("startswith"),
        "endswith": h_affix("endswith"),
        "lower": h_case("lower"),
        "upper": h_case("upper"),
        "intersects": h_intersects,
    }
    return table[function]


def _compile_operand(operand: Operand, text: Callable[[Node | Operand], str]) -> Getter:
    if isinstance(operand, Literal):
        value = operand.value
        return lambda context: value
    if isinstance(operand, Name):
        return _compile_name(operand)
    assert isinstance(operand, Call)
    helper = _helper(operand.function, f"in `{text(operand)}`")
    args = [_compile_operand(arg, text) for arg in operand.args]
    if len(args) == 1:
        (a0,) = args
        return lambda context: helper(a0(context))
    a0, a1 = args
    return lambda context: helper(a0(context), a1(context))


def _as_priority(getter: Getter, describe: str) -> Getter:
    def get(context: Mapping[str, Any]) -> Any:
        value = getter(context)
        if type(value) is str:
            try:
                return Priority.parse(value)
            except ValueError as exc:
                raise ConditionEvaluationError(f"{describe}: {exc}") from None
        return value

    return get


def _fast_compare(node: Compare) -> Predicate | None:
    """Specialised closures for the most common shape, ``name op literal``.

    A one-segment name is read straight from the context and a literal list of scalars
    becomes a frozenset; the semantics are exactly those of the general path.
    """
    if not (isinstance(node.left, Name) and isinstance(node.right, Literal)):
        return None
    value = node.right.value
    getter = _compile_name(node.left)
    single = len(node.left.path) == 1
    key = node.left.path[0]
    if node.op == "==" and not isinstance(value, tuple):
        if single:
            return lambda context: bool(context.get(key) == value)
        return lambda context: bool(getter(context) == value)
    if node.op == "!=" and not isinstance(value, tuple):
        if single:
            return lambda context: bool(context.get(key) != value)
        return lambda context: bool(getter(context) != value)
    if node.op in ("in", "not in") and isinstance(value, tuple):
        members = frozenset(value)
        negate = node.op == "not in"

        def member(context: Mapping[str, Any]) -> bool:
            item = context.get(key) if single else getter(context)
            try:
                found = item in members
            except TypeError:  # unhashable item: fall back to the tuple's equality scan
                found = item in value
            return not found if negate else found

        return member
    return None


def _compile_compare(node: Compare, text: Callable[[Node | Operand], str]) -> Predicate:
    describe = f"in `{text(node)}`"
    left = _compile_operand(node.left, text)
    right = _compile_operand(node.right, text)
    op = node.op
    fast = _fast_compare(node)
    if fast is not None:
        return fast
    if op == "==":
        return lambda context: bool(left(context) == right(context))
    if op == "!=":
        return lambda context: bool(left(context) != right(context))
    if op in ORDERING_OPS:
        for side, operand in (("left", node.left), ("right", node.right)):
            if isinstance(operand, Name) and operand.path[-1] == "priority":
                if side == "left":
                    left = _as_priority(left, describe)
                else:
                    right = _as_priority(right, describe)
        compare = _ORDERING[op]

        def ordered(context: Mapping[str, Any]) -> bool:
            a = left(context)
            b = right(context)
            if a is None or b is None:
                return False
            try:
                return bool(compare(a, b))
            except (TypeError, ValueError):
                raise ConditionEvaluationError(
                    f"{describe}: cannot order {type(a).__name__} {a!r} and "
                    f"{type(b).__name__} {b!r}"
                ) from None

        return ordered

    def member(context: Mapping[str, Any]) -> bool:
        item = left(context)
        container = right(context)
        if container is None:
            return False
        if isinstance(container, str):
            if not isinstance(item, str):
                raise ConditionEvaluationError(
                    f"{describe}: cannot look for {type(item).__name__} {item!r} inside text"
                )
            return item in container
        if isinstance(container, (list, tuple, set, frozenset, Mapping)):
            try:
                return item in container
            except TypeError:
                raise ConditionEvaluationError(
                    f"{describe}: {item!r} cannot be looked up in {type(container).__name__}"
                ) from None
        raise ConditionEvaluationError(
            f"{describe}: 'in' needs a list, set, mapping or text on its right, got "
            f"{type(container).__name__} {container!r}"
        )

    if op == "in":
        return member
    return lambda context: not member(context)


def compile_node(node: Node, text: Callable[[Node | Operand], str]) -> Predicate:
    """Turn a tree into a predicate over a context mapping.

    Args:
        node: The tree.
        text: Renders a node or operand as text, for error messages.
    """
    if isinstance(node, Compare):
        return _compile_compare(node, text)
    if isinstance(node, Truth):
        getter = _compile_operand(node.operand, text)
        describe = f"in `{text(node)}`"
        if isinstance(node.operand, Name) and len(node.operand.path) == 1:
            key = node.operand.path[0]

            def test_key(context: Mapping[str, Any]) -> bool:
                value = context.get(key)
                if value is True or value is False:
                    return value
                if value is None:
                    return False
                raise ConditionEvaluationError(
                    f"{describe}: expected a boolean, got {type(value).__name__} {value!r}"
                )

            return test_key

        def test(context: Mapping[str, Any]) -> bool:
            value = getter(context)
            if value is True or value is False:
                return value
            if value is None:
                return False
            raise ConditionEvaluationError(
                f"{describe}: expected a boolean, got {type(value).__name__} {value!r}"
            )

        return test
    if isinstance(node, Not):
        inner = compile_node(node.item, text)
        return lambda context: not inner(context)
    items = tuple(compile_node(item, text) for item in node.items)
    if isinstance(node, And):
        if len(items) == 2:
            a, b = items
            return lambda context: a(context) and b(context)
        if len(items) == 3:
            a, b, c = items
            return lambda context: a(context) and b(context) and c(context)

        def all_of(context: Mapping[str, Any]) -> bool:
            for item in items:  # noqa: SIM110 - a plain loop is faster than all(genexpr)
                if not item(context):
                    return False
            return True

        return all_of
    assert isinstance(node, Or)
    if len(items) == 2:
        a, b = items
        return lambda context: a(context) or b(context)
    if len(items) == 3:
        a, b, c = items
        return lambda context: a(context) or b(context) or c(context)

    def any_of(context: Mapping[str, Any]) -> bool:
        for item in items:  # noqa: SIM110 - a plain loop is faster than any(genexpr)
            if item(context):
                return True
        return False

    return any_of
