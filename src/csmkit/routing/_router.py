"""The router: rule → escalation step → eligibility filters → strategy → decision."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from csmkit._pickling import rebuild
from csmkit._time import require_aware
from csmkit.errors import RoutingError
from csmkit.routing._agents import Agent, AgentPool, Presence
from csmkit.routing._calendar import ShiftCalendar
from csmkit.routing._choice import AgentScore, ChoiceCache
from csmkit.routing._decision import CandidateVerdict, Decision, Pick
from csmkit.routing._eligibility import INDEXED, Eligibility, Failure
from csmkit.routing._rules import EffectiveTarget, RoutingRule, RoutingRules
from csmkit.routing._select import RuleIndex, ticket_value
from csmkit.routing._state import RoutingState
from csmkit.routing._strategies import ChoiceContext, StrategyRegistry
from csmkit.timeline import Priority, Ticket

__all__ = ["Router"]

_MAX_POOLS = 8
_MAX_MEMO = 1 << 16


def _aware(value: object, name: str) -> datetime:
    return require_aware(value, name, RoutingError)


class Router:
    """Routes tickets with [`RoutingRules`][csmkit.routing.RoutingRules]; pure and deterministic.

    Args:
        rules: The rules, or their dict form (loaded with ``registry``).
        calendar: Business calendar for escalation timeouts; ``None`` counts plain
            elapsed time.
        registry: Strategy registry used when ``rules`` is given as a dict.

    How the escalation step is determined: the clock starts at ``since`` (by default the
    ticket's ``created_at``; pass the instant of the last ``Unassigned`` event when
    re-routing). Step *k* fires at ``calendar.add(since, steps[k].after)``; at ``now`` the
    steps whose instant is ``<= now`` are in force, and the first later one is
    ``next_escalation_at``.
    """

    def __init__(
        self,
        rules: RoutingRules | Mapping[str, Any],
        *,
        calendar: ShiftCalendar | None = None,
        registry: StrategyRegistry | None = None,
    ) -> None:
        """Build a router (see the class docstring)."""
        if isinstance(rules, Mapping):
            rules = RoutingRules.from_dict(rules, registry=registry)
        if not isinstance(rules, RoutingRules):
            raise RoutingError(f"rules: expected RoutingRules or a dict, got {rules!r}")
        if calendar is not None and not isinstance(calendar, ShiftCalendar):
            raise RoutingError(f"calendar: {calendar!r} has no is_open(at) and add(at, delta)")
        self.rules = rules
        self.calendar = calendar
        self._rules = RuleIndex(rules)
        # Splitting a target compiles its conditions: do it once per (rule, step).
        self._targets: dict[tuple[int, int], EffectiveTarget] = {}
        self._plans: dict[tuple[int, int], _Plan] = {}
        # Heaps per agent pool (see ``_choice``): a cache, never part of an answer.
        self._caches: dict[int, ChoiceCache] = {}
        self._caches_lock = threading.Lock()
        self._last_cache: ChoiceCache | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Compiled targets and heaps are caches (and a lock): keep them out of the pickle.
        return (rebuild, (Router, {"rules": self.rules, "calendar": self.calendar}))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Router):
            return NotImplemented
        return self.rules == other.rules and self.calendar == other.calendar

    def __hash__(self) -> int:
        return hash(self.rules)

    # ------------------------------------------------------------------ escalation
    def escalation_instants(self, rule: RoutingRule, since: datetime) -> tuple[datetime, ...]:
        """When each escalation step of ``rule`` fires for a ticket waiting since ``since``."""
        require_aware(since, "since", RoutingError)
        if self.calendar is None:
            return tuple(since + step.after for step in rule.steps)
        return tuple(self.calendar.add(since, step.after) for step in rule.steps)

    def effective_target(
        self, ticket: Ticket, now: datetime, *, since: datetime | None = None
    ) -> tuple[RoutingRule, EffectiveTarget, datetime | None]:
        """The rule, its state at ``now`` and the next escalation instant (as ``route``)."""
        start = ticket.created_at if since is None else _aware(since, "since")
        plan, next_at = self._plan(ticket, now, start)
        return plan.rule, plan.target, next_at

    # ------------------------------------------------------------------ routing
    def route(
        self,
        ticket: Ticket,
        agents: AgentPool | Iterable[Agent],
        state: RoutingState,
        now: datetime,
        *,
        since: datetime | None = None,
        exclude: Iterable[str] = (),
        explain: str = "full",
    ) -> Decision:
        """Choose an agent for ``ticket`` at ``now``, or queue it, and say why.

        Args:
            ticket: The ticket to route.
            agents: The agents (an [`AgentPool`][csmkit.routing.AgentPool] is indexed once and keeps
                the router's heaps; a list is indexed on every call).
            state: Load and assignment history snapshot.
            now: The instant of the decision.
            since: Start of the escalation clock (default ``ticket.created_at``).
            exclude: Agent ids that may not take it (e.g. they declined it).
            explain: How much the decision explains; the chosen agent is the same in
                every mode (every mode asks the same eligibility filters). ``"full"``: a
                verdict for every agent. ``"candidates"``: the indexes rule agents out
                without a verdict (counted under ``removed["indexes"]``). ``"chosen"``:
                verdicts only for the agents examined in score order up to the winner
                (the rest of the index candidates are counted under
                ``removed["unexamined"]``) and ``tied`` holds the winner alone; with a
                strategy offering ``agent_score`` and an [`AgentPool`][csmkit.routing.AgentPool],
                this costs O(log n) per decision.

        Raises:
            RoutingError: naive ``now``/``since``, a non-ticket, an unknown ``explain``.
        """
        choose = _EXPLAINERS.get(explain) if isinstance(explain, str) else None
        if choose is None:
            raise RoutingError(f"explain: {explain!r} is not 'full', 'candidates' or 'chosen'")
        now, start, plan, next_at = self._begin(ticket, state, now, since)
        request = _Request(ticket, agents, state, now, frozenset(exclude), plan)
        outcome = choose(self, request)
        return _decision(request, outcome, start, next_at, explain)

    def pick(
        self,
        ticket: Ticket,
        agents: AgentPool | Iterable[Agent],
        state: RoutingState,
        now: datetime,
        *,
        since: datetime | None = None,
        exclude: Iterable[str] = (),
    ) -> Pick:
        """The agent ``route()`` chooses (in every ``explain`` mode), without the
        explanation: no verdicts, no [`Decision`][csmkit.routing.Decision] (the cheapest
        way to route; ``route(..., explain="full")`` explains the same choice).

        Raises:
            RoutingError: as ``route``.
        """
        now, _, plan, next_at = self._begin(ticket, state, now, since)
        agent_score = plan.agent_score
        if agent_score is None or not isinstance(agents, AgentPool):
            request = _Request(ticket, agents, state, now, frozenset(exclude), plan)
            chosen = self._choose_chosen(request).chosen
        else:
            cache = self._cache_for(agents)
            key, ids, answered = self._candidate_ids(agents, ticket, plan, cache.memo)
            failure = Eligibility(
                ticket, plan.target, state, now, excluded=frozenset(exclude), answered=answered
            ).failure
            by_id = agents._by_id.__getitem__  # heap members are the pool's agents

            def accept(agent_id: str, score: tuple[float, ...]) -> bool:
                return failure(by_id(agent_id)) is None

            channel = ticket.channel
            with cache.lock:
                cache.sync(state)
                heap = cache.heap((key, channel), ids, agent_score, channel, plan.skills, state)
                chosen = cache.choose(heap, accept)[0]
        target = plan.target
        return Pick(
            ticket_id=ticket.id,
            at=now,
            agent=chosen,
            channel=ticket.channel,
            customer_id=ticket.customer_id,
            rule=plan.rule.name,
            step=target.step,
            group=target.group,
            next_escalation_at=next_at,
        )

    def _begin(
        self, ticket: Ticket, state: RoutingState, now: datetime, since: datetime | None
    ) -> tuple[datetime, datetime, _Plan, datetime | None]:
        """``route()``'s and ``pick()``'s checked arguments: the instant, the escalation
        start, the rule's plan at ``now`` and the next escalation instant."""
        now = _aware(now, "now")
        if not isinstance(ticket, Ticket):
            raise RoutingError(f"ticket: expected a Ticket, got {ticket!r}")
        if not isinstance(state, RoutingState):
            raise RoutingError(f"state: expected a RoutingState, got {state!r}")
        start = ticket.created_at if since is None else _aware(since, "since")
        plan, next_at = self._plan(ticket, now, start)
        return now, start, plan, next_at

    def _choose_chosen(self, request: _Request) -> _Outcome:
        """``explain="chosen"``: index candidates in score order, up to the first eligible."""
        pool, plan, state = request.pool, request.plan, request.state
        cache = self._cache_for(pool) if request.given_pool else None
        key, ids, answered = self._candidate_ids(
            pool, request.ticket, plan, None if cache is None else cache.memo
        )
        outcome = _Outcome(removed={"indexes": len(pool) - len(ids)})
        eligibility = request.eligibility(answered=answered)
        by_id = pool.get

        def accept(agent_id: str, score: tuple[float, ...]) -> bool:
            agent = by_id(agent_id)
            assert agent is not None
            return outcome.record(agent_id, eligibility.failure(agent), score)

        channel = request.ticket.channel
        if plan.agent_score is not None and cache is not None:
            with cache.lock:
                cache.sync(state)
                heap = cache.heap(
                    (key, channel), ids, plan.agent_score, channel, plan.skills, state
                )
                chosen, examined = cache.choose(heap, accept)
        else:
            score = plan.target.strategy.score
            context = request.choice_context()
            ordered = sorted((tuple(score(pool[i], context)), i) for i in ids)
            chosen, examined = None, 0
            for agent_score, agent_id in ordered:
                examined += 1
                if accept(agent_id, agent_score):
                    chosen = agent_id
                    break
        if len(ids) > examined:
            outcome.removed["unexamined"] = len(ids) - examined
        outcome.chosen = chosen
        outcome.tied = () if chosen is None else (chosen,)
        return outcome

    def _choose_candidates(self, request: _Request) -> _Outcome:
        """``explain="candidates"``: a verdict for every agent the indexes let through."""
        pool, excluded = request.pool, request.excluded
        memo = self._cache_for(pool).memo if request.given_pool else None
        _, ids, answered = self._candidate_ids(pool, request.ticket, request.plan, memo)
        examined = [pool[i] for i in sorted(ids) if i not in excluded]
        outcome = _Outcome(removed={"indexes": len(pool) - len(examined)})
        return _score_eligible(request, examined, request.eligibility(answered=answered), outcome)

    def _choose_full(self, request: _Request) -> _Outcome:
        """``explain="full"``: every agent of the pool gets a verdict."""
        examined = sorted(request.pool, key=_agent_id)
        return _score_eligible(request, examined, request.eligibility(), _Outcome())

    def _plan(
        self, ticket: Ticket, now: datetime, start: datetime
    ) -> tuple[_Plan, datetime | None]:
        """The compiled plan of the rule and step in force, and the next escalation."""
        rule = self._rules.select(ticket)
        if rule.steps:
            instants = self.escalation_instants(rule, start)
            fired = sum(1 for instant in instants if instant <= now)
            next_at = instants[fired] if fired < len(instants) else None
        else:
            fired, next_at = 0, None
        key = (id(rule), fired)
        plan = self._plans.get(key)
        if plan is None:
            target = self._targets.get(key)
            if target is None:
                target = self._targets[key] = rule.at_step(fired)
            plan = self._plans[key] = _Plan(rule, target)
        return plan, next_at

    def _cache_for(self, pool: AgentPool) -> ChoiceCache:
        """The heap cache of ``pool`` (a few pools are kept, the oldest dropped)."""
        last = self._last_cache
        if last is not None and last.pool is pool:
            return last
        with self._caches_lock:
            cache = self._caches.get(id(pool))
            if cache is None or cache.pool is not pool:
                if len(self._caches) >= _MAX_POOLS:
                    del self._caches[next(iter(self._caches))]
                cache = self._caches[id(pool)] = ChoiceCache(pool)
            self._last_cache = cache
            return cache

    def is_eligible(
        self,
        agent: Agent,
        ticket: Ticket,
        target: EffectiveTarget,
        state: RoutingState,
        now: datetime,
    ) -> bool:
        """Whether ``agent`` passes every filter of ``target`` (the filters ``route`` asks)."""
        return Eligibility(ticket, target, state, now).failure(agent) is None

    @staticmethod
    def _candidate_ids(
        pool: AgentPool, ticket: Ticket, plan: _Plan, memo: dict[Any, Any] | None
    ) -> tuple[Any, frozenset[str], frozenset[str]]:
        """Ids passing every index-answerable filter and the names of the filters
        answered for them (those filters and ``INDEXED``).

        Also returns a key naming that set for ``pool`` and ``plan``. ``memo`` (kept per
        pool) remembers the answer per plan and ticket values.
        """
        values = []
        memo_values = []
        for path in plan.ticket_paths:
            value = None if path is None else ticket_value(ticket, path)
            values.append(value)
            memo_values.append(value if type(value) is str else _memo_value(value))
        key = (plan, tuple(memo_values))
        if memo is not None:
            hit = memo.get(key)
            if hit is not None:
                return hit  # type: ignore[no-any-return]
        target = plan.target
        sets: list[frozenset[str]] = [
            pool.with_value("presence", Presence.AVAILABLE.value) or frozenset()
        ]
        keys: list[Any] = [("presence",)]
        done: list[str] = []
        if target.group is not None:
            sets.append(pool.in_group(target.group))
            keys.append(("group", target.group))
        for item, value in zip(plan.indexable, values, strict=True):
            found = item.lookup_value(pool, value)
            if found is not None:
                keys.append(found[0])
                sets.append(found[1])
                done.append(item.name)
        if len(sets) == 1:
            ids = sets[0]
        else:

            def build() -> frozenset[str]:
                smallest, *others = sorted(sets, key=len)
                return frozenset(i for i in smallest if all(i in other for other in others))

            ids = pool.intersect_cached(("and", tuple(keys)), build)
        result = (key, ids, INDEXED | frozenset(done))
        if memo is not None:
            if len(memo) > _MAX_MEMO:
                memo.clear()
            memo[key] = result
        return result


class _Request:
    """One call of [`Router.route()`][csmkit.routing.Router.route], its arguments checked."""

    __slots__ = ("excluded", "given_pool", "now", "plan", "pool", "state", "ticket")

    def __init__(
        self,
        ticket: Ticket,
        agents: AgentPool | Iterable[Agent],
        state: RoutingState,
        now: datetime,
        excluded: frozenset[str],
        plan: _Plan,
    ) -> None:
        self.ticket = ticket
        self.given_pool = isinstance(agents, AgentPool)
        self.pool = agents if isinstance(agents, AgentPool) else AgentPool(agents)
        self.state = state
        self.now = now
        self.excluded = excluded
        self.plan = plan

    def eligibility(self, answered: frozenset[str] = frozenset()) -> Eligibility:
        """The filters of this decision, minus those ``answered`` by the indexes."""
        return Eligibility(
            self.ticket,
            self.plan.target,
            self.state,
            self.now,
            excluded=self.excluded,
            answered=answered,
        )

    def choice_context(self) -> ChoiceContext:
        """What the strategy's ``score`` sees."""
        return ChoiceContext(
            ticket=self.ticket,
            state=self.state,
            now=self.now,
            channel=self.ticket.channel,
            skills=self.plan.skills,
        )


class _Outcome:
    """What a way of choosing found: the agent, ties, verdicts and removal counts."""

    __slots__ = ("chosen", "removed", "tied", "verdicts")

    def __init__(self, removed: dict[str, int] | None = None) -> None:
        self.chosen: str | None = None
        self.tied: tuple[str, ...] = ()
        self.verdicts: list[CandidateVerdict] = []
        self.removed: dict[str, int] = {} if removed is None else removed

    def record(
        self, agent_id: str, failure: Failure | None, score: tuple[float, ...] | None
    ) -> bool:
        """Note one agent's verdict; whether it is eligible."""
        if failure is None:
            self.verdicts.append(CandidateVerdict(agent=agent_id, score=score))
            return True
        name, reason = failure
        self.removed[name] = self.removed.get(name, 0) + 1
        self.verdicts.append(CandidateVerdict(agent=agent_id, removed_by=name, reason=reason))
        return False


def _score_eligible(
    request: _Request, examined: list[Agent], eligibility: Eligibility, outcome: _Outcome
) -> _Outcome:
    """Verdicts for ``examined``; the best score wins, the lowest id among equals."""
    failure = eligibility.failure
    eligible = []
    for agent in examined:
        found = failure(agent)
        if found is None:
            eligible.append(agent)
        else:
            outcome.record(agent.id, found, None)
    score = request.plan.target.strategy.score
    context = request.choice_context()
    scores = {agent.id: tuple(score(agent, context)) for agent in eligible}
    for agent_id, agent_score in scores.items():
        outcome.record(agent_id, None, agent_score)
    if scores:
        best = min(scores.values())
        outcome.tied = tuple(sorted(a for a, s in scores.items() if s == best))
        outcome.chosen = outcome.tied[0]
    return outcome


def _decision(
    request: _Request,
    outcome: _Outcome,
    start: datetime,
    next_at: datetime | None,
    explain: str,
) -> Decision:
    """The [`Decision`][csmkit.routing.Decision] of a routing call (verdicts in agent id order)."""
    ticket, plan = request.ticket, request.plan
    target = plan.target
    priority = ticket.priority
    if target.priority is not None and target.priority > priority:
        priority = target.priority
    verdicts = outcome.verdicts
    return Decision(
        ticket_id=ticket.id,
        at=request.now,
        agent=outcome.chosen,
        channel=ticket.channel,
        customer_id=ticket.customer_id,
        rule=plan.rule.name,
        step=target.step,
        group=target.group,
        target=plan.target_text,
        strategy=plan.strategy_spec,
        # ``_value_``: the member's value without the enum property's two calls
        priority=priority._value_
        if isinstance(priority, Priority)
        else Priority.parse(priority).value,
        waiting_since=start,
        next_escalation_at=next_at,
        candidates=tuple(verdicts)
        if len(verdicts) < 2  # "chosen" usually examines one agent: nothing to sort
        else tuple(sorted(verdicts, key=_verdict_agent)),
        removed=outcome.removed,
        tied=outcome.tied,
        explain=explain,
    )


_EXPLAINERS: dict[str, Callable[[Router, _Request], _Outcome]] = {
    "full": Router._choose_full,
    "candidates": Router._choose_candidates,
    "chosen": Router._choose_chosen,
}
"""How each ``explain`` mode chooses (all of them ask the same `Eligibility`)."""


class _Plan:
    """A rule at one escalation step, with everything a decision reuses precomputed."""

    __slots__ = (
        "agent_score",
        "indexable",
        "rule",
        "skills",
        "strategy_spec",
        "target",
        "target_text",
        "ticket_paths",
    )

    def __init__(self, rule: RoutingRule, target: EffectiveTarget) -> None:
        self.rule = rule
        self.target = target
        self.skills = target.skills
        self.strategy_spec = target.strategy.spec()
        self.indexable = tuple(f for f in target.filters if f.plan is not None)
        self.ticket_paths = tuple(f.ticket_path for f in self.indexable)
        self.agent_score: AgentScore | None = getattr(target.strategy, "agent_score", None)
        self.target_text = (
            " and ".join(
                f"({f.condition})" if len(target.filters) > 1 else str(f.condition)
                for f in target.filters
            )
            or None
        )


_NAN = object()


def _memo_value(value: Any) -> Any:
    """A ticket value as a memo key: unhashable values are never indexed (like ``None``)."""
    try:
        hash(value)
    except TypeError:
        return None
    if isinstance(value, float) and math.isnan(value):
        return _NAN  # NaN never equals itself: one key for all of them
    return value


def _agent_id(agent: Agent) -> str:
    return agent.id


def _verdict_agent(verdict: CandidateVerdict) -> str:
    return verdict.agent
