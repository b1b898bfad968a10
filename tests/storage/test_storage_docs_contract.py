"""The StoreContract snippet of docs/storage.md runs, against the JournalStore defined there.

The how-to defines ``JournalStore`` in doctest form and then shows a plugin's test module
subclassing :class:`csmkit.testing.StoreContract`. This test builds exactly that: a
``csmkit_journal`` module from the doctest's class definition and the snippet as a test
file, and runs pytest on them in a subprocess.
"""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "storage.md"


def _journal_store_source(text: str) -> str:
    examples = doctest.DocTestParser().get_examples(text)
    sources = [e.source for e in examples if e.source.startswith("class JournalStore")]
    assert len(sources) == 1, "docs/storage.md no longer defines JournalStore once"
    return sources[0]


def _contract_snippet(text: str) -> str:
    match = re.search(r"```python\n(# tests/test_journal_store\.py\n.*?)```", text, re.S)
    assert match, "docs/storage.md no longer shows the StoreContract snippet"
    return match.group(1)


def test_the_documented_contract_subclass_passes(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    (tmp_path / "csmkit_journal.py").write_text(_journal_store_source(text), encoding="utf-8")
    (tmp_path / "test_journal_store.py").write_text(_contract_snippet(text), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_journal_store.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    counts = re.search(r"(\d+) passed", result.stdout)
    assert counts, result.stdout
    assert int(counts.group(1)) >= 10, result.stdout  # the whole contract ran
