"""``csmkit desk check FILE``: every problem of a desk configuration, or its summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from csmkit.errors import AutomationError

__all__ = ["add_desk_parser", "run_desk_check"]


def run_desk_check(args: argparse.Namespace) -> int:
    """Validate a desk configuration: print every problem (exit 1) or a summary (0)."""
    spec = str(args.file)
    if not Path(spec).is_file():
        raise AutomationError(f"{spec}: no such file")
    from csmkit.desk import DeskConfig  # the desk and plugins: imported only to check one
    from csmkit.plugins import PluginManager

    plugins = PluginManager(load_entrypoints=not args.no_plugins)
    try:
        config = DeskConfig.from_file(spec, plugins=plugins)
    except AutomationError as exc:
        if not exc.problems:
            raise  # the file itself: unreadable or not TOML/JSON
        problems = exc.problems
        for problem in problems:
            sys.stdout.write(f"{spec}: {problem}\n")
        sys.stderr.write(
            f"csmkit desk: {spec}: {len(problems)} problem(s) in the desk configuration; "
            "fix them and check again\n"
        )
        return 1
    sys.stdout.write(f"{spec}: desk configuration is valid\n{config.summary()}\n")
    return 0


def add_desk_parser(commands: Any) -> None:
    """Add ``desk check`` to the ``csmkit`` subcommands."""
    parser = commands.add_parser("desk", help="check a desk configuration (TOML or JSON)")
    sub = parser.add_subparsers(
        dest="desk_command", metavar="SUBCOMMAND", parser_class=type(parser), required=True
    )
    check = sub.add_parser(
        "check", help="validate a desk configuration; list every problem with its location"
    )
    check.add_argument("file", metavar="FILE", help="the desk configuration (.toml or .json)")
    check.add_argument(
        "--no-plugins",
        action="store_true",
        help="do not load installed plugins (calendars, strategies, channels)",
    )
    check.set_defaults(handler=run_desk_check)
