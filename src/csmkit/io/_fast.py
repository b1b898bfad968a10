"""The report's fast path: csmkit's own timeline records folded straight into KPIs.

A JSON Lines export that csmkit wrote holds one ``Timeline.to_dict()`` per line. For a
report whose metrics read only a ticket's [`TicketMetrics`][csmkit.metrics.TicketMetrics],
its latest survey answers and its ``first_response`` SLA cycle in calendar time, this
module measures each such record in one pass over its event dicts -- no ``Event``,
``Timeline`` or intermediate ``Ticket`` objects -- and hands the figures to the
accumulator's own metric feeds, so grouping and aggregation are the report's code.

Each record is checked as the validating decoder checks it (the key set of each event
kind, every value by its exact type, aware instants, the event order, status changes
from the ticket's status, one creation first). Anything else -- another shape or kind,
non-empty ``meta``/``fields``/``tags``, a priority change, an event after ``now``, a
repeated message or ticket, an off-scale survey answer -- sends *that ticket* down the
full path (decoding, ``Timeline``, ``ticket_metrics``, ``SlaPolicy.evaluate``), which
counts it or names the error exactly as before. With ``now="latest"`` the fast path
measures the solved tickets (at their own last event, as the report does) and leaves the
others, which wait for the final instant, to the full path; when solved tickets wait too
(SLA metrics, windows, backlogs of done categories) the whole report takes the full path.
Options the fast path does not implement (business time, policy sets, other SLA targets,
other metrics) send the whole report down the full path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from csmkit._jsonvalue import EMPTY
from csmkit._time import parse_instant
from csmkit.errors import TimelineError
from csmkit.io._export import ExportReader, _accept, _bad_answer, _json
from csmkit.io._records import ExportError, read_record
from csmkit.io._trusted import SHAPES, SORTED_SHAPES
from csmkit.metrics import FcrRule, ReportAccumulator, TicketMetrics
from csmkit.sla import SYSTEM_ACTOR, SlaPolicy
from csmkit.timeline import Event, Priority, StatusCategory, SurveyAnswered, Timeline
from csmkit.timeline.trusted import trusted_ticket

__all__ = ["FastPlan", "accumulate_fast", "fast_plan", "fold_record"]

_PLAIN_METRICS = frozenset(
    {
        "tickets",
        "first_response_time",
        "first_resolution_time",
        "full_resolution_time",
        "requester_wait_time",
        "agent_wait_time",
        "on_hold_time",
        "fcr",
        "fcr[one_touch]",
        "fcr[one_agent_reply]",
        "fcr[no_customer_followup]",
        "reopen_rate",
        "agent_replies",
        "agent_touches",
        "customer_followups",
        "reopens",
        "csat",
        "nps",
        "ces",
        "sla[first_response]",
    }
)
_RULES = frozenset({"one_touch", "one_agent_reply", "no_customer_followup"})


@attrs.frozen
class FastPlan:
    """What the fast path needs of a report: its ``now`` and SLA first-response goals."""

    now: datetime | None  # None: now="latest" (each solved ticket at its own last event)
    sla_goals: Mapping[Priority, timedelta] | None  # None: no sla[...] metric


def fast_plan(accumulator: ReportAccumulator) -> FastPlan | None:
    """The fast plan of ``accumulator``'s report, or ``None`` when it needs the full path."""
    options = accumulator._options  # the report's options, as given
    now = options["now"]
    if now == "latest":
        # The report measures a solved ticket at its last event and keeps the others
        # for the final instant; when solved tickets wait too (SLA clocks, windows,
        # backlogs of done categories), every ticket waits and the full path keeps them.
        if accumulator._done_waits:
            return None
        now = None
    elif type(now) is not datetime or now.tzinfo is None or now.utcoffset() is None:
        return None
    if options["clock"] is not None or options["bucket_on"] != "created":
        return None
    for metric in options["metrics"]:
        if isinstance(metric, FcrRule):
            if metric.name not in _RULES:
                return None
        elif not isinstance(metric, str) or metric not in _PLAIN_METRICS:
            return None
    sla_goals: dict[Priority, timedelta] | None = None
    if "sla[first_response]" in options["metrics"]:
        policy = options["sla"]
        if type(policy) is not SlaPolicy or any(t.business for t in policy.targets):
            return None
        target = policy.target("first_response")
        if target is None or target.pause:
            return None
        sla_goals = dict(target.goals)
    return FastPlan(now, sla_goals)


class _Untrusted(Exception):
    """The record needs the full path (it decides whether and how it is wrong)."""


@attrs.frozen
class _Events:
    """The part of a timeline the survey metrics read: its survey answers, in order."""

    ticket_id: str
    events: tuple[SurveyAnswered, ...]


@attrs.frozen
class _Cycle:
    target: str
    state: str
    breached: bool


@attrs.frozen
class _SlaReport:
    cycles: tuple[_Cycle, ...]


_NO_CYCLES = _SlaReport(())
_PRIORITIES = {member.value: member for member in Priority}
_CATEGORIES = {member.value: member for member in StatusCategory}
_DONE = frozenset(member for member in StatusCategory if member.is_done)
_REQUESTER_WAITING = frozenset({StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.ON_HOLD})
_ZERO = timedelta(0)
_fromisoformat = datetime.fromisoformat


def _text(value: object) -> str:
    if type(value) is not str or not value:
        raise _Untrusted
    return value


def _optional(value: object) -> str | None:
    if value is None:
        return None
    if type(value) is not str or not value:
        raise _Untrusted
    return value


def _checked(item: object, ticket_id: str, instants: dict[str, datetime]) -> tuple[str, datetime]:
    """``(kind, at)`` of an event dict of a known shape whose common fields are valid."""
    if type(item) is not dict:
        raise _Untrusted
    kind = item.get("kind")
    if not isinstance(kind, str):
        raise _Untrusted
    shape = SHAPES.get(kind)
    if shape is None:
        raise _Untrusted
    keys = tuple(item)
    if keys != shape and tuple(sorted(keys)) != SORTED_SHAPES[kind]:
        raise _Untrusted
    meta = item["meta"]
    if item["ticket_id"] != ticket_id or type(meta) is not dict or meta:
        raise _Untrusted
    _optional(item["actor"])
    text = item["at"]
    if type(text) is not str:
        raise _Untrusted
    at = instants.get(text)
    if at is None:
        at = instants[text] = _instant(text)
    return kind, at


def _instant(text: str) -> datetime:
    """``parse_instant(text)``, which is ``datetime.fromisoformat`` for the plain forms."""
    try:
        at: datetime | None = _fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or "." in text[-16:]:
        try:
            return parse_instant(text)
        except ValueError:
            raise _Untrusted from None
    return at


def fold_record(
    data: object, plan: FastPlan
) -> tuple[TicketMetrics, _Events, _SlaReport, tuple[SurveyAnswered, ...]] | None:
    """The figures of one timeline record, or ``None`` when it needs the full path.

    Returns ``(metrics, events, sla, answers)``: the ticket measured at ``plan.now``
    (equal to ``ticket_metrics(timeline, now=plan.now)``), what the survey metrics read,
    the SLA report's ``first_response`` cycle (as ``SlaPolicy.evaluate`` finds it), and
    the survey answers (for the loader's scale check).
    """
    try:
        return _fold(data, plan)
    except _Untrusted:
        return None


def _fold(
    data: object, plan: FastPlan
) -> tuple[TicketMetrics, _Events, _SlaReport, tuple[SurveyAnswered, ...]]:
    if type(data) is not dict or len(data) != 2:
        raise _Untrusted
    raw = data.get("events")
    ticket_id = data.get("ticket_id")
    if type(raw) is not list or not raw or type(ticket_id) is not str or not ticket_id:
        raise _Untrusted
    now = plan.now
    if now is None:
        raise _Untrusted  # now="latest": accumulate_fast measures at the ticket's last event
    instants: dict[str, datetime] = {}
    first = raw[0]
    kind, created = _checked(first, ticket_id, instants)
    if kind != "created" or created > now:
        raise _Untrusted
    fields, tags = first["fields"], first["tags"]
    if type(fields) is not dict or fields or type(tags) is not list or tags:
        raise _Untrusted
    if first["workflow_version"] is not None or type(first["subject"]) is not str:
        raise _Untrusted
    ticket_type = _text(first["type"])
    channel = _text(first["channel"])
    priority = _PRIORITIES.get(first["priority"]) if type(first["priority"]) is str else None
    category = _CATEGORIES.get(first["category"]) if type(first["category"]) is str else None
    if priority is None or category is None:
        raise _Untrusted
    customer_id = _optional(first["customer_id"])
    status = _text(first["status"])
    workflow = _optional(first["workflow"])
    assignee: str | None = None
    group: str | None = None

    # ticket_metrics' fold (calendar time, every event at or before now)
    first_reply_at: datetime | None = None
    replies = touches = inbound = 0
    initial_inbound = False
    first_done: datetime | None = None
    last_done: datetime | None = None
    reopened: list[datetime] = []
    requester = agent = hold = _ZERO
    since = created
    # the SLA clock's first_response cycle (calendar time, never paused)
    opening_category = category  # after the events at the creation instant
    stops: list[tuple[datetime, StatusCategory | None]] = []  # SLA: a reply, or a category
    sla_messages = 0

    answers: list[SurveyAnswered] = []
    message_ids: set[str] = set()
    last = created
    for index in range(1, len(raw)):
        item = raw[index]
        if type(item) is dict and item.get("kind") == "survey_answered":
            try:
                answer = Event.from_dict(item)
            except (ValueError, TypeError):
                raise _Untrusted from None
            if type(answer) is not SurveyAnswered or answer.ticket_id != ticket_id:
                raise _Untrusted
            kind, at = "survey_answered", answer.at
            answers.append(answer)
        else:
            kind, at = _checked(item, ticket_id, instants)
        if at < last or at > now:
            raise _Untrusted  # out of order (an error), or to be measured as of now
        last = at
        if kind == "message_added":
            direction = item["direction"]
            public = item["public"]
            if type(public) is not bool or direction not in ("inbound", "outbound", "internal"):
                raise _Untrusted
            if (public and direction == "internal") or (not public and direction == "inbound"):
                raise _Untrusted
            _text(item["channel"])
            _optional(item["author"])
            _optional(item["body_ref"])
            message_id = _optional(item["message_id"])
            if message_id is not None:
                if message_id in message_ids:
                    raise _Untrusted  # a repeated message: the loader names it
                message_ids.add(message_id)
            actor = item["actor"]
            if direction == "inbound":
                inbound += 1
                if inbound == 1 and first_reply_at is None:
                    initial_inbound = True
                sla_messages += 1
                continue
            if actor == SYSTEM_ACTOR:
                continue
            # an agent's opening comment (is_opening_comment), as each fold counts messages
            metric_opening = inbound + touches == 0 and direction == "outbound" and at == created
            sla_opening = sla_messages == 0 and direction == "outbound" and at == created
            sla_messages += 1
            public_reply = direction == "outbound" and public
            if not metric_opening:
                if public_reply:
                    replies += 1
                    touches += 1
                    if first_reply_at is None:
                        first_reply_at = at
                else:
                    touches += 1
            if public_reply and not sla_opening and plan.sla_goals is not None:
                stops.append((at, None))
        elif kind == "status_changed":
            if item["from_status"] != status:
                raise _Untrusted
            _text(item["from_status"])
            new_status = _text(item["to_status"])
            raw_category = item["category"]
            new_category = _CATEGORIES.get(raw_category) if type(raw_category) is str else None
            if new_category is None:
                raise _Untrusted
            _optional(item["transition"])
            _optional(item["reason"])
            spent = at - since if at > since else _ZERO
            if category in _REQUESTER_WAITING:
                requester += spent
            if category is StatusCategory.PENDING:
                agent += spent
            if category is StatusCategory.ON_HOLD:
                hold += spent
            was_done = category in _DONE
            status, category, since = new_status, new_category, at
            if at == created:
                opening_category = category
            if plan.sla_goals is not None:
                stops.append((at, category))
            done = category in _DONE
            if done and not was_done:
                first_done = first_done or at
                last_done = at
            elif was_done and not done:
                reopened.append(at)
        elif kind == "assigned":
            agent_name = _optional(item["agent"])
            group_name = _optional(item["group"])
            _optional(item["decision"])
            if agent_name is not None:
                assignee = agent_name
            if group_name is not None:
                group = group_name
        elif kind == "created":
            raise _Untrusted  # a second creation (an error)
    done = category in _DONE
    if not done:
        spent = now - since if now > since else _ZERO
        if category in _REQUESTER_WAITING:
            requester += spent
        if category is StatusCategory.PENDING:
            agent += spent
        if category is StatusCategory.ON_HOLD:
            hold += spent

    # every value checked above as the validating decoder checks it
    ticket = trusted_ticket(
        id=ticket_id,
        type=ticket_type,
        channel=channel,
        status=status,
        category=category,
        priority=priority,
        customer_id=customer_id,
        subject=first["subject"],
        assignee=assignee,
        group=group,
        fields=EMPTY,
        tags=(),
        created_at=created,
        updated_at=last,
        version=len(raw),
        workflow=workflow,
        workflow_version=None,
        escalation_level=0,
    )

    metrics = TicketMetrics(
        ticket=ticket,
        as_of=now,
        business=False,
        first_response=None if first_reply_at is None else first_reply_at - created,
        first_resolution=None if first_done is None else first_done - created,
        full_resolution=None if last_done is None or not done else last_done - created,
        requester_wait=requester,
        agent_wait=agent,
        on_hold=hold,
        agent_replies=replies,
        agent_touches=touches,
        customer_followups=inbound - (1 if initial_inbound else 0),
        reopens=len(reopened),
        first_resolved_at=first_done,
        reopened_at=tuple(reopened),
    )
    sla = _NO_CYCLES
    goal = plan.sla_goals.get(priority) if plan.sla_goals is not None else None
    if goal is not None and opening_category not in _DONE:
        sla = _first_response(created + goal, opening_category, stops, now)
    found = tuple(answers)
    return metrics, _Events(ticket_id, found), sla, found


def _first_response(
    due: datetime,
    category: StatusCategory,
    stops: list[tuple[datetime, StatusCategory | None]],
    now: datetime,
) -> _SlaReport:
    """The ``first_response`` cycle as the SLA clock folds it (calendar time, no pause).

    The clock starts at creation in the category the ticket has after the events at the
    creation instant, and stops at the first public reply (met) or the first change into
    a done category (cancelled), whichever comes first; every event advances it first, so
    it is breached when its due instant is before the stopping event (at or before
    ``now`` while it runs).
    """
    for at, new_category in stops:
        if new_category is None:
            return _SlaReport((_Cycle("first_response", "met", due < at),))
        was_done = category in _DONE
        category = new_category
        if category in _DONE and not was_done:
            return _SlaReport((_Cycle("first_response", "cancelled", due < at),))
    return _SlaReport((_Cycle("first_response", "running", due <= now),))


def _last_instant(data: dict[str, Any]) -> datetime | None:
    """The instant of a record's last event (its latest, when the record is in order --
    which the fold checks), or ``None`` when the record does not give one plainly."""
    events = data.get("events") if type(data) is dict else None
    if type(events) is not list or not events or type(events[-1]) is not dict:
        return None
    text = events[-1].get("at")
    if type(text) is not str:
        return None
    try:
        return _instant(text)
    except _Untrusted:
        return None


def accumulate_fast(reader: ExportReader, accumulator: ReportAccumulator, plan: FastPlan) -> None:
    """Read a JSON Lines export into ``accumulator`` as ``accumulator.update_many(reader)``
    does: the same tickets in the same order, the same errors and skipped rows; records
    the fast path vouches for are measured by `fold_record`, the others by the report."""
    path, rows, answers = reader.path, reader._rows, reader.answers
    reader._started = True
    first_line: dict[str, int] = {}

    def accept(lines: list[int], timeline: Timeline) -> None:
        if _accept(rows, first_line, lines, timeline, answers):
            reader.tickets += 1
            accumulator.update(timeline)

    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except OSError as exc:
        raise ExportError(f"{path}: cannot read the file: {exc}") from None
    events: dict[str, list[tuple[int, Event]]] = {}
    loads, fold, now = json.loads, fold_record, plan.now
    latest = now is None
    fixed = now if now is not None else datetime.min  # (unused with now="latest")
    at = fixed
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                try:
                    data = loads(line)
                except ValueError:
                    data = None
                if data is None:
                    figures = None
                elif latest:
                    # a solved ticket measures the same at its last event as at any later
                    # instant (fast_plan made sure); the others wait in the full path
                    last = _last_instant(data)
                    figures = None
                    if last is not None:
                        at, figures = last, fold(data, FastPlan(last, plan.sla_goals))
                    if figures is not None and not figures[0].ticket.category.is_done:
                        figures = None
                else:
                    at, figures = fixed, fold(data, plan)
                if figures is not None:
                    ticket_id = data["ticket_id"]
                    if ticket_id not in first_line and (
                        not figures[3] or _bad_answer(figures[1], answers) is None
                    ):
                        rows.histories += 1
                        first_line[ticket_id] = number
                        reader.tickets += 1
                        accumulator._feed_measured(
                            figures[0], figures[1], figures[2], at, latest=latest
                        )
                        continue
                # the full path (_json_lines)
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    data = _json(line, where)
                    if isinstance(data, dict) and "events" not in data and "kind" not in data:
                        rows.flat(data)
                    else:
                        rows.histories += 1
                    kind, value = read_record(data, None, reader.zone, where)
                except ExportError as exc:
                    rows.bad([number], exc)
                    continue
                if kind == "timeline":
                    accept([number], value)
                else:
                    events.setdefault(value.ticket_id, []).append((number, value))
        except UnicodeDecodeError as exc:
            raise ExportError(f"{path}: cannot read the file: {exc}") from None
    for ticket_id, numbered in sorted(events.items(), key=lambda item: item[1][0][0]):
        lines = [number for number, _ in numbered]
        try:
            timeline = Timeline([event for _, event in numbered])
        except TimelineError as exc:
            error = ExportError(
                f"{path}:{lines[0]}: events of ticket {ticket_id!r} "
                f"(lines {', '.join(map(str, lines))}): {exc}"
            )
            rows.bad(lines, error)
            continue
        accept(lines, timeline)
