"""A dependency-free progress bar for long loads and reports.

On a terminal it redraws one line on standard error; in Jupyter it updates one output
(through IPython's ``display``, present wherever a kernel runs); anywhere else (a pipe,
a log file, CI) it stays silent. ``CSMKIT_PROGRESS=0`` turns it off, ``=1`` forces it
on a terminal-less stream. Redraws are throttled, so wrapping a million-item loop costs
a clock read per item.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO, TypeVar

__all__ = ["Progress", "in_notebook", "progress"]

T = TypeVar("T")
_WIDTH = 24


def in_notebook() -> bool:
    """Whether code runs in a Jupyter kernel (IPython with a kernel attached)."""
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    get = getattr(shell, "get_ipython", None)
    found = get() if callable(get) else None
    return found is not None and getattr(found, "kernel", None) is not None


def _wanted(stream: TextIO) -> bool:
    setting = os.environ.get("CSMKIT_PROGRESS", "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) or in_notebook()


class Progress:
    """A counter shown as ``label [#####.....] done/total  rate/s`` while it runs.

    Args:
        total: Expected count, or ``None`` when unknown (no bar, just the count).
        label: What is counted (``"tickets"``, ``"partitions"``).
        enabled: Force on or off; ``None`` decides from the stream (a terminal) or a
            Jupyter kernel, and the ``CSMKIT_PROGRESS`` environment variable.
        stream: Where a terminal bar is drawn (default: standard error).
        interval: Minimum seconds between redraws.
    """

    def __init__(
        self,
        total: int | None = None,
        label: str = "",
        *,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        interval: float = 0.2,
    ) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self.enabled = _wanted(self._stream) if enabled is None else enabled
        self._interval = interval
        self._start = time.monotonic()
        self._shown = 0.0
        self._handle: Any = None
        self._notebook = self.enabled and stream is None and in_notebook()

    def text(self) -> str:
        """The current line (without a line break)."""
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = f"{self.done / elapsed:,.0f}/s"
        if self.total:
            share = min(self.done / self.total, 1.0)
            filled = round(share * _WIDTH)
            bar = "#" * filled + "." * (_WIDTH - filled)
            return f"{self.label} [{bar}] {self.done:,}/{self.total:,} {100 * share:.0f}%  {rate}"
        return f"{self.label} {self.done:,}  {rate}".strip()

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more items; redraw if the interval has passed."""
        self.done += count
        if self.enabled:
            now = time.monotonic()
            if now - self._shown >= self._interval:
                self._shown = now
                self._draw(final=False)

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self._draw(final=True)

    def _draw(self, *, final: bool) -> None:
        line = self.text()
        if self._notebook:
            # IPython is present wherever a Jupyter kernel runs.
            display: Any = importlib.import_module("IPython.display").display

            if self._handle is None:
                self._handle = display({"text/plain": line}, raw=True, display_id=True)
            else:
                self._handle.update({"text/plain": line}, raw=True)
            return
        self._stream.write("\r" + line + ("\n" if final else ""))
        self._stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(
    items: Iterable[T],
    *,
    total: int | None = None,
    label: str = "",
    enabled: bool | None = None,
    stream: TextIO | None = None,
) -> Iterator[T]:
    """Yield ``items`` while showing a progress bar (on a terminal or in Jupyter).

    ``total`` defaults to ``len(items)`` when the items have a length.
    """
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with Progress(total, label, enabled=enabled, stream=stream) as bar:
        for item in items:
            yield item
            bar.advance()
