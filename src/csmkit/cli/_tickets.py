"""``csmkit tickets STORE``: list a desk's tickets, the ones falling due, or counts, from the
store's index (no timeline is loaded or evaluated)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from csmkit._duration import parse_duration
from csmkit._time import format_instant, parse_instant
from csmkit.errors import StoreArgumentError
from csmkit.storage import COUNT_BY, TicketPage, TicketSummary, open_store

__all__ = ["add_tickets_parser", "run_tickets"]

_CATEGORIES = ("new", "open", "pending", "on_hold", "solved", "closed")
_UNSOLVED = ("new", "open", "pending", "on_hold")


def _store_url(spec: str) -> str:
    """A store URL, or a path to a SQLite file (which must exist: listing creates none)."""
    if "://" in spec:
        return spec
    if not Path(spec).is_file():
        raise StoreArgumentError(f"{spec}: no such file (give a store URL or a SQLite file)")
    return "sqlite:///" + str(Path(spec))


def _when(text: str, now: datetime) -> datetime:
    """``now``, ``now+2h`` / ``+2h`` / ``-30m`` (from now), or an ISO 8601 instant."""
    value = text.strip()
    if value == "now":
        return now
    offset = value[3:] if value.startswith("now") else value
    if offset[:1] in ("+", "-"):
        sign = -1 if offset[0] == "-" else 1
        return now + sign * parse_duration(offset[1:], "--due-before")
    try:
        return parse_instant(value)
    except ValueError:
        raise StoreArgumentError(
            f"--due-before {text!r}: expected 'now', a duration from now ('+2h', '-30m') or "
            "an ISO 8601 instant with its offset (2026-10-08T18:00+08:00)"
        ) from None


def _row(item: TicketSummary) -> list[str]:
    due = "" if item.due is None else f"{format_instant(item.due.at)} {item.due.target}"
    return [
        item.ticket_id,
        item.type,
        item.status,
        item.category.value,
        item.priority.value,
        item.assignee or "-",
        item.group or "-",
        format_instant(item.updated_at),
        due or "-",
    ]


_HEADER = ["ticket", "type", "status", "category", "priority", "assignee", "group", "updated"]


def _print_table(items: list[TicketSummary], more: bool) -> None:
    rows = [[*_HEADER, "due"]] + [_row(item) for item in items]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        sys.stdout.write("  ".join([*cells, row[-1]]).rstrip() + "\n")
    note = " (more: raise --limit or use --all)" if more else ""
    sys.stdout.write(f"{len(items)} ticket(s){note}\n")


def _pages(args: argparse.Namespace, fetch: Any) -> tuple[list[TicketSummary], bool]:
    items: list[TicketSummary] = []
    cursor = None
    while True:
        page: TicketPage = fetch(limit=args.limit, cursor=cursor)
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None or not args.all:
            return items, cursor is not None


def run_tickets(args: argparse.Namespace) -> int:
    """List tickets (or count them) from a store's index."""
    if args.limit < 1:
        raise StoreArgumentError(f"--limit must be at least 1, got {args.limit}")
    categories = args.category or (None if args.count_by or args.due_before else _UNSOLVED)
    filters: dict[str, Any] = {
        "category": categories,
        "assignee": args.assignee,
        "group": args.group,
        "type": args.type,
    }
    with open_store(_store_url(args.store)) as store:
        if args.count_by:
            counts = store.count_tickets(args.count_by, **filters)
            if args.json:
                sys.stdout.write(json.dumps(list(counts.items()), ensure_ascii=False) + "\n")
            else:
                for value, count in counts.items():
                    sys.stdout.write(f"{'-' if value is None else value}\t{count}\n")
            return 0
        if args.due_before:
            before = _when(args.due_before, datetime.now(timezone.utc))
            items, more = _pages(args, lambda **page: store.due_before(before, **filters, **page))
        else:
            items, more = _pages(args, lambda **page: store.find_tickets(**filters, **page))
    if args.json:
        for item in items:
            sys.stdout.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
    else:
        _print_table(items, more)
    return 0


def add_tickets_parser(commands: Any) -> None:
    """Add ``tickets`` to the ``csmkit`` subcommands."""
    parser = commands.add_parser(
        "tickets",
        help="list a desk's tickets, the ones falling due, or counts, from its store",
        description=(
            "List tickets from a store's index without loading any timeline: unsolved "
            "ones by default, least recently updated first; --due-before lists the "
            "ones whose SLA falls due before an instant, earliest first (overdue ones "
            "included); --count-by counts them by one attribute."
        ),
    )
    parser.add_argument("store", metavar="STORE", help="a store URL or a SQLite file")
    parser.add_argument(
        "--category",
        action="append",
        choices=_CATEGORIES,
        help="status category (repeatable; default: the unsolved ones, all with "
        "--due-before and --count-by)",
    )
    parser.add_argument("--assignee", help="only this agent's tickets")
    parser.add_argument("--group", help="only this group's tickets")
    parser.add_argument("--type", help="only tickets of this type")
    parser.add_argument(
        "--due-before",
        metavar="WHEN",
        help="tickets whose SLA falls due before WHEN: 'now', a duration from now ('+2h'; "
        "write --due-before=-30m for the past) or an ISO 8601 instant with its offset",
    )
    parser.add_argument("--count-by", choices=COUNT_BY, help="count tickets by this attribute")
    parser.add_argument("--limit", type=int, default=50, help="tickets per page (default 50)")
    parser.add_argument("--all", action="store_true", help="every page, not just the first")
    parser.add_argument("--json", action="store_true", help="JSON lines (counts: one JSON list)")
    parser.set_defaults(handler=run_tickets)
