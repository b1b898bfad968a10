"""csmkit's instant codec against dateutil's ``isoparse`` on the texts csmkit stores.

Every event a store reads back carries an instant written by ``format_instant``
(``datetime.isoformat``); reading them is on the decode path of every ``load`` and every
listing. This compares, in one process, parsing the same texts with:

* ``csmkit._time.parse_instant`` (``datetime.fromisoformat``, offset required);
* ``dateutil.parser.isoparse``, which csmkit used before;

for texts with and without microseconds, and for ``Z`` texts that Python 3.10's
``fromisoformat`` cannot read directly (csmkit rewrites them; 3.11+ reads them as is).
Run::

    python benchmarks/bench_instants.py            # 200,000 texts per form
    python benchmarks/bench_instants.py --quick    # 20,000
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from dateutil.parser import isoparse

from csmkit._time import format_instant, parse_instant

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 10, 8, 9, 0, tzinfo=CST)


def texts(count: int, form: str) -> list[str]:
    """``count`` distinct instant texts of one ``form``."""
    out = []
    for n in range(count):
        at = T0 + timedelta(seconds=n * 7, microseconds=(n * 7919) % 1_000_000)
        if form == "seconds":
            out.append(format_instant(at.replace(microsecond=0)))
        elif form == "micro":
            out.append(format_instant(at))
        else:  # "Z"
            out.append(at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"))
    return out


def best(function: Callable[[str], datetime], items: list[str], repeat: int) -> float:
    """Best of ``repeat`` runs: seconds to parse all of ``items``."""

    def run() -> None:
        for text in items:
            function(text)

    return min(timeit.repeat(run, number=1, repeat=repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20,000 texts per form")
    args = parser.parse_args()
    count = 20_000 if args.quick else args.count
    print(f"Python {sys.version.split()[0]}, {count:,} texts per form, best of {args.repeat}\n")
    print(f"{'form':<30} {'csmkit /s':>12} {'isoparse /s':>12} {'csmkit / isoparse':>18}")
    for form, label in (
        ("seconds", "+08:00, whole seconds"),
        ("micro", "+08:00, microseconds"),
        ("Z", "Z, microseconds"),
    ):
        items = texts(count, form)
        assert all(parse_instant(t) == isoparse(t) for t in items[:1000])
        ours = best(parse_instant, items, args.repeat)
        theirs = best(isoparse, items, args.repeat)
        rates = f"{count / ours:>12,.0f} {count / theirs:>12,.0f}"
        print(f"{label:<30} {rates} {theirs / ours:>17.1f}x")


if __name__ == "__main__":
    main()
