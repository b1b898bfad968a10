"""``csmkit store copy SRC DST``: move a desk between stores, verified."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import Any

__all__ = ["add_store_parser", "run_store_copy"]


def run_store_copy(args: argparse.Namespace) -> int:
    """Copy every stream and customer from ``SRC`` to ``DST`` and verify the copy; the
    customer directory's records too when ``SRC`` keeps them next to its tickets."""
    # imported only to run the command (building the parser stays cheap)
    from csmkit.customers import customer_records_for
    from csmkit.plugins import PluginManager
    from csmkit.storage import copy_store

    plugins = PluginManager(load_entrypoints=not args.no_plugins)
    with ExitStack() as stack:
        source = stack.enter_context(plugins.open_store(args.source))
        target = stack.enter_context(plugins.open_store(args.destination))
        records = None
        source_records = customer_records_for(source)
        if source_records is not None:
            stack.callback(source_records.close)
            target_records = customer_records_for(target, create=True)
            assert target_records is not None  # create=True gives records or raises
            stack.callback(target_records.close)
            records = (source_records, target_records)
        report = copy_store(source, target, allow_non_empty=args.allow_non_empty, records=records)
        copied_records = (
            f" and {report.records} customer record(s) (assets, profiles, merges, audit; "
            f"checksum {report.records_checksum})"
            if report.records_checksum is not None
            else ""
        )
        sys.stdout.write(
            f"copied {report.tickets - report.skipped} ticket(s) "
            f"({report.skipped} already there), {report.events} event(s) and "
            f"{report.customers} customer(s) from {source!r} to {target!r}\n"
            f"verified: every stream's version and checksum match; "
            f"checksum {report.checksum}{copied_records}\n"
        )
    return 0


def add_store_parser(commands: Any) -> None:
    """Add ``store copy`` to the ``csmkit`` subcommands."""
    parser = commands.add_parser("store", help="work with ticket stores (copy a desk)")
    sub = parser.add_subparsers(
        dest="store_command", metavar="SUBCOMMAND", parser_class=type(parser), required=True
    )
    copy = sub.add_parser(
        "copy",
        help="copy every ticket stream and customer (and the customer records kept next to "
        "SRC's tickets: assets, profiles, merges, audit) from SRC to DST, then verify "
        "(counts and a checksum of every stream and of the records)",
    )
    copy.add_argument("source", metavar="SRC", help="source store URL, e.g. sqlite:///desk.db")
    copy.add_argument(
        "destination",
        metavar="DST",
        help="destination store URL (empty), e.g. postgresql://desk@db.example/desk",
    )
    copy.add_argument(
        "--allow-non-empty",
        action="store_true",
        help="copy into a store that holds data: identical streams are skipped, "
        "differing ones are an error",
    )
    copy.add_argument(
        "--no-plugins", action="store_true", help="do not load installed storage plugins"
    )
    copy.set_defaults(handler=run_store_copy)
