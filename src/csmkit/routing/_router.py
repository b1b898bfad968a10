"""The router: rule → escalation step → eligibility filters → strategy → decision."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from csmkit._pickling import rebuild
from csmkit._time import require_aware
from csmkit.conditions import resolve
from csmkit.errors import RoutingError
from csmkit.routing._agents import Agent, AgentPool, Presence
from csmkit.routing._calendar import ShiftCalendar
from csmkit.routing._choice import AgentScore, ChoiceCache
from csmkit.routing._decision import CandidateVerdict, Decision
from csmkit.routing._rules import EffectiveTarget, RoutingRule, RoutingRules
from csmkit.routing._select import RuleIndex
from csmkit.routing._state import RoutingState
from csmkit.routing._strategies import ChoiceContext, StrategyRegistry
from csmkit.timeline import Priority, Ticket

__all__ = ["FILTER_ORDER", "Router"]

FILTER_ORDER: tuple[str, ...] = ("excluded", "presence", "group", "target[i]", "shift", "capacity")
"""The order eligibility filters run in; an agent is reported under the first that fails."""

_EXPLAIN = frozenset({"full", "candidates", "chosen"})
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
        """The rule, its state at ``now`` and the next escalation instant."""
        rule = self._rules.select(ticket)
        start = ticket.created_at if since is None else _aware(since, "since")
        instants = self.escalation_instants(rule, start)
        fired = sum(1 for instant in instants if instant <= now)
        key = (id(rule), fired)
        target = self._targets.get(key)
        if target is None:
            target = self._targets[key] = rule.at_step(fired)
        return rule, target, instants[fired] if fired < len(instants) else None

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
                every mode. ``"full"``: a verdict for every agent. ``"candidates"``: the
                indexes rule agents out without a verdict (counted under
                ``removed["indexes"]``). ``"chosen"``: verdicts only for the agents
                examined in score order up to the winner (the rest of the index
                candidates are counted under ``removed["unexamined"]``) and ``tied``
                holds the winner alone; with a strategy offering ``agent_score`` and an
                [`AgentPool`][csmkit.routing.AgentPool], this costs O(log n) per decision.

        Raises:
            RoutingError: naive ``now``/``since``, a non-ticket, an unknown ``explain``.
        """
        now = _aware(now, "now")
        if not isinstance(ticket, Ticket):
            raise RoutingError(f"ticket: expected a Ticket, got {ticket!r}")
        if not isinstance(state, RoutingState):
            raise RoutingError(f"state: expected a RoutingState, got {state!r}")
        if explain not in _EXPLAIN:
            raise RoutingError(f"explain: {explain!r} is not 'full', 'candidates' or 'chosen'")
        given_pool = isinstance(agents, AgentPool)
        pool = agents if isinstance(agents, AgentPool) else AgentPool(agents)
        excluded = frozenset(exclude)
        start = ticket.created_at if since is None else _aware(since, "since")
        plan, next_at = self._plan(ticket, now, start)
        target = plan.target
        channel = ticket.channel
        shift_cache: dict[int, bool] = {}

        def dynamic_failure(agent: Agent) -> tuple[str, str] | None:
            shift = agent.shift
            if shift is not None:
                is_open = shift_cache.get(id(shift))
                if is_open is None:
                    is_open = shift_cache[id(shift)] = bool(shift.is_open(now))
                if not is_open:
                    label = f"shift {agent.shift_name!r}" if agent.shift_name else "shift"
                    return ("shift", f"{label} is closed at {now.isoformat()}")
            loads = state.loads(agent.id)
            if agent.headroom(channel, loads) < 1:
                return ("capacity", f"no room for a {channel!r} ticket (load {dict(loads)})")
            return None

        removed: dict[str, int] = {}
        verdicts: list[CandidateVerdict] = []
        chosen: str | None = None
        tied: tuple[str, ...] = ()
        cache = self._cache_for(pool) if given_pool else None
        memo = None if cache is None else cache.memo
        if explain == "chosen":
            key, ids, indexed = self._candidate_ids(pool, ticket, plan, memo)
            removed["indexes"] = len(pool) - len(ids)

            # Index candidates are available and in the group: only exclusions, the
            # filters the indexes did not answer, shift and capacity remain.
            residual = (
                [f for f in target.filters if f.name not in indexed] if indexed else target.filters
            )
            by_id = pool.get

            def accept(agent_id: str, score: tuple[float, ...]) -> bool:
                agent = by_id(agent_id)
                assert agent is not None
                failure: tuple[str, str] | None = None
                if agent_id in excluded:
                    failure = ("excluded", "excluded for this ticket")
                elif residual:
                    context = {"agent": agent.view, "ticket": ticket}
                    for item in residual:
                        if not item.condition.evaluate(context):
                            failure = (item.name, item.describe_failure(context))
                            break
                if failure is None:
                    failure = dynamic_failure(agent)
                if failure is None:
                    verdicts.append(CandidateVerdict(agent=agent_id, score=score))
                    return True
                removed[failure[0]] = removed.get(failure[0], 0) + 1
                verdicts.append(
                    CandidateVerdict(agent=agent_id, removed_by=failure[0], reason=failure[1])
                )
                return False

            if plan.agent_score is not None and cache is not None:
                with cache.lock:
                    cache.sync(state)
                    heap = cache.heap(
                        (key, channel),
                        ids,
                        plan.agent_score,
                        channel,
                        plan.skills,
                        state,
                    )
                    chosen, examined = cache.choose(heap, accept)
            else:
                context = ChoiceContext(
                    ticket=ticket, state=state, now=now, channel=channel, skills=plan.skills
                )
                score = target.strategy.score
                ordered = sorted((tuple(score(pool[i], context)), i) for i in ids)
                examined = 0
                for agent_score, agent_id in ordered:
                    examined += 1
                    if accept(agent_id, agent_score):
                        chosen = agent_id
                        break
            if len(ids) > examined:
                removed["unexamined"] = len(ids) - examined
            tied = () if chosen is None else (chosen,)
        else:
            if explain == "full":
                examined_agents = sorted(pool, key=_agent_id)
                indexed_filters: frozenset[str] = frozenset()
            else:
                _, ids, indexed_filters = self._candidate_ids(pool, ticket, plan, memo)
                examined_agents = [pool[i] for i in sorted(ids) if i not in excluded]
                removed["indexes"] = len(pool) - len(examined_agents)
            eligible: list[Agent] = []
            for agent in examined_agents:
                failure = self._static_failure(
                    agent, ticket, target, excluded, indexed_filters
                ) or dynamic_failure(agent)
                if failure is None:
                    eligible.append(agent)
                else:
                    removed[failure[0]] = removed.get(failure[0], 0) + 1
                    verdicts.append(
                        CandidateVerdict(agent=agent.id, removed_by=failure[0], reason=failure[1])
                    )
            context = ChoiceContext(
                ticket=ticket, state=state, now=now, channel=channel, skills=plan.skills
            )
            score = target.strategy.score
            scores = {agent.id: tuple(score(agent, context)) for agent in eligible}
            for agent_id, agent_score in scores.items():
                verdicts.append(CandidateVerdict(agent=agent_id, score=agent_score))
            verdicts.sort(key=_verdict_agent)
            if scores:
                best = min(scores.values())
                tied = tuple(sorted(a for a, s in scores.items() if s == best))
                chosen = tied[0]
        if explain == "chosen":
            verdicts.sort(key=_verdict_agent)
        priority = ticket.priority
        if target.priority is not None and target.priority > priority:
            priority = target.priority
        return Decision(
            ticket_id=ticket.id,
            at=now,
            agent=chosen,
            channel=channel,
            customer_id=ticket.customer_id,
            rule=plan.rule.name,
            step=target.step,
            group=target.group,
            target=plan.target_text,
            strategy=plan.strategy_spec,
            priority=priority.value
            if isinstance(priority, Priority)
            else Priority.parse(priority).value,
            waiting_since=start,
            next_escalation_at=next_at,
            candidates=tuple(verdicts),
            removed=removed,
            tied=tied,
            explain=explain,
        )

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
        """Whether ``agent`` passes every filter of ``target`` (the reference check)."""
        if self._static_failure(agent, ticket, target, frozenset(), frozenset()) is not None:
            return False
        if agent.shift is not None and not agent.shift.is_open(now):
            return False
        return agent.headroom(ticket.channel, state.loads(agent.id)) >= 1

    # ------------------------------------------------------------------ filters
    @staticmethod
    def _static_failure(
        agent: Agent,
        ticket: Ticket,
        target: EffectiveTarget,
        excluded: frozenset[str],
        skip: frozenset[str],
    ) -> tuple[str, str] | None:
        if agent.id in excluded:
            return ("excluded", "excluded for this ticket")
        if agent.presence is not Presence.AVAILABLE:
            return ("presence", f"presence is {agent.presence.value!r}")
        if target.group is not None and target.group not in agent.groups:
            return ("group", f"not in group {target.group!r} (groups {sorted(agent.groups)})")
        if target.filters:
            context = {"agent": agent.view, "ticket": ticket}
            for item in target.filters:
                if item.name in skip:
                    continue
                if not item.condition.evaluate(context):
                    return (item.name, item.describe_failure(context))
        return None

    @staticmethod
    def _candidate_ids(
        pool: AgentPool, ticket: Ticket, plan: _Plan, memo: dict[Any, Any] | None
    ) -> tuple[Any, frozenset[str], frozenset[str]]:
        """Ids passing every index-answerable filter and the names of those filters.

        Also returns a key naming that set for ``pool`` and ``plan``. ``memo`` (kept per
        pool) remembers the answer per plan and ticket values.
        """
        context = {"ticket": ticket}
        values = tuple(
            None if path is None else resolve(context, path) for path in plan.ticket_paths
        )
        key = (plan, tuple(_memo_value(v) for v in values) if values else values)
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
        result = (key, ids, frozenset(done))
        if memo is not None:
            if len(memo) > _MAX_MEMO:
                memo.clear()
            memo[key] = result
        return result


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
