"""The simulated smart-home repair desk behind ``csmkit demo``.

A discrete-event simulation: tickets arrive over several channels, engineers and
supervisors work them during business hours, customers answer and rate the service.
Every action goes through a real [`csmkit.desk.ServiceDesk`][csmkit.desk.ServiceDesk] on a SQLite
store with an injected clock that advances simulated time (``desk.tick(now)`` at every step), so the
SLA clocks, rules, escalations, routing and surveys are the library's own. The KPIs are
then computed from the stored timelines with [`csmkit.metrics`][csmkit.metrics].

The same arrivals and the same per-ticket random draws (common random numbers) feed both
runs: *before* (manual: random assignment, no SLA warnings, no escalation) and *after*
(the csmkit desk: region- and skill-based routing, SLA warnings, escalation).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from csmkit.cli._scenario import (
    CALENDAR,
    DONE,
    ENGINEERS,
    REPAIR_FAILURE,
    SATISFACTION,
    SH,
    START,
    SUPERVISORS,
    SURVEY,
    Arrival,
    agents,
    desk_rules,
    router,
    ticket_types,
)
from csmkit.desk import ServiceDesk
from csmkit.sla import BusinessCalendar
from csmkit.storage import open_store
from csmkit.timeline import Timeline
from csmkit.workflow import Actor

__all__ = ["RunResult", "run_desk"]


@dataclass
class RunResult:
    """The stored timelines of one run and the instant the run ended."""

    label: str
    timelines: list[Timeline]
    end: datetime
    escalations: int = 0
    warnings: int = 0


@dataclass
class _Worker:
    id: str
    queue: list[tuple[str, str]] = field(default_factory=list)  # (task, ticket_id)
    busy: bool = False


class _Sms:
    """The outbound SMS gateway: hands each notification to the simulation."""

    def __init__(self, sink: Callable[[Any], None]) -> None:
        self.sink = sink

    def send(self, notification: Any) -> dict[str, bool]:
        self.sink(notification)
        return {"accepted": True}


class _Simulation:
    def __init__(
        self, arrivals: list[Arrival], *, after: bool, seed: int, db: str, weeks: int
    ) -> None:
        self.after = after
        self.seed = seed
        self.arrivals = {a.ticket_id: a for a in arrivals}
        self.calendar = BusinessCalendar.from_dict(CALENDAR)
        self.end = datetime.combine(START + timedelta(weeks=weeks), datetime.min.time(), SH)
        self.now = datetime.combine(START, datetime.min.time(), SH)
        self.heap: list[tuple[datetime, int, str, str]] = []
        self.seq = itertools.count()
        self.engineers = {e[0]: _Worker(e[0]) for e in ENGINEERS}
        self.supervisors = _Worker("supervisors")
        self.supervisors_free = list(SUPERVISORS)
        self.skill = {e[0]: e[4] for e in ENGINEERS}
        self.region = {e[0]: e[2] for e in ENGINEERS}
        self.owner: dict[str, str] = {}
        self.visits: dict[str, int] = {}
        self.reworked: set[str] = set()
        self.escalations = 0
        self.warnings = 0
        self.desk = ServiceDesk(
            open_store(f"sqlite:///{db}"),
            types=ticket_types(),
            clock=lambda: self.now,
            calendar=self.calendar,
            router=router(after, seed),
            agents=agents(),
            rules=desk_rules(after),
            channels={"sms": _Sms(self._notified)},
        )
        for arrival in arrivals:
            self._at(arrival.at, "arrive", arrival.ticket_id)

    # -- scheduling helpers
    def _at(self, at: datetime, kind: str, ticket_id: str) -> None:
        heapq.heappush(self.heap, (at, next(self.seq), kind, ticket_id))

    def _rng(self, ticket_id: str, what: str) -> random.Random:
        return random.Random(f"{self.seed}:{ticket_id}:{what}:{self.visits.get(ticket_id, 0)}")

    def _work(self, start: datetime, minutes: float) -> datetime:
        return self.calendar.add(start, timedelta(minutes=minutes))

    def _enqueue(self, worker: _Worker, task: str, ticket_id: str, front: bool = False) -> None:
        if front:
            worker.queue.insert(0, (task, ticket_id))
        else:
            worker.queue.append((task, ticket_id))
        self._dispatch(worker)

    def _dispatch(self, worker: _Worker) -> None:
        if worker is self.supervisors:
            while self.supervisors_free and worker.queue:
                name = self.supervisors_free.pop(0)
                task, ticket_id = worker.queue.pop(0)
                start = self.calendar.next_open(self.now)
                self._at(start, f"start:{task}:{name}", ticket_id)
            return
        if worker.busy or not worker.queue:
            return
        worker.busy = True
        task, ticket_id = worker.queue.pop(0)
        self._at(self.calendar.next_open(self.now), f"start:{task}:{worker.id}", ticket_id)

    def _free(self, who: str) -> None:
        if who in self.engineers:
            self.engineers[who].busy = False
            self._dispatch(self.engineers[who])
        else:
            self.supervisors_free.append(who)
            self._dispatch(self.supervisors)

    # -- the desk's notifications
    def _notified(self, notification: Any) -> None:
        ticket_id = notification.ticket_id
        if notification.survey is not None:
            arrival = self.arrivals[ticket_id]
            if arrival.draws[10] < 0.40:
                delay = timedelta(hours=-3 * _log(arrival.draws[11]))
                self._at(self.now + delay, "survey", ticket_id)
            return
        if notification.rule == "escalate-unanswered":
            self.escalations += 1
            self._enqueue(self.supervisors, "escalation", ticket_id, front=True)
            return
        self.warnings += 1
        worker = self.engineers.get(self.owner.get(ticket_id, ""))
        if worker is None:
            return
        for index, (_task, tid) in enumerate(worker.queue):
            if tid == ticket_id:
                worker.queue.insert(0, worker.queue.pop(index))
                break

    # -- the main loop
    def run(self, progress: Callable[[float], None] | None = None) -> RunResult:
        total = (self.end - datetime.combine(START, datetime.min.time(), SH)).total_seconds()
        while self.heap and self.heap[0][0] < self.end:
            at, _, kind, ticket_id = heapq.heappop(self.heap)
            self.now = max(self.now, at)
            self.desk.tick(self.now)
            self._handle(kind, ticket_id)
            if progress is not None:
                started = datetime.combine(START, datetime.min.time(), SH)
                progress((self.now - started).total_seconds() / total)
        self.now = self.end
        self.desk.tick(self.end)
        timelines = list(self.desk.timelines())
        self.desk.store.close()
        label = "after" if self.after else "before"
        return RunResult(label, timelines, self.end, self.escalations, self.warnings)

    def _handle(self, kind: str, ticket_id: str) -> None:
        if kind == "arrive":
            self._arrive(ticket_id)
        elif kind.startswith("start:"):
            _, task, who = kind.split(":")
            getattr(self, f"_task_{task}")(ticket_id, who)
        elif kind.startswith("done:"):
            self._free(kind.split(":")[1])
        elif kind == "callback":
            self._callback(ticket_id)
        elif kind == "customer_ready":
            self._resume(ticket_id, "customer_ready", Actor(self._customer(ticket_id)))
        elif kind == "parts_arrived":
            self._resume(ticket_id, "parts_arrived", Actor("d1", {"dispatcher"}))
        elif kind == "survey":
            self._survey(ticket_id)
        elif kind == "followup_due":
            self._enqueue(self.supervisors, "followup", ticket_id)
        else:
            step, who = kind.split(":")
            {"arrive_site": self._on_site, "repair": self._repair, "reply": self._reply}[step](
                ticket_id, who
            )

    def _customer(self, ticket_id: str) -> str:
        return self.arrivals[ticket_id].customer_id

    def _arrive(self, ticket_id: str) -> None:
        a = self.arrivals[ticket_id]
        ticket = self.desk.open_ticket(
            "repair",
            channel=a.channel,
            customer_id=a.customer_id,
            priority=a.priority,
            subject=f"{a.product} repair",
            ticket_id=ticket_id,
            fields={
                "address": f"{a.region} {a.customer_id}",
                "contact_phone": "+86 138 0000 0000",
                "region": a.region,
                "product": a.product,
            },
        )
        engineer = ticket.assignee or self.rng_engineer(ticket_id)
        self.owner[ticket_id] = engineer
        worker = self.engineers[engineer]
        self._enqueue(worker, "reply", ticket_id)
        self._enqueue(worker, "visit", ticket_id)

    def rng_engineer(self, ticket_id: str) -> str:
        return random.Random(f"{self.seed}:{ticket_id}:owner").choice(sorted(self.engineers))

    def _replied(self, ticket_id: str) -> bool:
        return any(
            e.kind == "message_added" and getattr(e, "direction", None) == "outbound"
            and getattr(e, "public", False)
            for e in self.desk.timeline(ticket_id)
        )  # fmt: skip

    def _task_reply(self, ticket_id: str, who: str) -> None:
        if self._replied(ticket_id) or self._status(ticket_id) in {"closed", "cancelled"}:
            self._free(who)
            return
        end = self._work(self.now, 10)
        self._at(end, f"reply:{who}", ticket_id)
        self._at(end, f"done:{who}", ticket_id)

    def _task_escalation(self, ticket_id: str, who: str) -> None:
        self._task_reply(ticket_id, who)

    def _status(self, ticket_id: str) -> str:
        return self.desk.ticket(ticket_id).status

    def _task_visit(self, ticket_id: str, who: str) -> None:
        status = self._status(ticket_id)
        if status in {"closed", "cancelled", "waiting_customer", "waiting_parts"}:
            self._free(who)
            return
        self.visits[ticket_id] = self.visits.get(ticket_id, 0) + 1
        rng = self._rng(ticket_id, "visit")
        a = self.arrivals[ticket_id]
        if status in {"new", "dispatched"}:
            if status == "new":
                self.desk.transition(
                    ticket_id, "dispatch", actor=Actor("d1", {"dispatcher"}),
                    data={"engineer": who},
                )  # fmt: skip
            elif self.desk.ticket(ticket_id).fields.get("engineer") != who:
                self.desk.transition(
                    ticket_id, "reject", actor=Actor(who, {"engineer"}),
                    data={"reject_reason": "reassigned"},
                )  # fmt: skip
                self.desk.transition(
                    ticket_id, "dispatch", actor=Actor("d1", {"dispatcher"}),
                    data={"engineer": who},
                )  # fmt: skip
            self.desk.transition(ticket_id, "accept", actor=Actor(who, {"engineer"}))
            if self.visits[ticket_id] == 1 and a.draws[0] < 0.12:
                self.desk.transition(ticket_id, "wait_customer", actor=Actor(who, {"engineer"}))
                if a.draws[1] >= 0.08:
                    delay = timedelta(hours=-5 * _log(a.draws[2]))
                    self._at(self.now + delay, "customer_ready", ticket_id)
                self._free(who)
                return
        travel = 30 + 30 * rng.random() + (0 if self.region[who] == a.region else 90)
        proficiency = self.skill[who].get(a.product, 0)
        repair = (45 + 75 * rng.random()) * (0.75 if proficiency >= 4 else 1.0)
        arrive = self._work(self.now, travel)
        done = self._work(arrive, repair)
        self._at(arrive, f"arrive_site:{who}", ticket_id)
        self._at(done, f"repair:{who}", ticket_id)
        self._at(done, f"done:{who}", ticket_id)

    def _resume(self, ticket_id: str, transition: str, actor: Actor) -> None:
        if self._status(ticket_id) not in {"waiting_customer", "waiting_parts"}:
            return  # cancelled meanwhile (no answer for 48 business hours)
        self.desk.transition(ticket_id, transition, actor=actor)
        self._enqueue(self.engineers[self.owner[ticket_id]], "visit", ticket_id, front=self.after)

    def _callback(self, ticket_id: str) -> None:
        if self._status(ticket_id) in {"repaired", "follow_up"}:
            self.reworked.add(ticket_id)
            self.desk.transition(ticket_id, "rework", actor=Actor("kf1", {"agent"}))
            self._enqueue(self.engineers[self.owner[ticket_id]], "visit", ticket_id)

    def _task_followup(self, ticket_id: str, who: str) -> None:
        if self._status(ticket_id) == "repaired":
            self.desk.transition(ticket_id, "follow_up", actor=Actor(who, {"agent"}))
            self.desk.transition(ticket_id, "close", actor=Actor(who, {"agent"}))
        self._at(self._work(self.now, 10), f"done:{who}", ticket_id)

    def _survey(self, ticket_id: str) -> None:
        a = self.arrivals[ticket_id]
        timeline = self.desk.timeline(ticket_id)
        created = timeline.ticket.created_at
        first = next(
            (e.at for e in timeline.messages("outbound", public=True)), timeline.updated_at
        )
        solved = next(
            (e.at for e in timeline.status_changes() if e.category in ("solved", "closed")),
            timeline.updated_at,
        )
        response_h = self.calendar.between(created, first) / timedelta(hours=1)
        resolution_h = self.calendar.between(created, solved) / timedelta(hours=1)
        m = SATISFACTION
        latent = (
            m["base"]
            - min(m["response_cap"], m["per_response_hour"] * max(0.0, response_h - 1))
            - min(m["resolution_cap"], m["per_resolution_hour"] * max(0.0, resolution_h - 8))
            - (m["rework"] if ticket_id in self.reworked else 0.0)
            + m["noise_sd"] * _normal(a.draws[12], a.draws[13])
        )
        score = max(SURVEY.low, min(SURVEY.high, round(latent)))
        self.desk.record_survey(ticket_id, SURVEY.name, score)

    def _on_site(self, ticket_id: str, who: str) -> None:
        if self._status(ticket_id) == "accepted":
            self.desk.transition(ticket_id, "arrive", actor=Actor(who, {"engineer"}))

    def _repair(self, ticket_id: str, who: str) -> None:
        if self._status(ticket_id) != "on_site":
            return
        a = self.arrivals[ticket_id]
        rng = self._rng(ticket_id, "outcome")
        engineer = Actor(who, {"engineer"})
        if self.visits[ticket_id] == 1 and a.draws[3] < 0.10:
            self.desk.transition(ticket_id, "wait_parts", actor=engineer, data={"parts": ["board"]})
            self._at(self.now + timedelta(days=1 + 2 * a.draws[4]), "parts_arrived", ticket_id)
            return
        self.desk.transition(ticket_id, "repair", actor=engineer, data={"repair_notes": "已维修"})
        proficiency = self.skill[who].get(a.product, 0)
        if rng.random() < REPAIR_FAILURE["base"] - REPAIR_FAILURE["per_point"] * proficiency:
            self._at(self.now + timedelta(days=1 + rng.random()), "callback", ticket_id)
        self._at(self.now + timedelta(days=2), "followup_due", ticket_id)

    def _reply(self, ticket_id: str, who: str) -> None:
        if not self._replied(ticket_id) and self._status(ticket_id) not in DONE:
            self.desk.reply(ticket_id, author=who)


def _log(u: float) -> float:
    return math.log(max(u, 1e-12))


def _normal(u1: float, u2: float) -> float:
    return math.sqrt(-2 * math.log(max(u1, 1e-12))) * math.cos(2 * math.pi * u2)


def run_desk(
    arrivals: list[Arrival],
    *,
    after: bool,
    seed: int,
    db: str,
    weeks: int,
    progress: Callable[[float], None] | None = None,
) -> RunResult:
    """Run one desk (``after=False``: manual; ``True``: csmkit) over the arrivals."""
    sim = _Simulation(arrivals, after=after, seed=seed, db=db, weeks=weeks)
    return sim.run(progress)
