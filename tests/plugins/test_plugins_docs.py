"""docs/plugins.md documents every hook with its full signature (and nothing else)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from csmkit.plugins import PluginManager

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
HEADING = re.compile(r"^### (csmkit_\w+)\((.*)\)\s*$", re.MULTILINE)


def _specs() -> dict[str, tuple[tuple[str, ...], bool]]:
    manager = PluginManager(load_entrypoints=False, builtins=False)
    out = {}
    for name in dir(manager.pluggy_manager.hook):
        if not name.startswith("csmkit_"):
            continue
        caller = getattr(manager.pluggy_manager.hook, name)
        spec = caller.spec
        assert spec is not None
        out[name] = (tuple(spec.argnames), bool(spec.opts.get("firstresult")))
    return out


SPECS = _specs()


def _documented() -> dict[str, tuple[tuple[str, ...], str]]:
    text = DOC.read_text(encoding="utf-8")
    headings = list(HEADING.finditer(text))
    out = {}
    for index, match in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        args = tuple(a.strip() for a in match.group(2).split(",") if a.strip())
        out[match.group(1)] = (args, text[match.end() : end])
    return out


def test_there_are_hooks() -> None:
    assert len(SPECS) >= 9


@pytest.mark.parametrize("hook", sorted(SPECS))
def test_hook_is_documented_with_its_signature(hook: str) -> None:
    documented = _documented()
    assert hook in documented, f"{hook} has no '### {hook}(...)' section in docs/plugins.md"
    args, body = documented[hook]
    assert args == SPECS[hook][0], f"{hook}: documented {args}, spec has {SPECS[hook][0]}"
    assert ">>>" in body, f"{hook}: the section has no runnable example"
    if SPECS[hook][1]:
        assert "firstresult" in body, f"{hook} is firstresult; say so in its section"


def test_no_documented_hook_is_missing_from_the_specs() -> None:
    assert set(_documented()) <= set(SPECS)
