"""``csmkit report --workers N`` / ``--scheduler ADDRESS``: the report on Dask.

The export (one file, a directory of exports or a glob pattern; one partition per file)
is read and folded on the workers by [`csmkit.dask.dask_report()`][csmkit.dask.dask_report];
the output is the one of ``csmkit report``, with the same formats.
"""

from __future__ import annotations

import argparse
import glob
import sys
from datetime import timezone
from pathlib import Path
from typing import Any

from csmkit.errors import CsmkitError

__all__ = ["add_scale_arguments", "export_files", "run_scaled_report", "wants_dask"]

_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json")


def add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--workers`` and ``--scheduler`` options of ``csmkit report``."""
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="run on Dask with N local worker processes (extra dask); FILE may then be a "
        "directory or a glob pattern of exports, one partition per file",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster at ADDRESS (tcp://host:8786); the workers must "
        "see the export files at the same paths",
    )


def wants_dask(args: argparse.Namespace) -> bool:
    """Whether the command line asks for Dask."""
    return getattr(args, "workers", None) is not None or bool(getattr(args, "scheduler", None))


def export_files(spec: str) -> list[Path]:
    """The export files named by ``spec``: a file, a directory (its exports) or a glob.

    Raises:
        ExportError: nothing matches.
    """
    from csmkit.io import ExportError

    path = Path(spec)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in _SUFFIXES and p.is_file())
    elif glob.has_magic(spec):
        found = sorted(Path(p) for p in glob.glob(spec) if Path(p).is_file())
    else:
        found = [path] if path.is_file() else []
    if not found:
        raise ExportError(f"{spec}: no export files (a file, a directory or a glob pattern)")
    return found


def run_scaled_report(args: argparse.Namespace) -> int:
    """``csmkit report`` on Dask; the same output as the one-process command."""
    from csmkit.cli._calendars import check_calendar_extra, load_calendar
    from csmkit.cli._main import UsageError, _delimiter
    from csmkit.cli._report import (
        format_csv,
        format_json,
        format_table,
        metric_definitions,
        report_metrics,
        report_policy,
        report_surveys,
        zone,
    )
    from csmkit.dask import dask_report
    from csmkit.io import Export, load_mapping, read_instant

    if args.plot:
        raise UsageError("--plot needs the tickets in one process; drop --workers/--scheduler")
    if args.workers is not None and args.scheduler:
        raise UsageError("give --workers (a local cluster) or --scheduler (a running one)")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: give a number of processes >= 1")
    surveys = report_surveys(args.survey)
    files = export_files(args.file)
    tz_name = args.tz or "UTC"
    now: Any = read_instant(args.now, zone(tz_name), "--now") if args.now else "latest"
    calendar = None
    if args.calendar:
        check_calendar_extra(args.calendar)
        years = [now.year] if args.now else []
        loaded = load_calendar(args.calendar, years, allow_partial=args.partial_calendar)
        calendar = loaded.calendar
        tz_name = args.tz or calendar.timezone
    policy = report_policy(args, calendar)
    metrics = report_metrics(args, policy)
    by = [b.strip() for b in args.by.split(",") if b.strip()] if args.by else []
    done = dask_report(
        [str(path) for path in files],
        metrics,
        workers=args.workers,
        scheduler=args.scheduler,
        mapping=load_mapping(args.mapping) if args.mapping else None,
        zone=zone(args.tz) if args.tz else timezone.utc,
        on_error="skip" if args.skip_bad_rows else "raise",
        delimiter=_delimiter(args.delimiter, str(files[0])),
        now=now,
        by=by,
        bucket=args.period,
        tz=zone(tz_name),
        clock=calendar,
        sla=policy,
        surveys=surveys or None,
    )
    for row in done.skipped:  # every one, never a silent partial report
        sys.stderr.write(f"csmkit report: skipped {row}\n")
    Export((), done.skipped, done.ungiven).check_groups(by, Path(args.file))
    skipped = f" ({len(done.skipped)} bad rows skipped)" if done.skipped else ""
    assert done.now is not None
    clock = f"business time (calendar {args.calendar})" if calendar is not None else "calendar time"
    definitions = metric_definitions(metrics, clock, surveys)
    meta = {
        "files": [str(path) for path in files],
        "tickets": done.tickets,
        "skipped_rows": [row.to_dict() for row in done.skipped],
        "now": done.now.isoformat(),
        "timezone": tz_name,
        "calendar": args.calendar,
        "business_time": calendar is not None,
        "sla": args.sla,
        "metrics": metrics,
        "by": by,
        "period": args.period,
        "durations": "seconds",
        "definitions": definitions,
        "dask": {"workers": args.workers, "scheduler": args.scheduler},
    }
    if args.format == "json":
        text = format_json(done.table, meta)
    elif args.format == "csv":
        text = format_csv(done.table)
    else:
        keys = [*by, *([args.period] if args.period else [])]
        text = (
            f"{done.tickets} tickets from {len(files)} file{'s' if len(files) != 1 else ''}"
            f"{skipped} on Dask; as of {done.now.isoformat()}; "
            f"{'business' if calendar is not None else 'calendar'} time; "
            "rates in % [95 % interval], durations median (p90)\n"
            + "".join(f"  {name}: {line}\n" for name, line in definitions.items())
            + format_table(done.table, metrics, keys)
        )
    text = text if text.endswith("\n") else text + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text, "utf-8")
        except OSError as exc:
            raise _output_error(args.output, exc) from None
    else:
        sys.stdout.write(text)
    return 0


def _output_error(name: str, exc: OSError) -> CsmkitError:
    from csmkit.io import ExportError

    return ExportError(f"--output {name}: cannot write: {exc}")
