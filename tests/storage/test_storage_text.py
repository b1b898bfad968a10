"""Text UTF-8 cannot hold: the memory store refuses exactly what SQLite refuses."""

from __future__ import annotations

import json
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.errors import StorageError
from csmkit.storage import MemoryStore, SqliteStore
from csmkit.testing import created

# Text with an occasional lone surrogate (category Cs), which st.text() never draws.
SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)
TEXT = st.lists(st.characters(categories=["L", "N", "P", "Zs"]) | SURROGATE, max_size=4).map(
    "".join
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def _refusal(call: Any) -> str | None:
    try:
        call()
    except StorageError as exc:
        return str(exc)
    return None


@settings(max_examples=150, deadline=None)
@given(
    fields=st.dictionaries(TEXT.filter(bool), JSON, max_size=3),
    meta=st.dictionaries(TEXT, JSON, max_size=2),
    subject=TEXT,
)
def test_memory_and_sqlite_refuse_the_same_text(
    fields: dict[str, Any], meta: dict[str, Any], subject: str
) -> None:
    event = attrs.evolve(created("T-1"), fields=fields, meta=meta, subject=subject)
    text = json.dumps(event.to_dict(), ensure_ascii=False)
    try:
        text.encode("utf-8")
        encodable = True
    except UnicodeEncodeError:
        encodable = False
    memory, sqlite = MemoryStore(), SqliteStore(":memory:")
    with memory, sqlite:
        refusals = [_refusal(lambda s=s: s.append("T-1", [event], 0)) for s in (memory, sqlite)]
        assert refusals[0] == refusals[1]
        assert (refusals[0] is None) == encodable
        if encodable:
            assert list(memory.load("T-1")) == list(sqlite.load("T-1")) == [event]
        else:
            assert refusals[0] is not None
            assert "events[0]." in refusals[0]
            assert memory.version("T-1") == sqlite.version("T-1") == 0
