"""The workflow diagrams in docs/workflow.md are the templates' own Mermaid output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from csmkit.workflow import TEMPLATE_NAMES, template

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflow.md"


def _mermaid_blocks(text: str) -> list[str]:
    return re.findall(r"^```mermaid\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def _template_section(text: str, name: str) -> str:
    match = re.search(rf"^### `{re.escape(name)}` .*?(?=^#{{1,3}} |\Z)", text, re.M | re.S)
    assert match is not None, f"docs/workflow.md has no '### `{name}`' section"
    return match.group(0)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_diagram_is_rendered_verbatim_in_its_section(name: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    blocks = _mermaid_blocks(_template_section(text, name))
    assert blocks == [template(name).to_mermaid(lang="zh")], (
        f"the Mermaid diagram of {name!r} in docs/workflow.md differs from "
        f'template({name!r}).to_mermaid(lang="zh"); paste the current output'
    )


def test_every_mermaid_block_in_the_page_is_a_template_diagram() -> None:
    expected = {template(name).to_mermaid(lang="zh") for name in TEMPLATE_NAMES}
    blocks = _mermaid_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) == len(TEMPLATE_NAMES)
    assert set(blocks) == expected
