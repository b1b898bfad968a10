"""Every example script runs and prints what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("repair_desk.py", ["assigned to wang", "escalated at Fri 10:30", "SMS to C-1"]),
        ("repair_desk_from_config.py", [": new, assigned to e04"]),
        ("kpis_from_export.py", ["321 tickets", "FCR:", "CSAT:", "fields.region"]),
        ("custom_routing_strategy.py", ["closest", "-> zhao by rule field-repair", "-> li"]),
    ],
)
def test_example_runs(script: str, expected: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for text in expected:
        assert text in done.stdout
