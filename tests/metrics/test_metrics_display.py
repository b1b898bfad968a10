"""Notebook display: readable reprs, HTML tables and results, Table.plot."""

from __future__ import annotations

import html.parser
from datetime import timedelta

import matplotlib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import MetricsError
from csmkit.metrics import Rate, Table, ces, csat, nps

matplotlib.use("Agg")
from matplotlib import pyplot as plt


class _Cells(html.parser.HTMLParser):
    """Collects the text of every th/td, to read an HTML table back."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("td", "th"):
            self._open = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._open = False

    def handle_data(self, data: str) -> None:
        if self._open:
            self.cells[-1] += data


def _cells(text: str) -> list[str]:
    parser = _Cells()
    parser.feed(text)
    return parser.cells


def test_results_show_score_interval_and_n() -> None:
    result = nps([10, 9, 3, 8])
    low, high = result.interval()
    assert repr(result) == (
        f"<NpsResult NPS 25.0 [{low:.1f}, {high:.1f}] n=4 promoters=2 passives=1 detractors=1>"
    )
    assert repr(csat([5, 4, 3])).startswith("<RatingResult CSAT (top_box) 66.7% [20.8, 93.9] n=3")
    assert repr(ces([7, 6])).startswith("<RatingResult CES (mean) 6.5 [")
    assert repr(Rate(0, 0, name="fcr")) == "<Rate fcr - n=0 successes=0 trials=0>"
    card = csat([5, 4, 3])._repr_html_()
    assert "66.7%" in card and "[20.8, 93.9]" in card and "n=3" in card


@given(st.integers(0, 50), st.integers(0, 50), st.sampled_from(["fcr", "<b>x&y</b>"]))
def test_rate_display_is_the_rates_own_numbers(successes: int, extra: int, name: str) -> None:
    rate = Rate(successes, successes + extra, name=name)
    text = repr(rate)
    assert f"n={rate.n}" in text
    if rate.n:
        low, high = rate.interval()
        assert f"{rate.score:.1f}% [{low:.1f}, {high:.1f}]" in text
    card = rate._repr_html_()
    if name.startswith("<"):  # names are escaped, never markup
        assert "&lt;b&gt;x&amp;y&lt;/b&gt;" in card and "<b>x" not in card


TABLE = Table(
    ("channel", "csat", "csat_n", "csat_low", "csat_high", "frt_median"),
    (
        {
            "channel": "电话 <phone>",
            "csat": 80.0,
            "csat_n": 10,
            "csat_low": 49.0,
            "csat_high": 94.3,
            "frt_median": timedelta(hours=1, minutes=30),
        },
        {
            "channel": "email",
            "csat": None,
            "csat_n": 0,
            "csat_low": None,
            "csat_high": None,
            "frt_median": None,
        },
    ),
)


def test_table_html_reads_score_and_interval_in_one_cell() -> None:
    cells = _cells(TABLE._repr_html_())
    assert cells[:4] == ["channel", "csat", "csat_n", "frt_median"]
    assert cells[4:8] == ["电话 <phone>", "80.0 [49.0, 94.3]", "10", "1:30:00"]
    assert cells[8:] == ["email", "-", "0", "-"]


def test_table_repr_is_the_aligned_text_with_a_size_line() -> None:
    assert repr(TABLE) == "<Table: 2 rows x 6 columns>\n" + str(TABLE)
    long = Table(("n",), tuple({"n": i} for i in range(200)))
    text = repr(long)
    assert "... 140 more rows ..." in text and text.splitlines()[-1].strip() == "199"
    assert len(_cells(long._repr_html_())) == 1 + 60 + 1


def test_plot_trend_draws_the_band_and_rank_orders_by_lower_bound() -> None:
    table = Table(
        ("group", "week", "csat", "csat_n", "csat_low", "csat_high"),
        (
            {"group": "a", "week": "2026-09-07", "csat": 90.0, "csat_n": 5,
             "csat_low": 50.0, "csat_high": 98.0},
            {"group": "a", "week": "2026-09-14", "csat": 80.0, "csat_n": 50,
             "csat_low": 70.0, "csat_high": 88.0},
            {"group": "b", "week": "2026-09-07", "csat": 85.0, "csat_n": 100,
             "csat_low": 77.0, "csat_high": 90.0},
        ),
    )  # fmt: skip
    ax = table.plot(by="group")
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert len(ax.collections) == 2  # one interval band per line
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-09-07", "2026-09-14"]
    plt.close(ax.figure)
    ax = table.plot("rank", "csat", x="week")
    # Top bar = best lower bound (77.0, the big sample), not the best score (90.0).
    labels = [t.get_text() for t in ax.get_yticklabels()]
    positions = list(ax.get_yticks())
    top = labels[positions.index(max(positions))]
    assert top == "2026-09-07" and next(p.get_width() for p in ax.patches) == 85.0
    plt.close(ax.figure)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "pie"}, "kind must be one of trend, rank, bar"),
        ({"metric": "csa"}, r"no column 'csa' \(did you mean 'csat'\?\)"),
        ({"kind": "trend"}, "needs a day, week or month column"),
        ({"kind": "rank", "metric": "frt_median"}, "ranking needs an interval"),
    ],
)
def test_plot_errors(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(MetricsError, match=message):
        TABLE.plot(**kwargs)
