"""Text form of conditions: a hand-written lexer and recursive-descent parser, and printer.

Nothing here calls ``eval``, ``exec``, ``compile`` or the ``ast`` module: the grammar is
our own and small enough to read in one sitting::

    condition  := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := primary (compare_op primary)?        # no chaining
    primary    := literal | list | name | call | "(" condition ")"
    compare_op := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in"
    list       := "[" (literal ("," literal)*)? "]"
    call       := helper "(" primary ("," primary)* ")"
"""

from __future__ import annotations

import math
import re

import attrs

from csmkit.conditions._tree import (
    BOOLEAN_HELPERS,
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
    format_literal,
)
from csmkit.errors import ConditionSyntaxError

__all__ = [
    "MAX_DEPTH",
    "MAX_TEXT_LENGTH",
    "check_node",
    "compare",
    "make_and",
    "make_or",
    "operand_text",
    "parse_text",
    "to_text",
    "truth",
]

MAX_TEXT_LENGTH = 10_000
"""Longest condition text accepted, in characters."""

MAX_DEPTH = 32
"""Deepest nesting accepted (parentheses, ``not``, calls, and/or groups, lists)."""


@attrs.frozen
class _Token:
    kind: str  # "name", "string", "number", "op", "end"
    text: str
    position: int
    value: Scalar = None


_NUMBER = re.compile(r"-?(?:\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+)(?![\w.])")
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "(", ")", "[", "]", ",")
_HINTS = {
    "=": "use '==' to compare",
    "&": "use 'and'",
    "|": "use 'or'",
    "!": "use 'not' or '!='",
    "+": "arithmetic is not part of the condition language",
    "*": "arithmetic is not part of the condition language",
    "/": "arithmetic is not part of the condition language",
    "-": "arithmetic is not part of the condition language",
    "{": "dicts are not part of the condition language",
    "@": "decorators and matrix products are not part of the condition language",
    ":": "slices and lambdas are not part of the condition language",
}
_SIMPLE_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


def _error(message: str, text: str, position: int) -> ConditionSyntaxError:
    return ConditionSyntaxError(message, text=text, position=position)


def _is_identifier_start(char: str) -> bool:
    return char == "_" or char.isalpha()


def _scan_identifier(text: str, start: int) -> int:
    end = start
    while end < len(text) and (text[end] == "_" or text[end].isalnum()):
        end += 1
    return end


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char in " \t\r\n":
            i += 1
            continue
        if char in "\"'":
            value, i_end = _scan_string(text, i)
            tokens.append(_Token("string", text[i:i_end], i, value))
            i = i_end
            continue
        if char.isdigit() or (char == "-" and i + 1 < n and text[i + 1].isdigit()):
            match = _NUMBER.match(text, i)
            if match is None:
                raise _error("malformed number", text, i)
            literal = match.group()
            number: int | float
            if any(c in literal for c in ".eE"):
                number = float(literal)
                if not math.isfinite(number):
                    raise _error(f"number {literal} is too large", text, i)
            else:
                if len(literal) > 40:
                    raise _error("integer literal has more than 40 digits", text, i)
                number = int(literal)
            tokens.append(_Token("number", literal, i, number))
            i = match.end()
            continue
        if _is_identifier_start(char):
            start = i
            i = _scan_identifier(text, i)
            segment_start = start
            while True:
                segment = text[segment_start:i]
                if not segment.isidentifier():
                    raise _error(f"{segment!r} is not a valid name", text, segment_start)
                if segment.startswith("__"):
                    raise _error(f"name segment {segment!r} is not allowed", text, segment_start)
                if i < n and text[i] == ".":
                    if i + 1 < n and _is_identifier_start(text[i + 1]):
                        segment_start = i + 1
                        i = _scan_identifier(text, i + 1)
                        continue
                    raise _error("expected a name after '.'", text, i + 1)
                break
            word = text[start:i]
            if "." in word:
                for part, offset in _segments(word, start):
                    if part in KEYWORDS:
                        raise _error(f"keyword {part!r} cannot be part of a name", text, offset)
            tokens.append(_Token("name", word, start))
            continue
        matched = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if matched is not None:
            tokens.append(_Token("op", matched, i))
            i += len(matched)
            continue
        hint = _HINTS.get(char)
        suffix = f" ({hint})" if hint else ""
        raise _error(f"unexpected character {char!r}{suffix}", text, i)
    tokens.append(_Token("end", "", n))
    return tokens


def _segments(word: str, start: int) -> list[tuple[str, int]]:
    out = []
    offset = start
    for part in word.split("."):
        out.append((part, offset))
        offset += len(part) + 1
    return out


def _scan_string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == quote:
            return "".join(out), i + 1
        if char == "\\":
            if i + 1 >= n:
                break
            code = text[i + 1]
            if code in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[code])
                i += 2
                continue
            if code == "u":
                digits = text[i + 2 : i + 6]
                if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
                    out.append(chr(int(digits, 16)))
                    i += 6
                    continue
                raise _error("\\u must be followed by 4 hex digits", text, i)
            raise _error(f"unknown escape sequence '\\{code}'", text, i)
        out.append(char)
        i += 1
    raise _error("unterminated string", text, start)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    # -------------------------------------------------------------- helpers
    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def _advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _is(self, kind: str, text: str | None = None) -> bool:
        token = self.token
        return token.kind == kind and (text is None or token.text == text)

    def _is_keyword(self, word: str) -> bool:
        return self._is("name", word)

    def _expect_op(self, text: str, context: str) -> _Token:
        if not self._is("op", text):
            raise self._unexpected(f"expected {text!r} {context}")
        return self._advance()

    def _unexpected(self, message: str) -> ConditionSyntaxError:
        token = self.token
        found = "end of text" if token.kind == "end" else repr(token.text)
        return _error(f"{message}, found {found}", self.text, token.position)

    def _enter(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(f"nested deeper than {MAX_DEPTH} levels", self.text, position)

    def _leave(self) -> None:
        self.depth -= 1

    # -------------------------------------------------------------- grammar
    def parse(self) -> Node:
        if self.token.kind == "end":
            raise _error("empty condition", self.text, 0)
        node = self._or()
        if self.token.kind != "end":
            raise self._unexpected("expected 'and', 'or' or the end of the condition")
        return node

    def _or(self) -> Node:
        items = [self._and()]
        while self._is_keyword("or"):
            self._advance()
            items.append(self._and())
        return items[0] if len(items) == 1 else make_or(items)

    def _and(self) -> Node:
        items = [self._not()]
        while self._is_keyword("and"):
            self._advance()
            items.append(self._not())
        return items[0] if len(items) == 1 else make_and(items)

    def _not(self) -> Node:
        if self._is_keyword("not"):
            position = self._advance().position
            self._enter(position)
            item = self._not()
            self._leave()
            return Not(item)
        return self._comparison()

    def _comparison(self) -> Node:
        start = self.token.position
        left = self._primary()
        op = self._compare_op()
        if op is None:
            if isinstance(left, (Literal, Name, Call)):
                return truth(left, self.text, start)
            return left
        op_position = self.tokens[self.index - 1].position
        if not isinstance(left, (Literal, Name, Call)):
            raise _error("a parenthesised condition cannot be compared", self.text, op_position)
        right_start = self.token.position
        right = self._primary()
        if not isinstance(right, (Literal, Name, Call)):
            raise _error("a parenthesised condition cannot be compared", self.text, right_start)
        if self._compare_op(peek=True) is not None:
            raise _error(
                "comparisons cannot be chained; join them with 'and'",
                self.text,
                self.token.position,
            )
        return compare(op, left, right, self.text, op_position)

    def _compare_op(self, *, peek: bool = False) -> str | None:
        token = self.token
        if token.kind == "op" and token.text in ("==", "!=", "<", "<=", ">", ">="):
            if not peek:
                self._advance()
            return token.text
        if token.kind == "name" and token.text == "in":
            if not peek:
                self._advance()
            return "in"
        if token.kind == "name" and token.text == "not":
            following = self.tokens[self.index + 1]
            if following.kind == "name" and following.text == "in":
                if not peek:
                    self.index += 2
                return "not in"
        return None

    def _primary(self) -> Operand | Node:
        token = self.token
        if token.kind in ("string", "number"):
            self._advance()
            return Literal(token.value)
        if token.kind == "op" and token.text == "(":
            self._advance()
            self._enter(token.position)
            node = self._or()
            self._leave()
            self._expect_op(")", "to close the '(' opened at position " + str(token.position))
            return node
        if token.kind == "op" and token.text == "[":
            return self._list()
        if token.kind == "name":
            return self._name_or_call()
        raise self._unexpected("expected a value, a name or '('")

    def _name_or_call(self) -> Operand:
        token = self._advance()
        word = token.text
        if word in ("True", "true"):
            return Literal(True)
        if word in ("False", "false"):
            return Literal(False)
        if word in ("None", "null"):
            return Literal(None)
        if word in KEYWORDS:
            self.index -= 1
            raise self._unexpected("expected a value, a name or '('")
        if self._is("op", "("):
            return self._call(token)
        return Name(tuple(word.split(".")))

    def _call(self, token: _Token) -> Call:
        name = token.text
        if name not in HELPERS:
            allowed = ", ".join(sorted(HELPERS))
            raise _error(
                f"unknown function {name!r}; the only functions are {allowed}",
                self.text,
                token.position,
            )
        self._enter(token.position)
        self._advance()  # "("
        args: list[Operand] = []
        if not self._is("op", ")"):
            while True:
                arg_start = self.token.position
                arg = self._primary()
                if not isinstance(arg, (Literal, Name, Call)):
                    raise _error("a function argument must be a value", self.text, arg_start)
                args.append(arg)
                if self._is("op", ","):
                    self._advance()
                    continue
                break
        self._expect_op(")", f"to close the call of {name}()")
        self._leave()
        if len(args) != HELPERS[name]:
            raise _error(
                f"{name}() takes {HELPERS[name]} argument(s), got {len(args)}",
                self.text,
                token.position,
            )
        return Call(name, tuple(args))

    def _list(self) -> Literal:
        start = self._advance().position
        self._enter(start)
        items: list[Scalar] = []
        if not self._is("op", "]"):
            while True:
                token = self.token
                if token.kind in ("string", "number"):
                    items.append(token.value)
                elif token.kind == "name" and token.text in ("True", "true"):
                    items.append(True)
                elif token.kind == "name" and token.text in ("False", "false"):
                    items.append(False)
                elif token.kind == "name" and token.text in ("None", "null"):
                    items.append(None)
                else:
                    raise self._unexpected("a list may hold only literal values")
                self._advance()
                if self._is("op", ","):
                    self._advance()
                    continue
                break
        self._expect_op("]", f"to close the list opened at position {start}")
        self._leave()
        return Literal(tuple(items))


def make_and(items: list[Node] | tuple[Node, ...]) -> Node:
    """An [`And`][csmkit.conditions.And] of ``items`` with nested ``And`` nodes flattened."""
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, And) else (item,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def make_or(items: list[Node] | tuple[Node, ...]) -> Node:
    """An [`Or`][csmkit.conditions.Or] of ``items`` with nested ``Or`` nodes flattened."""
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, Or) else (item,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def truth(operand: Operand, text: str | None, position: int | None, path: str = "") -> Truth:
    """A [`Truth`][csmkit.conditions.Truth] node, refusing operands that can never be a boolean."""
    if isinstance(operand, Literal) and not (
        operand.value is None or isinstance(operand.value, bool)
    ):
        raise ConditionSyntaxError(
            f"{format_literal(operand.value)} is not a condition (compare it with something)",
            text=text,
            position=position,
            path=path,
        )
    if isinstance(operand, Call) and operand.function not in BOOLEAN_HELPERS:
        raise ConditionSyntaxError(
            f"{operand.function}() does not return a boolean; compare its result",
            text=text,
            position=position,
            path=path,
        )
    return Truth(operand)


def compare(
    op: str, left: Operand, right: Operand, text: str | None, position: int | None, path: str = ""
) -> Compare:
    """A [`Compare`][csmkit.conditions.Compare] node, refusing membership tests that can never be
    true."""
    if op in ("in", "not in") and isinstance(right, Literal):
        value = right.value
        if not isinstance(value, (tuple, str)) and value is not None:
            raise ConditionSyntaxError(
                f"'{op}' needs a list or a string on its right, got {format_literal(value)}",
                text=text,
                position=position,
                path=path,
            )
    return Compare(op, left, right)


def check_node(node: Node) -> None:
    """Re-check a tree built by hand (not by the parsers) against the grammar's rules."""
    if isinstance(node, (And, Or)):
        if len(node.items) < 2:
            raise ConditionSyntaxError(f"{type(node).__name__} needs at least two items")
        for item in node.items:
            check_node(item)
    elif isinstance(node, Not):
        check_node(node.item)
    elif isinstance(node, Truth):
        truth(node.operand, None, None)
    elif isinstance(node, Compare):
        compare(node.op, node.left, node.right, None, None)


def parse_text(text: str) -> Node:
    """Parse condition text into a tree.

    Raises:
        ConditionSyntaxError: with the position of the first problem.
    """
    if not isinstance(text, str):
        raise ConditionSyntaxError(f"a condition must be text, got {type(text).__name__}")
    if len(text) > MAX_TEXT_LENGTH:
        raise ConditionSyntaxError(
            f"condition is {len(text)} characters long; the limit is {MAX_TEXT_LENGTH}",
            text=text[:200],
            position=0,
        )
    return _Parser(text).parse()


# ------------------------------------------------------------------ printing
def operand_text(operand: Operand) -> str:
    if isinstance(operand, Literal):
        return format_literal(operand.value)
    if isinstance(operand, Name):
        return operand.dotted
    return f"{operand.function}(" + ", ".join(operand_text(a) for a in operand.args) + ")"


def to_text(node: Node) -> str:
    """The canonical text of a tree; parsing it gives the same tree back."""
    if isinstance(node, Compare):
        return f"{operand_text(node.left)} {node.op} {operand_text(node.right)}"
    if isinstance(node, Truth):
        return operand_text(node.operand)
    if isinstance(node, Not):
        inner = to_text(node.item)
        if isinstance(node.item, (And, Or)):
            inner = f"({inner})"
        return f"not {inner}"
    if isinstance(node, And):
        return " and ".join(
            f"({to_text(item)})" if isinstance(item, Or) else to_text(item) for item in node.items
        )
    return " or ".join(to_text(item) for item in node.items)
