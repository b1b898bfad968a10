"""Exports of a workflow: Mermaid, Graphviz DOT and a plain-text table."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from csmkit.workflow._validate import expand_sources

if TYPE_CHECKING:
    from csmkit.workflow._workflow import Workflow

__all__ = ["to_dot", "to_mermaid", "to_table"]

_SAFE_ID = re.compile(r"[^0-9A-Za-z_]")


def _mermaid_id(name: str) -> str:
    safe = _SAFE_ID.sub("_", name)
    return safe if safe == name else f"{safe}_{abs(hash(name)) % 10_000}"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace(":", "#58;")


def _check_current(wf: Workflow, current: str | None) -> None:
    if current is not None:
        wf.state(current)  # raises WorkflowError naming the unknown state


def _ids(wf: Workflow) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, state in enumerate(wf.states):
        sid = _SAFE_ID.sub("_", state.name)
        out[state.name] = sid if sid == state.name and sid not in out.values() else f"s{i}_{sid}"
    return out


def to_mermaid(wf: Workflow, *, current: str | None = None, lang: str | None = None) -> str:
    """A Mermaid ``stateDiagram-v2`` of ``wf`` (see
    [`Workflow.to_mermaid()`][csmkit.workflow.Workflow.to_mermaid])."""
    _check_current(wf, current)
    ids = _ids(wf)
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
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(wf: Workflow, *, current: str | None = None, lang: str | None = None) -> str:
    """A Graphviz DOT ``digraph`` of ``wf`` (see
    [`Workflow.to_dot()`][csmkit.workflow.Workflow.to_dot])."""
    _check_current(wf, current)
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
        lines.append(f"    {_dot_text(state.name)} [{', '.join(attrs)}];")
    for transition in wf.transitions:
        text = _dot_text(transition.label(lang) if lang else transition.name)
        for source in expand_sources(transition, wf.states):
            lines.append(
                f"    {_dot_text(source)} -> {_dot_text(transition.target)} [label={text}];"
            )
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
