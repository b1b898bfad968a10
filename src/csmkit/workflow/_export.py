"""Exports of a workflow: Mermaid, Graphviz DOT and a plain-text table."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from csmkit.workflow._validate import expand_sources

if TYPE_CHECKING:
    from csmkit.workflow._workflow import Workflow

__all__ = ["DOT_KEYWORDS", "MERMAID_RESERVED", "node_ids", "to_dot", "to_mermaid", "to_table"]

_SAFE_ID = re.compile(r"[^0-9A-Za-z_]")
_PLAIN_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_GENERATED_ID = re.compile(r"s[0-9]+_")

MERMAID_RESERVED: frozenset[str] = frozenset(
    {"end", "graph", "flowchart", "subgraph", "state", "statediagram", "note", "class"}
    | {"classdef", "direction", "click", "style", "linkstyle", "as", "left", "right", "of"}
    | {"over", "default", "hide", "fork", "join", "choice", "concurrent", "accdescr"}
    | {"acctitle", "call", "href", "callback", "interpolate", "tb", "bt", "lr", "rl", "td"}
)
"""Words a Mermaid state id must not be (compared case-insensitively)."""

DOT_KEYWORDS: frozenset[str] = frozenset({"node", "edge", "graph", "digraph", "subgraph", "strict"})
"""Words a DOT node id must not be (compared case-insensitively)."""


def node_ids(names: Sequence[str], reserved: frozenset[str]) -> dict[str, str]:
    """A unique, safe diagram id for each state name.

    A name that is already a plain identifier (ASCII letters, digits, ``_``, starting
    with a letter), not ``reserved`` and not shaped like a generated id is its own id;
    any other gets ``s<position>_<ASCII part>``. Generated ids are unique by position
    and never equal a plain one, so no two states share an id whatever their names.
    """
    out: dict[str, str] = {}
    for i, name in enumerate(names):
        plain = (
            _PLAIN_ID.fullmatch(name) is not None
            and name.lower() not in reserved
            and _GENERATED_ID.match(name) is None
        )
        out[name] = name if plain else f"s{i}_{_SAFE_ID.sub('', name)}"
    return out


_MERMAID_ESCAPES = {ord(c): f"#{ord(c)};" for c in '#":;<>{}[]|\\`'}


def _mermaid_text(text: str) -> str:
    """``text`` safe inside a Mermaid label: entity codes for syntax and control characters."""
    return "".join(
        _MERMAID_ESCAPES.get(ord(c), c) if c.isprintable() else f"#{ord(c)};" for c in text
    )


def _check_current(wf: Workflow, current: str | None) -> None:
    if current is not None:
        wf.state(current)  # raises WorkflowError naming the unknown state


def to_mermaid(wf: Workflow, *, current: str | None = None, lang: str | None = None) -> str:
    """A Mermaid ``stateDiagram-v2`` of ``wf`` (see
    [`Workflow.to_mermaid()`][csmkit.workflow.Workflow.to_mermaid])."""
    _check_current(wf, current)
    ids = node_ids([s.name for s in wf.states], MERMAID_RESERVED)
    lines = ["stateDiagram-v2"]
    for state in wf.states:
        text = state.label(lang) if lang else state.name
        lines.append(f'    state "{_mermaid_text(text)}" as {ids[state.name]}')
    lines.append(f"    [*] --> {ids[wf.initial.name]}")
    for transition in wf.transitions:
        text = _mermaid_text(transition.label(lang) if lang else transition.name)
        for source in expand_sources(transition, wf.states):
            lines.append(f"    {ids[source]} --> {ids[transition.target]}: {text}")
    for state in wf.states:
        if state.terminal:
            lines.append(f"    {ids[state.name]} --> [*]")
    if current is not None:
        lines.append("    classDef current fill:#ffd54f,stroke:#e65100,stroke-width:3px")
        lines.append(f"    class {ids[current]} current")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    """``text`` as a DOT string: quoted, or an HTML string when quoting cannot carry it.

    A quoted DOT string cannot end in a backslash and reads backslash escapes in
    labels, so text with a backslash or a control character becomes ``<…>`` with
    character references.
    """
    if all(c != "\\" and c.isprintable() for c in text):
        return '"' + text.replace('"', '\\"') + '"'
    return "<" + "".join(c if c.isalnum() or c in " _-.,:/" else f"&#{ord(c)};" for c in text) + ">"


def to_dot(wf: Workflow, *, current: str | None = None, lang: str | None = None) -> str:
    """A Graphviz DOT ``digraph`` of ``wf`` (see
    [`Workflow.to_dot()`][csmkit.workflow.Workflow.to_dot])."""
    _check_current(wf, current)
    ids = node_ids([s.name for s in wf.states], DOT_KEYWORDS)
    lines = [
        f"digraph {_dot_text(wf.name)} {{",
        "    rankdir=LR;",
        "    node [shape=box, style=rounded];",
    ]
    for state in wf.states:
        attrs = [f"label={_dot_text(state.label(lang) if lang else state.name)}"]
        if state.terminal:
            attrs.append("peripheries=2")
        if state.initial:
            attrs.append("penwidth=2")
        if state.name == current:
            attrs.append('style="rounded,filled"')
            attrs.append('fillcolor="#ffd54f"')
        lines.append(f"    {ids[state.name]} [{', '.join(attrs)}];")
    for transition in wf.transitions:
        text = _dot_text(transition.label(lang) if lang else transition.name)
        for source in expand_sources(transition, wf.states):
            lines.append(f"    {ids[source]} -> {ids[transition.target]} [label={text}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_table(wf: Workflow, *, lang: str = "en") -> str:
    """A plain-text table of ``wf``'s transitions (see
    [`Workflow.to_table()`][csmkit.workflow.Workflow.to_table])."""
    header = ("transition", "label", "from", "to", "roles", "required", "condition")
    rows = [header]
    for t in wf.transitions:
        rows.append(
            (
                t.name,
                t.label(lang),
                "*" if t.from_any else ", ".join(t.sources),
                t.target,
                ", ".join(sorted(t.roles)) or "-",
                ", ".join(t.required) or "-",
                str(t.condition) if t.condition is not None else "-",
            )
        )
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
