"""SLA policies: targets per priority, business or calendar time, warnings, pauses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from csmkit._duration import format_duration, parse_duration
from csmkit.conditions import Condition
from csmkit.errors import ConditionError, DurationError, SlaPolicyError
from csmkit.timeline import Priority, StatusCategory, Ticket, Timeline

if TYPE_CHECKING:
    from csmkit.sla._calendar import BusinessCalendar
    from csmkit.sla._clock import SlaReport

__all__ = ["DEFAULT_WARNINGS", "TARGET_NAMES", "SlaPolicy", "SlaPolicySet", "SlaTarget"]

TARGET_NAMES = ("first_response", "next_response", "resolution", "periodic_update")
"""The targets an SLA policy can set (see the docs for when each starts and stops)."""

DEFAULT_WARNINGS = (0.5, 0.75)
"""Warning thresholds used when a target names none (ServiceNow's defaults)."""

_DEFAULT_PAUSE = {"resolution": frozenset({StatusCategory.PENDING, StatusCategory.ON_HOLD})}
_PAUSABLE = (
    StatusCategory.NEW,
    StatusCategory.OPEN,
    StatusCategory.PENDING,
    StatusCategory.ON_HOLD,
)
_TARGET_KEYS = ("goals", "business", "warnings", "pause")


def _default_pause(name: str) -> frozenset[StatusCategory]:
    return _DEFAULT_PAUSE.get(name, frozenset())


def _target_problems(target: SlaTarget, path: str) -> list[str]:
    problems = []
    if target.name not in TARGET_NAMES:
        problems.append(
            f"{path}: unknown target {target.name!r}; expected one of {', '.join(TARGET_NAMES)}"
        )
    if not target.goals:
        problems.append(f"{path}.goals: at least one priority needs a goal")
    seen = set()
    for priority, goal in target.goals:
        if priority in seen:
            problems.append(f"{path}.goals.{priority}: given twice")
        seen.add(priority)
        if not isinstance(goal, timedelta) or goal <= timedelta(0):
            problems.append(f"{path}.goals.{priority}: {goal!r} is not a positive duration")
    for i, fraction in enumerate(target.warnings):
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, (int, float))
            or not 0 < fraction < 1
        ):
            problems.append(
                f"{path}.warnings[{i}]: {fraction!r} is not a fraction strictly between 0 and 1"
            )
    if len(set(target.warnings)) != len(target.warnings):
        problems.append(f"{path}.warnings: a threshold is listed twice")
    for category in target.pause:
        if category not in _PAUSABLE:
            problems.append(
                f"{path}.pause: {category!r} cannot pause a clock (solved/closed stop it)"
            )
    return problems


@attrs.frozen
class SlaTarget:
    """One target of a policy, e.g. "resolve urgent tickets within 4 business hours".

    Attributes:
        name: One of [`TARGET_NAMES`][csmkit.sla.TARGET_NAMES].
        goals: ``(priority, duration)`` pairs, lowest priority first. A ticket whose
            priority has no goal is not measured against this target.
        business: Count business time on the calendar (``True``) or calendar time.
        warnings: Fractions of the goal at which a warning is due, ascending.
        pause: Status categories in which the clock stands still.

    Raises:
        SlaPolicyError: unknown name, no goals, non-positive durations, warning
            fractions outside (0, 1), or ``solved``/``closed`` as a pause category.
    """

    name: str
    goals: tuple[tuple[Priority, timedelta], ...]
    business: bool = True
    warnings: tuple[float, ...] = DEFAULT_WARNINGS
    pause: frozenset[StatusCategory] = frozenset()

    def __attrs_post_init__(self) -> None:
        problems = _target_problems(self, f"targets.{self.name}")
        if problems:
            raise SlaPolicyError("invalid SLA target:\n  - " + "\n  - ".join(problems))

    def goal_for(self, priority: Priority | str) -> timedelta | None:
        """The goal for ``priority``, or ``None`` when the target does not apply to it."""
        for level, goal in self.goals:
            if level == priority:
                return goal
        return None

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any], *, path: str = "") -> SlaTarget:
        """Build a target from ``{"goals": {"urgent": "1h", ...}, "business": true,
        "warnings": [0.5, 0.75], "pause": ["pending", "on_hold"]}``.

        Raises:
            SlaPolicyError: every problem found, each naming its path.
        """
        where = path or f"targets.{name}"
        problems = _parse_target(name, data, where)
        if isinstance(problems, SlaTarget):
            return problems
        raise SlaPolicyError("invalid SLA target:\n  - " + "\n  - ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form (every key written out)."""
        return {
            "goals": {str(p): format_duration(g, days=False) for p, g in self.goals},
            "business": self.business,
            "warnings": list(self.warnings),
            "pause": sorted(str(c) for c in self.pause),
        }


def _parse_target(name: str, data: object, path: str) -> SlaTarget | list[str]:
    problems: list[str] = []
    if name not in TARGET_NAMES:
        problems.append(
            f"{path}: unknown target {name!r}; expected one of {', '.join(TARGET_NAMES)}"
        )
    if not isinstance(data, Mapping):
        return [*problems, f"{path}: expected a mapping, got {data!r}"]
    for key in data:
        if key not in _TARGET_KEYS:
            problems.append(f"{path}.{key}: unknown key; expected one of {_TARGET_KEYS}")
    goals: list[tuple[Priority, timedelta]] = []
    raw_goals = data.get("goals")
    # a day of business time is ambiguous (24 business hours or one working day?)
    days = data.get("business", True) is False
    if not isinstance(raw_goals, Mapping) or not raw_goals:
        problems.append(f"{path}.goals: expected {{priority: duration}}, e.g. {{'high': '4h'}}")
    else:
        for key, value in raw_goals.items():
            try:
                priority = Priority.parse(key)
            except ValueError:
                problems.append(
                    f"{path}.goals.{key}: unknown priority; expected low, normal, high, urgent"
                )
                continue
            try:
                goals.append((priority, parse_duration(value, f"{path}.goals.{key}", days=days)))
            except DurationError as exc:
                problems.append(str(exc))
    business = data.get("business", True)
    if not isinstance(business, bool):
        problems.append(f"{path}.business: expected true or false, got {business!r}")
    warnings = data.get("warnings", list(DEFAULT_WARNINGS))
    fractions: list[float] = []
    if not isinstance(warnings, (list, tuple)):
        problems.append(f"{path}.warnings: expected a list of fractions, got {warnings!r}")
    else:
        for i, value in enumerate(warnings):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
                problems.append(
                    f"{path}.warnings[{i}]: {value!r} is not a fraction strictly between 0 and 1"
                )
            else:
                fractions.append(float(value))
    raw_pause = data.get("pause")
    pause: set[StatusCategory] = set(_default_pause(name))
    if raw_pause is not None:
        pause = set()
        if not isinstance(raw_pause, (list, tuple)):
            problems.append(f"{path}.pause: expected a list of status categories")
        else:
            for i, value in enumerate(raw_pause):
                try:
                    category = StatusCategory(value)
                except ValueError:
                    problems.append(f"{path}.pause[{i}]: unknown status category {value!r}")
                    continue
                if category not in _PAUSABLE:
                    problems.append(
                        f"{path}.pause[{i}]: {value!r} cannot pause a clock (it stops it)"
                    )
                pause.add(category)
    if problems:
        return problems
    try:
        return SlaTarget(
            name=name,
            goals=tuple(sorted(goals, key=lambda item: item[0].rank)),
            business=business,
            warnings=tuple(sorted(fractions)),
            pause=frozenset(pause),
        )
    except SlaPolicyError as exc:
        return [str(exc)]


def _context(ticket: Ticket) -> dict[str, Any]:
    context: dict[str, Any] = {f.name: getattr(ticket, f.name) for f in attrs.fields(Ticket)}
    context["ticket"] = ticket
    return context


@attrs.frozen
class SlaPolicy:
    """A named set of SLA targets, optionally limited to tickets matching a condition.

    Attributes:
        name: The policy's name.
        targets: Its targets, at most one per target name.
        when: Which tickets it applies to (``None``: any ticket; the default policy of
            an [`SlaPolicySet`][csmkit.sla.SlaPolicySet]). Names in the condition are the ticket's
            attributes (``priority``, ``type``, ``fields.region`` …) or ``ticket.*``.

    Raises:
        SlaPolicyError: an empty name or two targets with the same name.
    """

    name: str
    targets: tuple[SlaTarget, ...]
    when: Condition | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SlaPolicyError(f"name: a policy needs a non-empty name, got {self.name!r}")
        names = [t.name for t in self.targets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise SlaPolicyError(f"policy {self.name!r}: targets {duplicates} given twice")

    def target(self, name: str) -> SlaTarget | None:
        """The target called ``name``, or ``None``."""
        return next((t for t in self.targets if t.name == name), None)

    def matches(self, ticket: Ticket) -> bool:
        """Whether the policy applies to ``ticket`` (always, when it has no condition)."""
        return self.when is None or self.when.evaluate(_context(ticket))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str = "") -> SlaPolicy:
        """Build a policy from ``{"name": ..., "when": ..., "targets": {...}}``.

        Raises:
            SlaPolicyError: every problem found, each naming its path.
        """
        prefix = f"{path}." if path else ""
        if not isinstance(data, Mapping):
            raise SlaPolicyError(f"{path or 'policy'}: expected a mapping, got {data!r}")
        problems: list[str] = []
        for key in data:
            if key not in ("name", "when", "targets"):
                problems.append(f"{prefix}{key}: unknown key; expected name, when, targets")
        name = data.get("name")
        if not isinstance(name, str) or not name:
            problems.append(f"{prefix}name: a policy needs a non-empty name")
        when = None
        if data.get("when") is not None:
            try:
                when = Condition.coerce(data["when"])
            except ConditionError as exc:
                problems.append(f"{prefix}when: {exc}")
        targets: list[SlaTarget] = []
        raw = data.get("targets")
        if not isinstance(raw, Mapping) or not raw:
            problems.append(f"{prefix}targets: expected a mapping of target names to targets")
        else:
            for key, value in raw.items():
                result = _parse_target(str(key), value, f"{prefix}targets.{key}")
                if isinstance(result, SlaTarget):
                    targets.append(result)
                else:
                    problems.extend(result)
        if problems:
            raise SlaPolicyError("invalid SLA policy:\n  - " + "\n  - ".join(problems))
        return cls(name=str(name), targets=tuple(targets), when=when)

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form; ``SlaPolicy.from_dict(p.to_dict()) == p``."""
        out: dict[str, Any] = {"name": self.name}
        if self.when is not None:
            out["when"] = str(self.when)
        out["targets"] = {t.name: t.to_dict() for t in self.targets}
        return out

    def evaluate(
        self,
        timeline: Timeline,
        *,
        calendar: BusinessCalendar | None = None,
        now: datetime,
    ) -> SlaReport:
        """Run this policy's clocks over ``timeline`` as of ``now`` (events after ``now``
        are ignored). The condition ``when`` is not consulted: use
        [`SlaPolicySet.evaluate()`][csmkit.sla.SlaPolicySet.evaluate] to select a policy per ticket.

        Raises:
            SlaPolicyError: ``now`` naive or before the ticket's creation, or a
                business-time target without a ``calendar``.
            CalendarError: the clock needs business time outside the calendar's
                covered range.
        """
        from csmkit.sla._clock import evaluate

        return evaluate(self, timeline, calendar=calendar, now=now)


@attrs.frozen
class SlaPolicySet:
    """Policies tried in order; the first whose condition matches the ticket applies.

    A policy without ``when`` is the default, used when no other matches; at most one
    is allowed and it is tried last wherever it stands.

    Raises:
        SlaPolicyError: two defaults, or two policies with the same name.
    """

    policies: tuple[SlaPolicy, ...]

    def __attrs_post_init__(self) -> None:
        defaults = [p.name for p in self.policies if p.when is None]
        if len(defaults) > 1:
            raise SlaPolicyError(f"policies: only one default (no 'when') allowed: {defaults}")
        names = [p.name for p in self.policies]
        if len(set(names)) != len(names):
            raise SlaPolicyError(f"policies: names must be unique, got {names}")

    def select(self, ticket: Ticket) -> SlaPolicy | None:
        """The policy for ``ticket``: first matching condition, else the default."""
        for policy in self.policies:
            if policy.when is not None and policy.matches(ticket):
                return policy
        return next((p for p in self.policies if p.when is None), None)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicySet:
        """Build from ``{"policies": [{...}, ...]}``.

        Raises:
            SlaPolicyError: every problem found, each naming its path
                (``policies[1].targets.resolution.goals.high``).
        """
        if not isinstance(data, Mapping) or set(data) != {"policies"}:
            raise SlaPolicyError("expected {'policies': [...]}")
        raw = data["policies"]
        if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
            raise SlaPolicyError("policies: expected a non-empty list of policies")
        policies, problems = [], []
        for i, item in enumerate(raw):
            try:
                policies.append(SlaPolicy.from_dict(item, path=f"policies[{i}]"))
            except SlaPolicyError as exc:
                problems.append(str(exc).replace("invalid SLA policy:\n  - ", ""))
        if problems:
            raise SlaPolicyError("invalid SLA policies:\n  - " + "\n  - ".join(problems))
        return cls(policies=tuple(policies))

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form; ``SlaPolicySet.from_dict(s.to_dict()) == s``."""
        return {"policies": [p.to_dict() for p in self.policies]}

    def evaluate(
        self,
        timeline: Timeline,
        *,
        calendar: BusinessCalendar | None = None,
        now: datetime,
    ) -> SlaReport:
        """Select the policy for the ticket as it is at ``now`` and run its clocks.

        With no matching policy the report has ``policy=None`` and no cycles.
        """
        from csmkit.sla._clock import evaluate, no_policy_report

        if not isinstance(timeline, Timeline):
            raise SlaPolicyError(f"timeline must be a Timeline, got {type(timeline).__name__}")
        try:
            ticket = timeline.state_at(now)
        except ValueError as exc:
            raise SlaPolicyError(f"now: {exc}") from None
        policy = self.select(ticket)
        if policy is None:
            return no_policy_report(timeline, now)
        return evaluate(policy, timeline, calendar=calendar, now=now)
