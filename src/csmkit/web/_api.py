"""The agents' JSON API: tickets (create, read, list and filter), fields, replies from
templates, transitions, assignment, the queue, the SLA due list, routing explanations."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from csmkit.desk import ServiceDesk
from csmkit.sla import SlaState
from csmkit.timeline import Ticket
from csmkit.web._guard import Guard, read_body
from csmkit.web._problems import HttpProblem
from csmkit.workflow import Actor

__all__ = ["api_routes", "ticket_json"]

Offload = Callable[..., Awaitable[Any]]
_UNRESOLVED = ("new", "open", "pending", "on_hold")
_PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    """A ticket's current state as JSON data."""
    return {
        "id": ticket.id,
        "type": ticket.type,
        "channel": ticket.channel,
        "status": ticket.status,
        "category": str(ticket.category),
        "priority": str(ticket.priority),
        "customer_id": ticket.customer_id,
        "subject": ticket.subject,
        "assignee": ticket.assignee,
        "group": ticket.group,
        "fields": dict(ticket.fields),
        "tags": list(ticket.tags),
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "version": ticket.version,
        "escalation_level": ticket.escalation_level,
    }


async def _json(request: Request, limit: int) -> dict[str, Any]:
    body = await read_body(request, limit)
    if not body:
        return {}
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HttpProblem(400, "bad-json", "the body is not UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise HttpProblem(400, "bad-json", "the body must be a JSON object")
    return data


def _text(data: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 1000:
        raise HttpProblem(422, "rejected", f"{name}: expected a non-empty string")
    return value


def _object(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise HttpProblem(422, "rejected", f"{name}: expected a JSON object")
    return value


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise HttpProblem(400, "bad-request", "limit must be an integer from 1 to 1000")
    return int(raw)


class _Api:
    def __init__(self, desk: ServiceDesk, guard: Guard, offload: Offload, limit: int) -> None:
        self.desk = desk
        self.guard = guard
        self.offload = offload
        self.limit = limit

    async def _ticket(self, call: Callable[[], Ticket], status: int = 200) -> Response:
        ticket = await self.offload(call)
        return JSONResponse(ticket_json(ticket), status_code=status)

    async def create(self, request: Request) -> Response:
        key = self.guard.check(request, write=True)
        data = await _json(request, self.limit)
        kind = _text(data, "type", required=True)
        assert kind is not None
        tags = data.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise HttpProblem(422, "rejected", "tags: expected a list of strings")
        return await self._ticket(
            lambda: self.desk.open_ticket(
                kind,
                channel=_text(data, "channel") or "api",
                customer_id=_text(data, "customer_id"),
                subject=str(data.get("subject", ""))[:1000],
                priority=_text(data, "priority") or "normal",
                fields=_object(data, "fields"),
                tags=tags,
                actor=key.actor,
            ),
            201,
        )

    async def show(self, request: Request) -> Response:
        self.guard.check(request, write=False)
        ticket_id = request.path_params["ticket_id"]

        def work() -> dict[str, Any]:
            out = ticket_json(self.desk.ticket(ticket_id))
            report = self.desk.sla(ticket_id)
            out["sla"] = None if report is None else report.to_dict()
            return out

        return JSONResponse(await self.offload(work))

    async def update(self, request: Request) -> Response:
        key = self.guard.check(request, write=True)
        data = await _json(request, self.limit)
        fields = _object(data, "fields")
        ticket_id = request.path_params["ticket_id"]
        return await self._ticket(
            lambda: self.desk.update(ticket_id, fields=fields, actor=key.actor)
        )

    async def reply(self, request: Request) -> Response:
        key = self.guard.check(request, write=True)
        data = await _json(request, self.limit)
        ticket_id = request.path_params["ticket_id"]
        template, language = _text(data, "template"), _text(data, "language")
        body_ref = _text(data, "body_ref")
        actor = Actor(key.actor, key.roles)
        return await self._ticket(
            lambda: self.desk.reply(
                ticket_id, author=key.actor, template=template, language=language,
                body_ref=body_ref, actor=actor,
            )
        )  # fmt: skip

    async def transition(self, request: Request) -> Response:
        key = self.guard.check(request, write=True)
        data = await _json(request, self.limit)
        ticket_id, name = request.path_params["ticket_id"], request.path_params["name"]
        payload, reason = _object(data, "data"), _text(data, "reason")
        actor = Actor(key.actor, key.roles)
        return await self._ticket(
            lambda: self.desk.transition(ticket_id, name, actor=actor, data=payload, reason=reason)
        )

    async def assign(self, request: Request) -> Response:
        key = self.guard.check(request, write=True)
        data = await _json(request, self.limit)
        ticket_id = request.path_params["ticket_id"]
        agent, group = _text(data, "agent"), _text(data, "group")
        return await self._ticket(
            lambda: self.desk.assign(ticket_id, agent, group=group, actor=key.actor)
        )

    async def explain(self, request: Request) -> Response:
        self.guard.check(request, write=False)
        ticket_id = request.path_params["ticket_id"]
        decision = await self.offload(lambda: self.desk.explain(ticket_id))
        return JSONResponse(decision.to_dict())

    async def listing(self, request: Request) -> Response:
        self.guard.check(request, write=False)
        query = request.query_params
        categories = query.getlist("category") or None
        limit = _limit(request)

        def work() -> dict[str, Any]:
            page = self.desk.store.find_tickets(
                category=categories,
                assignee=query.get("assignee") or None,
                customer_id=query.get("customer_id") or None,
                limit=limit,
                cursor=query.get("cursor") or None,
            )
            return {
                "items": [
                    {
                        "id": s.ticket_id,
                        "status": s.status,
                        "category": str(s.category),
                        "priority": str(s.priority),
                        "assignee": s.assignee,
                        "group": s.group,
                        "customer_id": s.customer_id,
                        "created_at": _iso(s.created_at),
                        "updated_at": _iso(s.updated_at),
                    }
                    for s in page.items
                ],
                "next_cursor": page.next_cursor,
            }

        return JSONResponse(await self.offload(work))

    async def queue(self, request: Request) -> Response:
        self.guard.check(request, write=False)
        group = request.query_params.get("group") or None
        items = await self.offload(lambda: queue(self.desk, group))
        return JSONResponse({"items": items})

    async def due(self, request: Request) -> Response:
        self.guard.check(request, write=False)
        raw = request.query_params.get("within_hours", "24")
        if not raw.isdigit() or not 1 <= int(raw) <= 24 * 90:
            raise HttpProblem(400, "bad-request", "within_hours must be an integer from 1 to 2160")
        items = await self.offload(lambda: sla_due(self.desk, timedelta(hours=int(raw))))
        return JSONResponse({"items": [{**i, "due_at": i["due_at"].isoformat()} for i in items]})

    def routes(self) -> list[Route]:
        one = "/api/v1/tickets/{ticket_id}"
        return [
            Route("/api/v1/tickets", self.listing, methods=["GET"]),
            Route("/api/v1/tickets", self.create, methods=["POST"]),
            Route(one, self.show, methods=["GET"]),
            Route(one + "/fields", self.update, methods=["PATCH"]),
            Route(one + "/reply", self.reply, methods=["POST"]),
            Route(one + "/transitions/{name}", self.transition, methods=["POST"]),
            Route(one + "/assign", self.assign, methods=["POST"]),
            Route(one + "/explain", self.explain, methods=["GET"]),
            Route("/api/v1/queue", self.queue, methods=["GET"]),
            Route("/api/v1/sla/due", self.due, methods=["GET"]),
        ]


def _unresolved(desk: ServiceDesk) -> list[Any]:
    found: list[Any] = []
    cursor = None
    while True:
        page = desk.store.find_tickets(category=_UNRESOLVED, limit=1000, cursor=cursor)
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


def queue(desk: ServiceDesk, group: str | None) -> list[dict[str, Any]]:
    """Unresolved, unassigned tickets (of ``group``): most urgent, then oldest first."""
    waiting = [
        s for s in _unresolved(desk) if s.assignee is None and (group is None or s.group == group)
    ]
    waiting.sort(key=lambda s: (_PRIORITY_ORDER.get(str(s.priority), 9), s.created_at))
    return [
        {
            "id": s.ticket_id,
            "status": s.status,
            "priority": str(s.priority),
            "group": s.group,
            "created_at": _iso(s.created_at),
        }
        for s in waiting
    ]


def sla_due(desk: ServiceDesk, within: timedelta) -> list[dict[str, Any]]:
    """Running SLA cycles of unresolved tickets due within ``within`` (or already
    breached), soonest first; ``due_at`` is an aware datetime.

    The candidates come from the store's due index
    ([`ServiceDesk.due()`][csmkit.desk.ServiceDesk.due]: a ticket with any cycle due in
    the window has its earliest one there), so only those tickets are evaluated, never
    every open ticket. A paused clock is not due and is not listed."""
    now = desk.now()
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        # due() is strictly before its instant; the window includes its end.
        horizon = now + within + timedelta(microseconds=1)
        page = desk.due(horizon, category=_UNRESOLVED, limit=1000, cursor=cursor)
        for summary in page.items:
            report = desk.sla(summary.ticket_id, now)
            if report is None:
                continue
            for cycle in report.active:
                if cycle.state is SlaState.RUNNING and cycle.due_at - now <= within:
                    rows.append(
                        {"ticket_id": summary.ticket_id, "target": cycle.target,
                         "due_at": cycle.due_at, "breached": cycle.breached,
                         "assignee": summary.assignee, "priority": str(summary.priority)}
                    )  # fmt: skip
        cursor = page.next_cursor
        if cursor is None:
            break
    rows.sort(key=lambda row: (row["due_at"], row["ticket_id"], row["target"]))
    return rows


def api_routes(desk: ServiceDesk, guard: Guard, offload: Offload, limit: int) -> list[Route]:
    """The agents' API routes, every one behind ``guard``."""
    return _Api(desk, guard, offload, limit).routes()
