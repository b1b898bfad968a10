"""The ``csmkit demo`` subcommand's arguments, apart from the simulation.

Building the ``csmkit`` parser must not import the simulated desk (``csmkit.desk`` and
everything it uses): that import cost every command, ``csmkit report`` included.
"""

from __future__ import annotations

from datetime import date
from typing import Any

__all__ = ["DEFAULT_SEED", "DEFAULT_WEEKS", "MAX_WEEKS", "START", "add_demo_parser"]

START = date(2026, 9, 14)  # a Monday: the run covers 补班 20 Sep, 中秋 25 Sep, 国庆 1-7 Oct
MAX_WEEKS = 15  # the calendar data covers 2026
DEFAULT_WEEKS = 2
DEFAULT_SEED = 7


def add_demo_parser(subparsers: Any) -> None:
    """Add the ``demo`` subcommand and its options to an argparse ``subparsers``."""
    parser = subparsers.add_parser(
        "demo",
        help="simulate the article's repair desk before and after csmkit",
        description=(
            "Simulate a smart-home manufacturer's repair desk (China calendar with 调休, "
            "SLA 2 h first response / 24 h resolution) twice on a SQLite file: before "
            "(manual, random assignment) and after (csmkit routing, SLA warnings, "
            "escalation), and print the KPIs side by side. It is a simulation."
        ),
    )
    parser.add_argument(
        "--weeks",
        type=int,
        default=DEFAULT_WEEKS,
        help=f"weeks to simulate from {START.isoformat()}, 1-{MAX_WEEKS} (default {DEFAULT_WEEKS})",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 7)")
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="SQLite file of the 'after' desk (the 'before' desk goes next to it as "
        "PATH.before.db); default: a new temporary directory; existing files are refused",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--export",
        metavar="PATH",
        help="also write the 'after' desk's tickets as JSON Lines (Timeline.to_dict())",
    )
