"""Every example of ``csmkit --help`` (and of any subcommand's help) runs on the install it names.

The help groups its examples under lines saying what they need: any install, a checkout
of csmkit (for ``examples/data/``), or an extra with its exact ``pip install`` line. Each
example is run as a user would run it; an example that needs an extra is also run without
it, and must then stop before doing anything, naming the ``pip install`` line.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import shlex
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from csmkit.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
EXTRA = re.compile(r'pip install "csmkit\[(\w+)\]"')
# the module whose absence means the extra is missing
EXTRA_MODULES = {"holidays": "holidays", "plot": "matplotlib"}


class Example(NamedTuple):
    prog: str
    needs: str  # the line the example is listed under
    command: str

    @property
    def extra(self) -> str | None:
        found = EXTRA.search(self.needs)
        return found.group(1) if found else None

    @property
    def checkout(self) -> bool:
        return "checkout" in self.needs or self.extra is not None


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict(action.choices).values():
                found.extend(_parsers(sub))
    return found


def examples() -> list[Example]:
    found: list[Example] = []
    for parser in _parsers(build_parser()):
        needs = ""
        for line in (parser.epilog or "").splitlines():
            if line.startswith("  csmkit "):
                found.append(Example(parser.prog, needs, line.strip()))
            elif line.strip():
                needs = line.strip()
    return found


class Outcome(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def _run(example: Example, cwd: Path, request: pytest.FixtureRequest) -> Outcome:
    """Run the example in this process (as ``csmkit`` would, in ``cwd``): fast and exact."""
    words = shlex.split(example.command)
    assert words[0] == "csmkit"
    if example.checkout:
        (cwd / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    capsys: pytest.CaptureFixture[str] = request.getfixturevalue("capsys")
    monkeypatch.chdir(cwd)
    status = main(words[1:])
    captured = capsys.readouterr()
    return Outcome(status, captured.out, captured.err)


def _params() -> list[object]:
    return [
        pytest.param(example, marks=[pytest.mark.slow] if " demo" in example.command else [])
        for example in examples()
    ]


def test_the_main_help_has_examples_for_every_kind_of_install() -> None:
    found = examples()
    assert len(found) >= 8
    assert any("any install" in example.needs for example in found)
    assert any(example.extra == "holidays" for example in found)
    assert any(example.extra == "plot" for example in found)


def test_every_example_names_the_install_it_runs_on() -> None:
    extras = importlib.metadata.metadata("csmkit").get_all("Provides-Extra") or []
    for example in examples():
        assert example.needs, example
        if example.extra is not None:
            assert example.extra in extras, example
            assert example.extra in EXTRA_MODULES, f"say which module {example.extra} brings"
        else:
            assert "any install" in example.needs or "checkout" in example.needs, example


@pytest.mark.parametrize("example", _params(), ids=lambda example: example.command[7:60])
def test_help_example_runs(
    example: Example, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if example.extra is not None:
        pytest.importorskip(EXTRA_MODULES[example.extra], reason=f"the {example.extra} extra")
    result = _run(example, tmp_path, request)
    assert result.returncode == 0, f"{example.command}\n{result.stderr}"
    assert result.stdout.strip(), example.command
    # success writes nothing on stderr but a note of a file written
    assert result.stderr == "" or result.stderr.startswith("csmkit: wrote"), result.stderr


@pytest.mark.parametrize(
    "example",
    [example for example in examples() if example.extra is not None],
    ids=lambda example: example.command[7:60],
)
def test_help_example_without_its_extra_stops_first_with_the_pip_line(
    example: Example,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    assert example.extra is not None
    module = EXTRA_MODULES[example.extra]
    # as if the extra were not installed: importing the module (or a submodule) fails
    for name in [name for name in sys.modules if name == module or name.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setitem(sys.modules, f"{module}.pyplot", None)
    work = tmp_path / "work"
    work.mkdir()
    result = _run(example, work, request)
    assert result.returncode == 1, result
    assert f'pip install "csmkit[{example.extra}]"' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""  # no table printed before the refusal
    assert sorted(path.name for path in work.iterdir()) == ["examples"]  # nothing written
