"""One safe condition language for guards, routing rules, SLA selection and automation.

Text form::

    priority == "urgent" and ticket.fields.region in ["east", "north"] and not agent.away

Dict form (for UI rule builders)::

    {"all": [{"field": "priority", "op": "==", "value": "urgent"},
             {"field": "ticket.fields.region", "op": "in", "value": ["east", "north"]},
             {"not": {"field": "agent.away"}}]}

Both compile to the same tree. There is no ``eval``: the parser is our own and accepts
only literals, dotted names, comparisons, ``and``/``or``/``not``, parentheses and the
fixed helpers in [`HELPERS`][csmkit.conditions.HELPERS].
"""

from __future__ import annotations

from csmkit.conditions._compile import resolve
from csmkit.conditions._condition import Condition
from csmkit.conditions._dictform import MAX_NODES
from csmkit.conditions._text import MAX_DEPTH, MAX_TEXT_LENGTH
from csmkit.conditions._tree import (
    COMPARE_OPS,
    HELPERS,
    And,
    Call,
    Compare,
    Literal,
    Name,
    Not,
    Or,
    Truth,
)

__all__ = [
    "COMPARE_OPS",
    "HELPERS",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_TEXT_LENGTH",
    "And",
    "Call",
    "Compare",
    "Condition",
    "Literal",
    "Name",
    "Not",
    "Or",
    "Truth",
    "resolve",
]
