"""The managers' dashboard: KPI cards with their intervals, weekly trends, engineers
ranked on the lower bound of their interval by region, problem categories and the SLA
due list, rendered on the server in Chinese or English."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from csmkit.desk import ServiceDesk
from csmkit.errors import CsmkitError
from csmkit.web._api import sla_due
from csmkit.web._settings import WebConfigError
from csmkit.web._svg import bar_chart, column_chart

__all__ = ["Dashboard", "render_dashboard"]

_log = logging.getLogger("csmkit.web")

_TEXT: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "title": "服务台看板", "kpis": "关键指标（近全部工单，95% 区间）",
        "tickets": "工单数", "backlog": "未解决", "fcr": "一次解决率",
        "first_response_time": "首次响应（中位）", "csat": "满意度", "reopen_rate": "重开率",
        "trend": "每周工单数", "trend_fcr": "每周一次解决率 (%)",
        "ranking": "工程师排名（按区间下限）", "region": "区域", "categories": "问题类别",
        "due": "SLA 即将到期", "ticket": "工单", "target": "目标", "due_at": "到期",
        "assignee": "处理人", "none": "暂无数据", "data": "数据表", "other": "English",
        "min_n": "样本不少于 {n} 张工单的工程师",
    },
    "en": {
        "title": "Service desk dashboard", "kpis": "Key figures (all tickets, 95% intervals)",
        "tickets": "Tickets", "backlog": "Unresolved", "fcr": "First-contact resolution",
        "first_response_time": "First response (median)", "csat": "CSAT",
        "reopen_rate": "Reopen rate", "trend": "Tickets per week",
        "trend_fcr": "FCR per week (%)", "ranking": "Engineers ranked on the lower bound",
        "region": "Region", "categories": "Problem categories", "due": "SLA due soon",
        "ticket": "Ticket", "target": "Target", "due_at": "Due", "assignee": "Assignee",
        "none": "No data yet", "data": "Data table", "other": "中文",
        "min_n": "engineers with at least {n} tickets",
    },
}  # fmt: skip
_KPIS = ("tickets", "backlog", "fcr", "first_response_time", "csat", "reopen_rate")


def _text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise WebConfigError(f"Dashboard.{attribute.name} must be a non-empty string")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WebConfigError(f"Dashboard.{attribute.name} must be an integer >= 1, got {value!r}")


def _duration(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise WebConfigError(f"Dashboard.{attribute.name} must be a positive timedelta")


@attrs.frozen
class Dashboard:
    """What the dashboard shows.

    Attributes:
        region: The ticket attribute that splits the ranking (``"fields.region"``).
        category: The attribute whose values are the problem categories.
        rank_metric: The rate or score engineers are ranked on (higher is better).
        min_n: Fewest tickets for an engineer to be ranked (a score over three tickets
            rewards luck).
        due_within: How far ahead the SLA due list looks.
    """

    region: str = attrs.field(default="fields.region", validator=_text)
    category: str = attrs.field(default="fields.product", validator=_text)
    rank_metric: str = attrs.field(default="fcr", validator=_text)
    min_n: int = attrs.field(default=5, validator=_positive)
    due_within: timedelta = attrs.field(default=timedelta(hours=8), validator=_duration)


def _report(desk: ServiceDesk, metrics: list[str], **options: Any) -> list[dict[str, Any]]:
    try:
        return desk.report(metrics, **options).to_dicts()
    except CsmkitError as exc:  # a metric without data or definitions here: leave it out
        _log.debug("dashboard: %s left out: %s", metrics, exc)
        return []


def _format(value: Any, unit: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, timedelta):
        minutes = round(value.total_seconds() / 60)
        return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
    if isinstance(value, float):
        return f"{value:.1f}{unit}"
    return f"{value}{unit}"


def _cards(desk: ServiceDesk, text: Mapping[str, str]) -> str:
    cards = []
    for name in _KPIS:
        rows = _report(desk, [name])
        if not rows:
            continue
        row = rows[0]
        unit = "%" if name in ("fcr", "reopen_rate") else ""
        if name == "first_response_time":
            value, low, high = (row.get(f"{name}_{k}") for k in ("median", "low", "high"))
        else:
            value, low, high = row.get(name), row.get(f"{name}_low"), row.get(f"{name}_high")
        interval = (
            f'<div class="interval">[{_format(low, unit)}, {_format(high, unit)}]'
            f" n={row.get(f'{name}_n', '')}</div>"
            if low is not None
            else ""
        )
        cards.append(
            f'<div class="card" data-kpi="{name}"><div class="label">{escape(text[name])}</div>'
            f'<div class="value">{_format(value, unit)}</div>{interval}</div>'
        )
    return '<div class="cards">' + "".join(cards) + "</div>" if cards else _empty(text)


def _empty(text: Mapping[str, str]) -> str:
    return f'<p class="empty">{escape(text["none"])}</p>'


def _table(head: list[str], rows: list[list[str]], text: Mapping[str, str]) -> str:
    cells = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return (
        f"<details><summary>{escape(text['data'])}</summary><table><tr>{header}</tr>"
        f"{cells}</table></details>"
    )


def _trends(desk: ServiceDesk, text: Mapping[str, str], tz: str) -> str:
    rows = _report(desk, ["tickets", "fcr"], bucket="week", tz=tz)[-12:]
    if not rows:
        return _empty(text)
    weeks = [str(r["week"]) for r in rows]
    counts = [float(r["tickets"]) for r in rows]
    fcr = [float(r["fcr"] or 0.0) for r in rows]
    return (
        column_chart("weekly-tickets", text["trend"], weeks, counts)
        + f"<h2>{escape(text['trend_fcr'])}</h2>"
        + column_chart("weekly-fcr", text["trend_fcr"], weeks, fcr, unit="%")
        + _table(
            ["week", text["tickets"], "FCR %"],
            [[w, f"{c:g}", f"{f:.1f}"] for w, c, f in zip(weeks, counts, fcr, strict=True)],
            text,
        )
    )


def _ranking(desk: ServiceDesk, options: Dashboard, text: Mapping[str, str]) -> str:
    metric = options.rank_metric
    rows = _report(desk, [metric], by=[options.region, "assignee"])
    ranked = [
        r
        for r in rows
        if r["assignee"] is not None
        and r.get(f"{metric}_low") is not None
        and r[f"{metric}_n"] >= options.min_n
    ]
    if not ranked:
        note = escape(text["min_n"].format(n=options.min_n))
        return _empty(text) + f'<p class="empty">{note}</p>'
    out = []
    regions = sorted({str(r[options.region]) for r in ranked})
    for region in regions:
        mine = [r for r in ranked if str(r[options.region]) == region]
        mine.sort(key=lambda r: r[f"{metric}_low"], reverse=True)
        labels = [f"{i + 1}. {r['assignee']}" for i, r in enumerate(mine)]
        out.append(f"<h3>{escape(text['region'])}: {escape(region)}</h3>")
        out.append(
            bar_chart(
                f"ranking-{region}", f"{text['ranking']} {region}", labels,
                [float(r[f"{metric}_low"]) for r in mine],
                [(float(r[f"{metric}_low"]), float(r[f"{metric}_high"])) for r in mine],
                unit="%", scale_max=100.0,
            )
        )  # fmt: skip
    return "".join(out)


def _categories(desk: ServiceDesk, options: Dashboard, text: Mapping[str, str]) -> str:
    rows = [r for r in _report(desk, ["tickets"], by=[options.category]) if r["tickets"]]
    if not rows:
        return _empty(text)
    rows.sort(key=lambda r: -r["tickets"])
    labels = [str(r[options.category] if r[options.category] is not None else "–") for r in rows]
    return bar_chart("categories", text["categories"], labels, [float(r["tickets"]) for r in rows])


def _due(desk: ServiceDesk, options: Dashboard, text: Mapping[str, str], tz: str) -> str:
    rows = sla_due(desk, options.due_within)[:50]
    zone = ZoneInfo(tz)
    if not rows:
        return _empty(text)
    head = "".join(
        f"<th>{escape(text[k])}</th>" for k in ("ticket", "target", "due_at", "assignee")
    )
    body = "".join(
        f"<tr><td>{escape(r['ticket_id'])}</td><td>{escape(r['target'])}</td>"
        f'<td class="{"breached" if r["breached"] else ""}">'
        f"{r['due_at'].astimezone(zone):%m-%d %H:%M}</td>"
        f"<td>{escape(r['assignee'] or '–')}</td></tr>"
        for r in rows
    )
    return f'<table data-table="sla-due"><tr>{head}</tr>{body}</table>'


def render_dashboard(desk: ServiceDesk, options: Dashboard, lang: str) -> str:
    """The dashboard page (blocking: run it off the event loop)."""
    text = _TEXT[lang]
    tz = desk.calendar.timezone if desk.calendar is not None else "UTC"
    other = "en" if lang == "zh" else "zh"
    sections = [
        ("wide", "kpis", _cards(desk, text)),
        ("", "trend", _trends(desk, text, tz)),
        ("", "categories", _categories(desk, options, text)),
        ("", "ranking", _ranking(desk, options, text)),
        ("", "due", _due(desk, options, text, tz)),
    ]
    body = "".join(
        f'<section class="{cls}" id="{key}"><h2>{escape(text[key])}</h2>{html}</section>'
        for cls, key, html in sections
    )
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{escape(text['title'])}</title>"
        '<link rel="stylesheet" href="static/dashboard.css"></head><body>'
        f"<header><h1>{escape(text['title'])}</h1><nav>"
        f'<a href="?lang={other}">{escape(text["other"])}</a></nav></header>'
        f"<main>{body}</main></body></html>"
    )
