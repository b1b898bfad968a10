"""``csmkit report``: KPIs from an export, as a table, JSON, CSV and a picture."""

from __future__ import annotations

import csv
import importlib
import io
import json
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csmkit.errors import CsmkitError, MetricsError, SlaPolicyError
from csmkit.io import (
    ColumnMapping,
    Export,
    ExportError,
    SkippedRow,
    accumulate_export,
    read_instant,
)
from csmkit.metrics import ReportAccumulator, Survey, Table, report, ticket_metrics
from csmkit.sla import SlaPolicy, SlaPolicySet
from csmkit.timeline import Timeline

__all__ = [
    "DEFAULT_METRICS",
    "ReportOptions",
    "build_report",
    "check_plot_extra",
    "format_csv",
    "format_json",
    "format_table",
    "load_policy",
    "metric_definitions",
    "parse_survey",
    "plot_report",
    "report_metrics",
    "report_policy",
    "report_skipped",
    "report_surveys",
    "skipped_note",
    "sla_targets",
    "stream_report",
    "table_to_json_rows",
    "uses_business_time",
    "zone",
]

DEFAULT_METRICS: tuple[str, ...] = (
    "tickets",
    "first_response_time",
    "full_resolution_time",
    "fcr[one_touch]",
    "reopen_rate",
    "csat",
    "nps",
    "backlog",
)
"""Metrics of ``csmkit report`` without ``--metrics`` (plus ``sla[...]`` with ``--sla``)."""


_DURATIONS = {
    "first_response_time": "creation to the first public agent reply",
    "first_resolution_time": "creation to the first solve or close",
    "full_resolution_time": "creation to the last solve or close (done tickets)",
    "requester_wait_time": "time in new, open and on_hold",
    "agent_wait_time": "time in pending",
    "on_hold_time": "time in on_hold",
    "backlog_age": "age at --now of tickets not solved or closed, from creation",
    "backlog_age_since_update": (
        "time at --now since the last update of tickets not solved or closed"
    ),
}
_FCR = {
    "one_touch": (
        "% of resolved tickets with fewer than 2 public agent replies (reopens do not count)"
    ),
    "one_agent_reply": "% of resolved tickets with exactly 1 public agent reply",
    "no_customer_followup": "% of resolved tickets with no customer message after the first",
    "survey": "% of tickets whose survey field says the first contact resolved it",
}
_OTHERS = {
    "tickets": "number of tickets",
    "reopen_rate": "% of resolved tickets reopened at least once",
    "csat": "% of answers 4-5 on the 1-5 scale (top box), the latest CSAT answer of each ticket",
    "nps": "% promoters (9-10) minus % detractors (0-6) on the 0-10 scale, latest answer",
    "ces": "mean answer on the 1-7 scale (CES 2.0, higher is easier), latest answer",
    "backlog": "tickets not solved or closed at --now",
    "agent_replies": "mean public agent replies per ticket",
    "agent_touches": "mean agent replies and internal notes per ticket",
    "customer_followups": "mean customer messages after the first, per ticket",
    "reopens": "mean reopens per ticket",
}


_SURVEY_FORM = "KIND[:LOW-HIGH][:CONVENTION], e.g. csat:0-10:mean or csat:1-10"


def parse_survey(text: str) -> Survey:
    """A survey definition from ``--survey``: ``KIND[:LOW-HIGH][:CONVENTION]``.

    ``csat:0-10`` is CSAT on 0–10 as a top-box share (8–10), ``csat:0-10:mean`` its mean,
    ``ces:1-5`` CES on 1–5; an omitted part takes the kind's default
    ([`Survey`][csmkit.metrics.Survey]).

    Raises:
        MetricsError: the text is not of that form, or the survey is invalid.

    Examples:
        >>> survey = parse_survey("csat:0-10:mean")
        >>> survey.kind.value, survey.scale, survey.convention
        ('csat', (0, 10), 'mean')
    """
    parts = [part.strip() for part in text.split(":")]
    if not 1 <= len(parts) <= 3 or not parts[0]:
        raise MetricsError(f"--survey {text!r}: expected {_SURVEY_FORM}")
    kwargs: dict[str, Any] = {}
    if len(parts) >= 2 and parts[1]:
        match = re.fullmatch(r"(-?\d{1,3})-(-?\d{1,3})", parts[1])
        if match is None:
            raise MetricsError(
                f"--survey {text!r}: the scale {parts[1]!r} is not LOW-HIGH; "
                f"expected {_SURVEY_FORM}"
            )
        kwargs["scale"] = (int(match.group(1)), int(match.group(2)))
    if len(parts) == 3 and parts[2]:
        kwargs["convention"] = parts[2]
    try:
        return Survey(parts[0], parts[0], **kwargs)
    except MetricsError as exc:
        raise MetricsError(f"--survey {text!r}: {exc}") from None


def report_surveys(specs: Sequence[str] | None) -> list[Survey]:
    """The ``--survey`` options (repeatable): at most one definition per kind.

    Raises:
        MetricsError: a bad spec, or two definitions of one kind.
    """
    surveys = [parse_survey(spec) for spec in specs or ()]
    kinds = [survey.kind.value for survey in surveys]
    if len(set(kinds)) != len(kinds):
        raise MetricsError(f"--survey: one definition per kind, got {', '.join(specs or ())}")
    return surveys


def _survey_definition(survey: Survey) -> str:
    low, high = survey.scale
    if survey.convention == "top_box":
        points = survey.satisfied
        box = f"{points[0]}-{points[-1]}" if len(points) > 1 else str(points[0])
        return (
            f"% of answers {box} on the {low}-{high} scale (top box), "
            f"the latest {survey.kind.value.upper()} answer of each ticket"
        )
    if survey.convention == "mean":
        return f"mean answer on the {low}-{high} scale, latest answer"
    return _OTHERS[survey.kind.value]


def metric_definitions(
    metrics: Sequence[str], clock: str, surveys: Sequence[Survey] = ()
) -> dict[str, str]:
    """What each metric of a report measures, under the rule it was computed with.

    Args:
        metrics: The metric names of the report.
        clock: How durations were measured (``"business time (calendar cn)"``,
            ``"calendar time"``).

    A reader of a report column must not have to guess its rule: CSAT's scale and
    convention, the FCR rule (``fcr`` alone is ``fcr[one_touch]``), the clock of times.
    ``surveys`` (from ``--survey``) replace the default scale of their kind.
    """
    declared = {survey.kind.value: survey for survey in surveys}
    found: dict[str, str] = {}
    for name in metrics:
        if name in _DURATIONS:
            found[name] = f"{_DURATIONS[name]}, {clock}; median (p90)"
        elif name == "fcr" or name.startswith("fcr["):
            rule = name[4:-1] if name.startswith("fcr[") else "one_touch"
            window = rule.removeprefix("no_reopen_within(").removesuffix(")")
            if rule in _FCR:
                text = _FCR[rule]
            elif rule.startswith("survey("):
                text = f"% of tickets whose field {rule[7:-1]!r} says the first contact resolved it"
            elif window != rule:
                text = f"% of resolved tickets not reopened within {window} calendar days"
            else:
                text = f"first contact resolution, rule {rule}"
            found[name] = text if name != "fcr" else f"rule one_touch: {text}"
        elif name.startswith("sla[") and name.endswith("]"):
            found[name] = (
                f"% of {name[4:-1]} targets met (running ones already past due count as "
                "breached), on the SLA policy's clock"
            )
        elif name in declared:
            found[name] = _survey_definition(declared[name])
        elif name in _OTHERS:
            found[name] = _OTHERS[name]
    return found


class ReportOptions:
    """What ``csmkit report`` computes, resolved from the command line."""

    def __init__(
        self,
        *,
        metrics: Sequence[str],
        by: Sequence[str],
        period: str | None,
        tz: ZoneInfo,
        clock: Any,
        now: datetime,
        sla: SlaPolicy | SlaPolicySet | None,
        surveys: Sequence[Survey] = (),
    ) -> None:
        self.metrics = list(metrics)
        self.by = list(by)
        self.period = period
        self.tz = tz
        self.clock = clock
        self.now = now
        self.sla = sla
        self.surveys = list(surveys)


def zone(name: str) -> ZoneInfo:
    """An IANA zone, or a [`MetricsError`][csmkit.errors.MetricsError] naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MetricsError(f"--tz {name!r} is not an IANA time zone (e.g. Asia/Shanghai)") from None


def load_policy(spec: str) -> SlaPolicy | SlaPolicySet:
    """An SLA policy (``{"name", "targets"}``) or policy set (``{"policies"}``) JSON file.

    Raises:
        SlaPolicyError: unreadable or invalid.
    """
    try:
        data = json.loads(Path(spec).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SlaPolicyError(f"{spec}: cannot read the SLA policy: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SlaPolicyError(f"{spec}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SlaPolicyError(f"{spec}: an SLA policy file holds one JSON object")
    try:
        if "policies" in data:
            return SlaPolicySet.from_dict(data)
        return SlaPolicy.from_dict(data)
    except SlaPolicyError as exc:
        raise SlaPolicyError(f"{spec}: {exc}") from None


def sla_targets(policy: SlaPolicy | SlaPolicySet) -> list[str]:
    """The target names a policy (or any policy of a set) measures, in a stable order."""
    policies = policy.policies if isinstance(policy, SlaPolicySet) else (policy,)
    names: list[str] = []
    for item in policies:
        for name in item.to_dict().get("targets", {}):
            if name not in names:
                names.append(name)
    order = ["first_response", "next_response", "periodic_update", "resolution"]
    return sorted(names, key=lambda name: (order.index(name) if name in order else 99, name))


def uses_business_time(policy: SlaPolicy | SlaPolicySet) -> bool:
    """Whether any target of the policy (or set) counts business time."""
    policies = policy.policies if isinstance(policy, SlaPolicySet) else (policy,)
    targets = [item.target(name) for item in policies for name in item.to_dict()["targets"]]
    return any(target is not None and target.business for target in targets)


def build_report(timelines: Sequence[Timeline], options: ReportOptions) -> Table:
    """The report table: exactly [`csmkit.metrics.report()`][csmkit.metrics.report] with the
    options."""
    return report(
        timelines,
        options.metrics,
        by=options.by,
        bucket=options.period,  # type: ignore[arg-type]
        tz=options.tz,
        clock=options.clock,
        now=options.now,
        sla=options.sla,
        surveys=options.surveys or None,
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    return value


def table_to_json_rows(table: Table) -> list[dict[str, Any]]:
    """Rows with durations as seconds (floats): the JSON and CSV forms of a report."""
    return [{column: _json_value(row.get(column)) for column in table.columns} for row in table]


def format_json(table: Table, meta: Mapping[str, Any]) -> str:
    """``{"meta": ..., "columns": [...], "rows": [...]}``, durations in seconds."""
    return json.dumps(
        {"meta": dict(meta), "columns": list(table.columns), "rows": table_to_json_rows(table)},
        ensure_ascii=False,
        indent=2,
    )


def format_csv(table: Table) -> str:
    """CSV with a header row; durations in seconds, empty cells for missing values."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table_to_json_rows(table):
        writer.writerow(
            ["" if row[column] is None else _csv_cell(row[column]) for column in table.columns]
        )
    return out.getvalue()


def _csv_cell(value: Any) -> str:
    if isinstance(value, list):
        return "|".join(str(item) for item in value)
    return str(value)


def _hours(value: timedelta | None) -> str:
    if value is None:
        return "-"
    hours = value.total_seconds() / 3600
    return f"{hours:.1f}h"


def format_table(table: Table, metrics: Sequence[str], keys: Sequence[str]) -> str:
    """A compact, readable table: one column per metric.

    Rates and scores read ``score [low, high]`` (the 95 % interval), durations
    ``median (p90)`` in hours; ``--format json``/``csv`` give every column.
    """
    compact: list[dict[str, Any]] = []
    columns = list(keys)
    for name in metrics:
        columns.append(name if name != "tickets" else "tickets")
    for row in table:
        out: dict[str, Any] = {key: row.get(key) for key in keys}
        for name in metrics:
            if f"{name}_median" in row:
                n = row[f"{name}_n"]
                out[name] = (
                    "-"
                    if not n
                    else f"{_hours(row[f'{name}_median'])} ({_hours(row[f'{name}_p90'])})"
                )
            elif f"{name}_low" in row:
                score = row[name]
                if score is None:
                    out[name] = "-"
                elif row[f"{name}_low"] is None:
                    out[name] = f"{score:.1f}"
                else:
                    out[name] = f"{score:.1f} [{row[f'{name}_low']:.1f}, {row[f'{name}_high']:.1f}]"
            else:
                out[name] = row.get(name)
        compact.append(out)
    return str(Table(tuple(columns), tuple(compact)))


# --------------------------------------------------------------------------- plot
def check_plot_extra() -> None:
    """Fail now, before any work, when ``--plot`` cannot draw (matplotlib is missing).

    Raises:
        MetricsError: matplotlib cannot be imported, with the ``pip install`` line.
    """
    try:
        importlib.import_module("matplotlib.pyplot")
    except ImportError:
        raise MetricsError('--plot needs matplotlib: pip install "csmkit[plot]"') from None


def plot_report(
    path: Path,
    timelines: Sequence[Timeline],
    options: ReportOptions,
    *,
    size: tuple[int, int],
) -> None:
    """Write a PNG with three panels: CSAT/NPS trend, SLA attainment by group, response times.

    Raises:
        MetricsError: matplotlib is missing (the ``plot`` extra) or the file cannot be
            written.
    """
    check_plot_extra()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    dpi = 100
    figure, (trend_axes, sla_axes, time_axes) = plt.subplots(
        1, 3, figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi
    )
    try:
        _plot_trend(trend_axes, timelines, options)
        _plot_sla(sla_axes, timelines, options)
        _plot_times(time_axes, timelines, options)
        figure.tight_layout()
        with warnings.catch_warnings():
            # Group names in Chinese may lack glyphs in the default font: still plot.
            warnings.simplefilter("ignore", UserWarning)
            figure.savefig(path, format="png", dpi=dpi)
    except OSError as exc:
        raise MetricsError(f"--plot {path}: cannot write the picture: {exc}") from None
    finally:
        plt.close(figure)


def _plot_trend(axes: Any, timelines: Sequence[Timeline], options: ReportOptions) -> None:
    period = options.period or "week"
    table = report(
        timelines,
        ["csat", "nps"],
        bucket=period,  # type: ignore[arg-type]
        tz=options.tz,
        clock=options.clock,
    )
    labels = [row[period] for row in table]
    positions = list(range(len(labels)))
    for name, colour in (("csat", "tab:blue"), ("nps", "tab:orange")):
        points = [
            (i, row[name], row[f"{name}_low"], row[f"{name}_high"])
            for i, row in zip(positions, table, strict=True)
            if row[name] is not None and row[f"{name}_low"] is not None
        ]
        if not points:
            continue
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        errors = [[p[1] - p[2] for p in points], [p[3] - p[1] for p in points]]
        label = "CSAT %" if name == "csat" else "NPS"
        axes.errorbar(xs, ys, yerr=errors, marker="o", capsize=3, color=colour, label=label)
    axes.set_xticks(positions)
    axes.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
    axes.axhline(0, color="grey", linewidth=0.5)
    axes.set_title(f"CSAT and NPS per {period} (95 % intervals)")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8)


def _plot_sla(axes: Any, timelines: Sequence[Timeline], options: ReportOptions) -> None:
    group = options.by[0] if options.by else "group"
    if options.sla is None:
        metric = "fcr"
        title = f"FCR by {group} (no --sla given)"
    else:
        metric = f"sla[{sla_targets(options.sla)[-1]}]"
        title = f"SLA attainment {metric} by {group}"
    table = report(
        timelines, [metric], by=[group], clock=options.clock, now=options.now, sla=options.sla
    )
    rows = [row for row in table if row[metric] is not None]
    names = [str(row[group]) for row in rows]
    values = [row[metric] for row in rows]
    lows = [row[metric] - (row[f"{metric}_low"] or row[metric]) for row in rows]
    highs = [(row[f"{metric}_high"] or row[metric]) - row[metric] for row in rows]
    axes.bar(range(len(rows)), values, yerr=[lows, highs], capsize=3, color="tab:green")
    axes.set_xticks(range(len(rows)))
    axes.set_xticklabels(names, rotation=45, ha="right", fontsize=7)
    axes.set_ylim(0, 105)
    axes.set_ylabel("%")
    axes.set_title(title)


def _plot_times(axes: Any, timelines: Sequence[Timeline], options: ReportOptions) -> None:
    hours = []
    for timeline in timelines:
        value = ticket_metrics(timeline, clock=options.clock).first_response
        if value is not None:
            hours.append(value.total_seconds() / 3600)
    if hours:
        axes.hist(hours, bins=min(30, max(5, len(hours) // 5)), color="tab:purple")
    kind = "business" if options.clock is not None else "calendar"
    axes.set_xlabel(f"first response time ({kind} hours)")
    axes.set_ylabel("tickets")
    axes.set_title("First response time distribution")


def describe_error(exc: CsmkitError) -> str:
    """The one-line form of an error message (multi-line problem lists joined)."""
    return "; ".join(line.strip(" -") for line in str(exc).splitlines() if line.strip())


# --------------------------------------------------------------------------- loading
def skipped_note(skipped: Sequence[Any]) -> str:
    """`` (N bad rows skipped)`` when rows were skipped, else empty."""
    return f" ({len(skipped)} bad rows skipped)" if skipped else ""


def report_skipped(path: Path, skipped: Sequence[Any]) -> None:
    """List every skipped row on stderr: never a silent partial report."""
    for row in skipped:
        sys.stderr.write(f"csmkit report: skipped {row}\n")
    if skipped:
        sys.stderr.write(f"csmkit report: {path}: {len(skipped)} bad rows skipped\n")


def report_policy(args: Any, calendar: Any) -> SlaPolicy | SlaPolicySet | None:
    """The ``--sla`` policy, refused when it counts business time without ``--calendar``."""
    from csmkit.cli._main import UsageError

    policy = load_policy(args.sla) if args.sla else None
    if policy is not None and calendar is None and uses_business_time(policy):
        raise UsageError(
            f"the SLA policy {args.sla} counts business time: pass --calendar "
            "(a calendar JSON file or the preset cn)"
        )
    return policy


def report_metrics(args: Any, policy: SlaPolicy | SlaPolicySet | None) -> list[str]:
    """``--metrics``, or the defaults (with ``sla[...]`` per target of ``--sla``)."""
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else []
    if not metrics:
        metrics = list(DEFAULT_METRICS)
        if policy is not None:
            metrics += [f"sla[{target}]" for target in sla_targets(policy)]
    return metrics


def stream_report(
    args: Any,
    path: Path,
    mapping: ColumnMapping | None,
    read_zone: tzinfo,
    on_error: Literal["raise", "skip"],
    delimiter: str | None,
    surveys: Sequence[Survey] = (),
) -> tuple[Table, ReportOptions, int, tuple[SkippedRow, ...]]:
    """``csmkit report`` without ``--calendar`` and ``--plot``: one streaming pass.

    The tickets are folded into a [`ReportAccumulator`][csmkit.metrics.ReportAccumulator]
    as they are read; without ``--now`` only the open tickets wait for the latest
    instant. The table equals [`build_report()`][csmkit.cli._report.build_report] over
    the loaded timelines.
    """
    tz_name = args.tz or "UTC"
    now: datetime | None = read_instant(args.now, zone(tz_name), "--now") if args.now else None
    policy = report_policy(args, None)
    metrics = report_metrics(args, policy)
    by = [b.strip() for b in args.by.split(",") if b.strip()] if args.by else []
    accumulator = ReportAccumulator(
        metrics,
        by=by,
        bucket=args.period,
        tz=zone(tz_name),
        now=now if now is not None else "latest",
        sla=policy,
        surveys=list(surveys) or None,
    )
    reader = accumulate_export(
        path,
        accumulator,
        mapping=mapping,
        zone=read_zone,
        on_error=on_error,
        delimiter=delimiter,
        surveys=surveys,
    )
    skipped = reader.skipped
    report_skipped(path, skipped)
    if not reader.tickets:
        raise ExportError(f"{path}: no tickets in the export{skipped_note(skipped)}")
    Export((), skipped, reader.ungiven).check_groups(by, path)
    table = accumulator.result()
    assert accumulator.now is not None
    options = ReportOptions(
        metrics=metrics,
        by=by,
        period=args.period,
        tz=zone(tz_name),
        clock=None,
        now=accumulator.now,
        sla=policy,
        surveys=surveys,
    )
    return table, options, reader.tickets, skipped
