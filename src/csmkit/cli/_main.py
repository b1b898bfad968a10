"""Entry point of the ``csmkit`` command: parser, dispatch and error handling."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import timezone
from pathlib import Path
from typing import Any, Literal, NoReturn

from csmkit._version import __version__
from csmkit.errors import CsmkitError

__all__ = ["UsageError", "build_parser", "main"]

_DESCRIPTION = """\
csmkit: customer-service-management primitives for Python (ticket timelines, safe
conditions, workflows, business-calendar SLA clocks, routing and service KPIs).
"""

_EPILOG = """\
examples on any install (pip install csmkit), in any directory:
  csmkit demo
  csmkit workflow show repair --format mermaid --lang zh
  csmkit plugins
examples from a checkout of csmkit (examples/data/ holds sample exports and calendars):
  csmkit report examples/data/tickets.jsonl --by channel
  csmkit report examples/data/tickets.jsonl --calendar examples/data/calendar_cn_2026.json
  csmkit calendar add --calendar examples/data/calendar_cn_2026.json 2026-10-08T10:00 -2h
  csmkit desk check examples/repair_desk.toml
  csmkit kb search "空调 不制冷" --dir examples/knowledge
with the holidays extra (pip install "csmkit[holidays]"), for the cn calendar preset:
  csmkit calendar explain --calendar cn 2026-09-30 2026-10-11
  csmkit report examples/data/tickets.jsonl --calendar cn --by channel
with the plot extra (pip install "csmkit[plot]"):
  csmkit report examples/data/tickets.jsonl --plot kpis.png
Data errors exit with 1, usage errors with 2; --debug shows tracebacks.
"""


_PARTIAL_HELP = (
    "let the preset cover years its holiday data does not fully know (rule-based "
    "holidays only, no make-up workdays; see docs/sla.md)"
)


class UsageError(Exception):
    """The command line itself is wrong (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors that say what to do."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _instants_years(timelines: Sequence[Any]) -> set[int]:
    years: set[int] = set()
    for timeline in timelines:
        for event in timeline.events:
            years.add(event.at.astimezone(timezone.utc).year)
    return years


def _run_report(args: argparse.Namespace) -> int:
    from csmkit.cli._scale import run_scaled_report, wants_dask

    if wants_dask(args):  # --workers / --scheduler: the same report on Dask
        return run_scaled_report(args)
    from csmkit.cli._calendars import check_calendar_extra, load_calendar
    from csmkit.cli._report import (
        ReportOptions,
        build_report,
        check_plot_extra,
        format_csv,
        format_json,
        format_table,
        metric_definitions,
        plot_report,
        report_metrics,
        report_policy,
        report_skipped,
        report_surveys,
        skipped_note,
        stream_report,
        zone,
    )
    from csmkit.io import (
        ExportError,
        latest_instant,
        load_export,
        load_mapping,
        read_instant,
    )

    # Everything the command line alone can refuse is refused before the export is read.
    size = _plot_size(args.plot_size)
    surveys = report_surveys(args.survey)
    delimiter = _delimiter(args.delimiter, args.file)
    if args.calendar:
        check_calendar_extra(args.calendar)
    if args.plot:
        check_plot_extra()
    path = Path(args.file)
    if not path.is_file():
        raise ExportError(f"{path}: no such file")
    mapping = load_mapping(args.mapping) if args.mapping else None
    read_zone = zone(args.tz) if args.tz else timezone.utc
    on_error: Literal["raise", "skip"] = "skip" if args.skip_bad_rows else "raise"
    if not args.plot and not args.calendar:
        # One streaming pass: tickets are folded into the report as they are read.
        streamed = stream_report(args, path, mapping, read_zone, on_error, delimiter, surveys)
        table, options, ticket_count, skipped_rows = streamed
        calendar = None
        tz_name = args.tz or "UTC"
        now = options.now
        policy = options.sla
        metrics = options.metrics
        by = options.by
        timelines: list[Any] = []
    else:
        export = load_export(
            path,
            mapping=mapping,
            zone=read_zone,
            on_error=on_error,
            delimiter=delimiter,
            surveys=surveys,
        )
        timelines = list(export.timelines)
        skipped_rows = export.skipped
        report_skipped(path, skipped_rows)
        if not timelines:
            raise ExportError(f"{path}: no tickets in the export{skipped_note(skipped_rows)}")
        ticket_count = len(timelines)
        calendar = None
        if args.calendar:
            years = _instants_years(timelines)
            calendar = load_calendar(
                args.calendar, years, allow_partial=args.partial_calendar
            ).calendar
        tz_name = args.tz or (calendar.timezone if calendar is not None else "UTC")
        if args.now:
            now = read_instant(args.now, zone(tz_name), "--now")
        else:
            found = latest_instant(timelines)
            assert found is not None
            now = found
        policy = report_policy(args, calendar)
        metrics = report_metrics(args, policy)
        by = [b.strip() for b in args.by.split(",") if b.strip()] if args.by else []
        export.check_groups(by, path)
        options = ReportOptions(
            metrics=metrics,
            by=by,
            period=args.period,
            tz=zone(tz_name),
            clock=calendar,
            now=now,
            sla=policy,
            surveys=surveys,
        )
        table = build_report(timelines, options)
    skipped = skipped_note(skipped_rows)
    clock = f"business time (calendar {args.calendar})" if calendar is not None else "calendar time"
    definitions = metric_definitions(metrics, clock, surveys)
    meta = {
        "file": str(path),
        "tickets": ticket_count,
        "skipped_rows": [row.to_dict() for row in skipped_rows],
        "now": now.isoformat(),
        "timezone": tz_name,
        "calendar": args.calendar,
        "business_time": calendar is not None,
        "sla": args.sla,
        "metrics": metrics,
        "by": by,
        "period": args.period,
        "durations": "seconds",
        "definitions": definitions,
    }
    if args.format == "json":
        text = format_json(table, meta)
    elif args.format == "csv":
        text = format_csv(table)
    else:
        keys = [*by, *([args.period] if args.period else [])]
        text = (
            f"{ticket_count} tickets from {path}{skipped}; as of {now.isoformat()}; "
            f"{'business' if calendar is not None else 'calendar'} time; "
            "rates in % [95 % interval], durations median (p90)\n"
            + "".join(f"  {name}: {text}\n" for name, text in definitions.items())
            + format_table(table, [_column_name(m) for m in metrics], keys)
        )
    if args.output:
        try:
            Path(args.output).write_text(text if text.endswith("\n") else text + "\n", "utf-8")
        except OSError as exc:
            raise ExportError(f"--output {args.output}: cannot write: {exc}") from None
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if args.plot:
        plot_report(Path(args.plot), timelines, options, size=size)
        sys.stderr.write(f"csmkit: wrote {args.plot} ({size[0]}x{size[1]} px)\n")
    return 0


def _delimiter(text: str | None, file: str) -> str | None:
    if text is None:
        return None
    if not file.lower().endswith(".csv"):
        raise UsageError(f"--delimiter applies to .csv exports, not {file}")
    value = "\t" if text.lower() in ("tab", "\\t") else text
    if len(value) != 1 or value in '"\r\n':
        raise UsageError(f"--delimiter {text!r}: give one character (, ; |) or 'tab'")
    return value


def _column_name(metric: str) -> str:
    return metric


def _plot_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise UsageError(
            f"--plot-size {text!r}: write WIDTHxHEIGHT in pixels, e.g. 1200x400"
        ) from None
    if not (200 <= width <= 10000 and 200 <= height <= 10000):
        raise UsageError(f"--plot-size {text!r}: each side must be 200..10000 pixels")
    return width, height


def _run_workflow_show(args: argparse.Namespace) -> int:
    from csmkit.cli._commands import run_workflow_show

    return run_workflow_show(args)


def _run_workflow_check(args: argparse.Namespace) -> int:
    from csmkit.cli._commands import run_workflow_check

    return run_workflow_check(args)


def _run_calendar(args: argparse.Namespace) -> int:
    from csmkit.cli._commands import run_calendar

    return run_calendar(args)


def _run_plugins(args: argparse.Namespace) -> int:
    from csmkit.cli._commands import run_plugins

    return run_plugins(args)


def _add_report(commands: Any) -> None:
    from csmkit.cli._scale import add_scale_arguments

    parser = commands.add_parser(
        "report",
        help="KPIs from a ticket export (CSV or JSON Lines)",
        description=(
            "Compute service KPIs (response and resolution times, FCR, CSAT, NPS, SLA "
            "attainment, backlog) from an export, with intervals. The schema is in docs/cli.md."
        ),
    )
    parser.add_argument("file", help="export: .csv (flat tickets) or .jsonl (timelines/events)")
    parser.add_argument(
        "--mapping", help="column mapping: 'zendesk', 'freshdesk' or a mapping JSON file"
    )
    parser.add_argument(
        "--delimiter",
        help="field separator of a CSV export: one character or 'tab' "
        "(default: read from the header row: , ; tab or |)",
    )
    parser.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="leave out malformed rows, listing each (file:line) on stderr, instead of failing",
    )
    parser.add_argument("--calendar", help="business calendar: JSON file, preset 'cn' or plugin")
    parser.add_argument("--partial-calendar", action="store_true", help=_PARTIAL_HELP)
    parser.add_argument("--sla", help="SLA policy (or policy set) JSON file; adds sla[...] metrics")
    parser.add_argument(
        "--by", help="group fields, comma-separated (channel,priority,fields.region)"
    )
    parser.add_argument("--period", choices=("day", "week", "month"), help="time buckets")
    parser.add_argument(
        "--tz",
        help="IANA zone of the buckets and of instants without offset "
        "(default: the calendar's, else UTC)",
    )
    parser.add_argument("--now", help="evaluation instant (default: the latest event)")
    parser.add_argument(
        "--survey",
        action="append",
        metavar="KIND[:LOW-HIGH][:CONVENTION]",
        help="the scale and convention of a survey kind (csat:0-10, csat:0-10:mean, ces:1-5); "
        "answers off the scale are an error. Default: CSAT 1-5 top box, NPS 0-10, CES 1-7 mean",
    )
    parser.add_argument("--metrics", help="comma-separated metric names (csmkit.metrics.METRICS)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.add_argument("--output", "-o", help="write the report to this file")
    parser.add_argument("--plot", help="also write a PNG (needs the plot extra: matplotlib)")
    parser.add_argument("--plot-size", default="1200x400", help="WIDTHxHEIGHT in pixels")
    add_scale_arguments(parser)
    parser.set_defaults(handler=_run_report)


class _TemplateNames:
    """The workflow templates' names, looked up when a help text shows them (building
    the parser must not import ``csmkit.workflow`` for every command)."""

    def __str__(self) -> str:
        from csmkit.workflow import TEMPLATE_NAMES

        return ", ".join(TEMPLATE_NAMES)


def _add_workflow(commands: Any) -> None:
    parser = commands.add_parser("workflow", help="show or check workflow definitions")
    sub = parser.add_subparsers(
        dest="workflow_command", metavar="{show,check}", parser_class=_Parser
    )
    sub.required = True
    show = sub.add_parser("show", help="print a workflow as Mermaid, DOT or a table")
    workflow = show.add_argument("workflow", help="template (%(templates)s) or JSON/TOML file")
    workflow.templates = _TemplateNames()
    show.add_argument("--format", choices=("mermaid", "dot", "table"), default="mermaid")
    show.add_argument("--lang", help="label language, e.g. zh or en")
    show.add_argument("--current", help="highlight this state")
    show.set_defaults(handler=_run_workflow_show)
    check = sub.add_parser("check", help="validate a workflow file; list every problem")
    check.add_argument("file", help="workflow JSON or TOML file")
    check.set_defaults(handler=_run_workflow_check)


def _add_calendar(commands: Any) -> None:
    parser = commands.add_parser("calendar", help="business-time arithmetic on a calendar")
    sub = parser.add_subparsers(
        dest="calendar_command", metavar="{add,between,explain}", parser_class=_Parser
    )
    sub.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--calendar", required=True, help="JSON file, preset 'cn' or a plugin calendar"
        )
        p.add_argument("--json", action="store_true", help="print JSON")
        p.add_argument("--partial-calendar", action="store_true", help=_PARTIAL_HELP)

    add = sub.add_parser("add", help="the instant DURATION of business time after AT")
    common(add)
    add.add_argument("at", help="instant, e.g. 2026-09-30T17:00+08:00")
    add.add_argument("duration", help="2h, 1h30m, PT1H30M, -4h (hours: business time)")
    add.set_defaults(handler=_run_calendar)
    for name, text in (
        ("between", "business time between START and END"),
        ("explain", "open intervals of a span and why each day is open or closed"),
    ):
        p = sub.add_parser(name, help=text)
        common(p)
        p.add_argument("start", help="instant or date, e.g. 2026-09-30 or 2026-09-30T09:00+08:00")
        p.add_argument("end", help="instant or date (exclusive)")
        p.set_defaults(handler=_run_calendar)


def _add_demo(commands: Any) -> None:
    from csmkit.cli._demo_parser import add_demo_parser

    add_demo_parser(commands)
    commands.choices["demo"].set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from csmkit.cli._demo import run_demo  # the simulated desk: imported only to run it

    return run_demo(args)


def _add_kb(commands: Any) -> None:
    from csmkit.cli._kb import add_kb_parser

    add_kb_parser(commands)


def _add_desk(commands: Any) -> None:
    from csmkit.cli._desk import add_desk_parser

    add_desk_parser(commands)


def _add_serve(commands: Any) -> None:
    from csmkit.cli._serve import add_serve_parser

    add_serve_parser(commands)


def _add_store(commands: Any) -> None:
    from csmkit.cli._store import add_store_parser

    add_store_parser(commands)


def _add_tickets(commands: Any) -> None:
    from csmkit.cli._tickets import add_tickets_parser

    add_tickets_parser(commands)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``csmkit`` command."""
    parser = _Parser(
        prog="csmkit",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"csmkit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_demo(commands)
    _add_report(commands)
    _add_workflow(commands)
    _add_calendar(commands)
    _add_kb(commands)
    _add_desk(commands)
    _add_serve(commands)
    _add_store(commands)
    _add_tickets(commands)
    plugins = commands.add_parser("plugins", help="installed plugins and where they come from")
    plugins.add_argument("--json", action="store_true", help="print JSON")
    plugins.set_defaults(handler=_run_plugins)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``csmkit`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns:
        The process exit status: 0 on success, 1 for data errors (any
        [`CsmkitError`][csmkit.errors.CsmkitError], unreadable files), 2 for usage errors.
    """
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere on the line, also after the subcommand.
    debug = "--debug" in arguments
    args = parser.parse_args(_negative_duration([item for item in arguments if item != "--debug"]))
    args.debug = debug
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return handler(args)
    except BrokenPipeError:
        # The reader went away (`csmkit ... | head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except UsageError as exc:
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(
            f"csmkit {args.command}: error: {exc} (see `csmkit {args.command} --help`)\n"
        )
        return 2
    except (CsmkitError, OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"csmkit {args.command}: {_one_line(exc)}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("csmkit: interrupted\n")
        return 130


_NEGATIVE = re.compile(r"-(\d|\.\d|P)")


def _negative_duration(arguments: list[str]) -> list[str]:
    """``calendar add AT -2h``: pass a negative DURATION to argparse as a positional.

    argparse takes ``-2h`` for an unknown option; the duration is the last positional, so
    it is moved behind ``--`` (where argparse reads everything as positionals), keeping
    any options that followed it in front. Nothing else on the line changes.
    """
    for index in range(len(arguments) - 1):
        if arguments[index : index + 2] == ["calendar", "add"]:
            break
    else:
        return arguments
    if "--" in arguments:  # the user said where positionals start
        return arguments
    head, rest = arguments[: index + 2], arguments[index + 2 :]
    for position in range(len(rest) - 1, -1, -1):
        word = rest[position]
        if _NEGATIVE.match(word):
            # only the last positional: followed by options alone (--json, --calendar cn)
            later = rest[position + 1 :]
            values = {k + 1 for k, item in enumerate(later) if item == "--calendar"}
            if all(item.startswith("--") or k in values for k, item in enumerate(later)):
                return [*head, *rest[:position], *rest[position + 1 :], "--", word]
            break
    return arguments


def _one_line(exc: BaseException) -> str:
    """A multi-line error on one line: ``intro: first; second`` (no ``:;``, no list dashes)."""
    parts = [line.strip() for line in str(exc).splitlines() if line.strip()]
    parts = [part[2:].strip() if part.startswith("- ") else part for part in parts]
    text = ""
    for part in parts:
        if not text:
            text = part
        elif text.endswith((":", ";")):
            text += " " + part
        else:
            text += "; " + part
    return text or type(exc).__name__
