"""Every ``$ csmkit ...`` example of docs/cli.md runs and prints what the page shows."""

from __future__ import annotations

import doctest
import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "cli.md"


def examples() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S):
        command: str | None = None
        output: list[str] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    found.append((command, "\n".join(output) + "\n"))
                command, output = line[2:], []
            else:
                output.append(line)
        if command is not None:
            found.append((command, "\n".join(output) + "\n"))
    return found


def test_the_page_has_examples() -> None:
    assert len(examples()) >= 8


@pytest.mark.parametrize(("command", "expected"), examples(), ids=lambda value: value[:60])
def test_console_example(command: str, expected: str) -> None:
    words = shlex.split(command)
    assert words[0] == "csmkit"
    if "cn" in words and importlib.util.find_spec("holidays") is None:
        pytest.skip("needs the holidays extra")
    result = subprocess.run(
        [sys.executable, "-m", "csmkit", *words[1:]],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    got = result.stdout + result.stderr
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    assert checker.check_output(expected, got, flags), f"{command}\n--- got ---\n{got}"
    # Success writes nothing on stderr but a note ("wrote kpis.png", skipped rows).
    notes = ("wrote", "bad rows skipped")
    assert (result.returncode == 0) == (
        result.stderr == "" or any(note in result.stderr for note in notes)
    )
