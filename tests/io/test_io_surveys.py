"""Loaders check survey answers against the report's definitions, in every form a
report takes them; where the loader cannot tell which definition applies, the report
decides (and still never averages two scales)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csmkit.errors import MetricsError
from csmkit.io import ExportError, load_export, report_export
from csmkit.metrics import Survey, report
from csmkit.timeline import Timeline

DEMO = Path(__file__).resolve().parents[2] / "examples" / "data" / "demo-export.jsonl"
AFTER = Survey("after-repair", "csat", scale=(0, 10), convention="mean")  # the demo's
OTHER = Survey("after-call", "csat", scale=(1, 5))
METRICS = ["tickets", "csat"]


def _timelines() -> list[Timeline]:
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    return [Timeline.from_dict(json.loads(line)) for line in lines]


@pytest.mark.parametrize(
    "surveys",
    [AFTER, [AFTER], (AFTER, OTHER), {"repair": AFTER}, {"*": [AFTER, OTHER]}],
    ids=["one", "list", "two-of-a-kind", "by-type", "by-type-two"],
)
def test_every_form_gives_the_report_of_the_timelines(surveys: object) -> None:
    got = report_export(DEMO, METRICS, surveys=surveys)
    assert got.table == report(_timelines(), METRICS, now=got.now, surveys=surveys)
    assert got.tickets == 321


def test_without_the_definition_the_loader_names_the_line() -> None:
    with pytest.raises(ExportError, match=r"demo-export\.jsonl:3: .* outside the scale 1–5"):
        load_export(DEMO)


def test_a_wrong_single_definition_is_a_bad_row_and_two_scales_are_never_mixed(
    tmp_path: Path,
) -> None:
    one_to_ten = Survey("after-repair", "csat", scale=(1, 10), convention="mean")
    # The demo's answers are stamped 0-10: a 1-10 definition is refused by the report
    # even where every answer happens to lie on 1-10.
    with pytest.raises((ExportError, MetricsError)):
        report_export(DEMO, METRICS, surveys=one_to_ten)


def test_surveys_must_be_definitions() -> None:
    with pytest.raises(ExportError, match="surveys must be Survey definitions"):
        load_export(DEMO, surveys="csat:0-10")
    with pytest.raises(ExportError, match=r"surveys\[1\]: expected a Survey"):
        load_export(DEMO, surveys=[AFTER, "csat"])
