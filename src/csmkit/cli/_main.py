"""Entry point of the ``csmkit`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from csmkit._version import __version__

__all__ = ["build_parser", "main"]

_DESCRIPTION = """\
csmkit: customer-service-management primitives for Python (ticket timelines, safe
conditions, workflows, business-calendar SLA clocks, routing and service KPIs).
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``csmkit`` command."""
    parser = argparse.ArgumentParser(prog="csmkit", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"csmkit {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``csmkit`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns:
        The process exit status.
    """
    parser = build_parser()
    parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    parser.print_help()
    return 0
