"""The progress bar: drawn on a terminal (or when forced), silent elsewhere."""

from __future__ import annotations

import io

import pytest

from csmkit._progress import Progress, in_notebook, progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_redrawn_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSMKIT_PROGRESS", raising=False)
    out = _Terminal()
    items = list(progress(range(5), label="tickets", stream=out))
    assert items == [0, 1, 2, 3, 4]
    text = out.getvalue()
    assert text.startswith("\rtickets [") and text.endswith("\n")
    last = text.rstrip("\n").split("\r")[-1]
    assert "[########################] 5/5 100%" in last


def test_silent_when_not_interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSMKIT_PROGRESS", raising=False)
    out = io.StringIO()  # a pipe or a log file
    assert sum(progress(range(1000), stream=out)) == sum(range(1000))
    assert out.getvalue() == ""
    assert not in_notebook()


@pytest.mark.parametrize(("setting", "drawn"), [("0", False), ("off", False), ("1", True)])
def test_environment_switch(monkeypatch: pytest.MonkeyPatch, setting: str, drawn: bool) -> None:
    monkeypatch.setenv("CSMKIT_PROGRESS", setting)
    out = _Terminal() if setting != "1" else io.StringIO()
    list(progress(iter(range(3)), label="rows", stream=out))
    assert bool(out.getvalue()) is drawn
    if drawn:  # an iterator has no length: a count without a bar
        assert out.getvalue().split("\r")[-1].startswith("rows 3 ")


def test_throttled_redraws() -> None:
    out = _Terminal()
    bar = Progress(100_000, "x", enabled=True, stream=out, interval=3600)
    for _ in range(100_000):
        bar.advance()
    bar.close()
    assert out.getvalue().count("\r") == 2  # the first redraw and the final line
