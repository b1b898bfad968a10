"""Evaluation speed of the condition language, against the libraries a user would pick.

Run:  python benchmarks/bench_conditions.py [--quick]

Compares, in one process, evaluations per second of the same 3-clause condition::

    priority == "urgent" and region in ["east", "north"] and not away

* csmkit ``Condition.evaluate`` (parsed once, compiled to closures);
* ``simpleeval`` (``EvalWithCompoundTypes`` with a pre-parsed AST, its fastest path);
* ``rule-engine`` (``Rule.matches`` on a pre-built rule);
* a hand-written Python ``lambda`` — not a peer, the floor no interpreter can beat.

Peers come from the ``bench`` extra (``pip install -e ".[bench]"``); a missing peer is
skipped. Every evaluator must agree on every context before anything is timed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from csmkit.conditions import Condition

TEXT = 'priority == "urgent" and region in ["east", "north"] and not away'


def _contexts(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "priority": rng.choice(["low", "normal", "high", "urgent"]),
            "region": rng.choice(["east", "north", "south", "west"]),
            "away": rng.random() < 0.2,
        }
        for _ in range(count)
    ]


def _csmkit() -> Callable[[dict[str, Any]], bool]:
    return Condition.parse(TEXT).evaluate


def _lambda() -> Callable[[dict[str, Any]], bool]:
    return lambda c: (
        c["priority"] == "urgent" and c["region"] in ["east", "north"] and not c["away"]
    )


def _simpleeval() -> Callable[[dict[str, Any]], bool] | None:
    try:
        import simpleeval
    except ImportError:
        return None
    evaluator = simpleeval.EvalWithCompoundTypes()
    tree = evaluator.parse(TEXT)

    def run(context: dict[str, Any]) -> bool:
        evaluator.names = context
        return bool(evaluator.eval(TEXT, previously_parsed=tree))

    return run


def _rule_engine() -> Callable[[dict[str, Any]], bool] | None:
    try:
        import rule_engine
    except ImportError:
        return None
    rule = rule_engine.Rule('priority == "urgent" and region in ["east", "north"] and not away')
    return rule.matches


def _rate(function: Callable[[dict[str, Any]], bool], contexts: list[dict[str, Any]]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for context in contexts:
            function(context)
        best = min(best, time.perf_counter() - start)
    return len(contexts) / best


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print evaluations per second and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 contexts instead of 200,000")
    args = parser.parse_args(argv)
    contexts = _contexts(20_000 if args.quick else 200_000)

    candidates: dict[str, Callable[[dict[str, Any]], bool] | None] = {
        "csmkit": _csmkit(),
        "simpleeval": _simpleeval(),
        "rule-engine": _rule_engine(),
        "python lambda (floor)": _lambda(),
    }
    available = {name: f for name, f in candidates.items() if f is not None}
    for name in candidates:
        if candidates[name] is None:
            print(f"{name}: not installed, skipped (pip install -e '.[bench]')")

    reference = available["python lambda (floor)"]
    for name, function in available.items():
        for context in contexts[:5_000]:
            if function(context) != reference(context):
                print(f"DISAGREEMENT: {name} on {context}", file=sys.stderr)
                return 1

    print(f"condition: {TEXT}")
    print(f"{len(contexts):,} contexts, best of 3 runs, Python {sys.version.split()[0]}")
    rates = {name: _rate(function, contexts) for name, function in available.items()}
    ours = rates["csmkit"]
    print(f"{'evaluator':<24}{'evals/s':>14}{'csmkit is':>14}")
    for name, rate in rates.items():
        ratio = ours / rate
        print(f"{name:<24}{rate:>14,.0f}{ratio:>13.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
