"""First-contact resolution: named FCR rules, reopen windows and the FCR and reopen rates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs

from csmkit.errors import MetricsError
from csmkit.metrics._accumulators import ProportionAccumulator
from csmkit.metrics._grouping import GroupPaths
from csmkit.metrics._results import Rate
from csmkit.metrics._tickets import BusinessClock, TicketMetrics, _span, iter_ticket_metrics

__all__ = ["FcrRule", "fcr", "no_reopen_within", "reopen_rate"]


@attrs.frozen
class FcrRule:
    """A named first-contact-resolution rule (the research note's §1.4 families).

    Build with the constructors: [`one_touch()`][csmkit.metrics.FcrRule.one_touch] (Zendesk Explore
    "one-touch": solved or closed with fewer than 2 agent replies, 0 included — the default),
    [`one_agent_reply()`][csmkit.metrics.FcrRule.one_agent_reply] (exactly one, fivetran
    ``dbt_zendesk``), [`no_customer_followup()`][csmkit.metrics.FcrRule.no_customer_followup]
    (Freshservice: resolved with no customer contact after the first),
    [`no_reopen_within()`][csmkit.metrics.no_reopen_within] (first resolution not reopened within
    ``days`` calendar or business days; needs ``now``) and
    [`survey()`][csmkit.metrics.FcrRule.survey] (the customer said so: a ticket field,
    ``first_contact_resolved`` by default, holding a bool or ``"yes"``/``"no"``).

    Eligible tickets (the denominator) are resolved ones, except: ``no_reopen_within``
    counts a ticket once its window has passed (or it was reopened within it), and
    ``survey`` counts tickets that carry the field.

    Attributes:
        name: The rule's name.
        days: The window of ``no_reopen_within``.
        field: The ticket field read by ``survey``.
        business_day: For ``no_reopen_within`` in business days: the business time one
            day stands for (see [`no_reopen_within()`][csmkit.metrics.no_reopen_within]); ``None``
            for calendar days.
    """

    name: str
    days: float | None = None
    field: str | None = None
    business_day: timedelta | None = None

    @classmethod
    def one_touch(cls) -> FcrRule:
        """Resolved with fewer than 2 public agent replies."""
        return cls("one_touch")

    @classmethod
    def one_agent_reply(cls) -> FcrRule:
        """Resolved with exactly one public agent reply."""
        return cls("one_agent_reply")

    @classmethod
    def no_customer_followup(cls) -> FcrRule:
        """Resolved without any customer message after the initial contact."""
        return cls("no_customer_followup")

    @classmethod
    def survey(cls, field: str = "first_contact_resolved") -> FcrRule:
        """The ticket field ``field`` (a bool or ``"yes"``/``"no"``) says so.

        Tickets without the field (or with another value) are not eligible.
        """
        if not isinstance(field, str) or not field:
            raise MetricsError(f"field must be a non-empty str, got {field!r}")
        return cls("survey", field=field)

    @classmethod
    def coerce(cls, rule: FcrRule | str) -> FcrRule:
        """Accept a rule or one of the names ``one_touch``, ``one_agent_reply``,
        ``no_customer_followup``, ``survey``."""
        if isinstance(rule, FcrRule):
            return rule
        if isinstance(rule, str) and rule.startswith("survey(") and rule.endswith(")"):
            return cls.survey(rule[7:-1].strip().strip("'\""))
        factories = {
            "one_touch": cls.one_touch,
            "one_agent_reply": cls.one_agent_reply,
            "no_customer_followup": cls.no_customer_followup,
            "survey": cls.survey,
        }
        if rule not in factories:
            raise MetricsError(
                f"unknown FCR rule {rule!r}; use one of {', '.join(factories)}, "
                "survey(field) or no_reopen_within(days)"
            )
        return factories[rule]()

    @property
    def path(self) -> str | None:
        """The ticket path the rule reads (``fields.FIELD`` for ``survey``), else ``None``.

        Eligibility is decided by it, so [`fcr()`][csmkit.metrics.fcr] and
        [`report()`][csmkit.metrics.report] refuse a field no ticket has (a typo would make every
        ticket ineligible).
        """
        return f"fields.{self.field}" if self.name == "survey" else None

    @property
    def label(self) -> str:
        """``fcr[one_touch]``, ``fcr[no_reopen_within(3)]``, ``fcr[survey(field)]`` …"""
        if self.name == "no_reopen_within":
            if self.business_day is not None:
                hours = self.business_day.total_seconds() / 3600
                return f"fcr[no_reopen_within({self.days:g}, business_day={hours:g}h)]"
            return f"fcr[no_reopen_within({self.days:g})]"
        if self.name == "survey" and self.field != "first_contact_resolved":
            return f"fcr[survey({self.field})]"
        return f"fcr[{self.name}]"

    def evaluate(self, metrics: TicketMetrics, clock: BusinessClock | None = None) -> bool | None:
        """``True``/``False`` for an eligible ticket, ``None`` when it is not eligible.

        ``clock`` measures the business days of ``no_reopen_within(days,
        business_day=...)``; the other rules ignore it.
        """
        if self.name == "survey":
            value: object = metrics.ticket.fields.get(self.field or "")
            if isinstance(value, bool):
                return value
            if value in ("yes", "no"):
                return value == "yes"
            return None
        if self.name == "no_reopen_within":
            if metrics.first_resolved_at is None:
                return None
            if metrics.as_of is None:
                raise MetricsError("the no_reopen_within rule needs now= to know the window")
            window = _Window(self.days or 0.0, self.business_day, clock)
            if any(window.contains(metrics.first_resolved_at, at) for at in metrics.reopened_at):
                return False
            return True if window.passed(metrics.first_resolved_at, metrics.as_of) else None
        if not metrics.resolved:
            return None
        if self.name == "one_touch":
            return metrics.agent_replies < 2
        if self.name == "one_agent_reply":
            return metrics.agent_replies == 1
        if self.name == "no_customer_followup":
            return metrics.customer_followups == 0
        raise MetricsError(f"unknown FCR rule {self.name!r}")  # pragma: no cover


class _Window:
    """A reopen window of ``days`` calendar days, or of ``days`` business days."""

    __slots__ = ("business", "calendar", "clock")

    def __init__(
        self, days: float, business_day: timedelta | None, clock: BusinessClock | None
    ) -> None:
        self.clock = clock
        self.calendar = timedelta(days=days)
        self.business: timedelta | None = None
        if business_day is not None:
            if clock is None:
                raise MetricsError("a window in business days needs a business clock: pass clock=")
            self.business = days * business_day

    def contains(self, start: datetime, at: datetime) -> bool:
        """Whether ``at`` (>= ``start``) lies within the window opened at ``start``."""
        if self.business is None:
            return at <= start + self.calendar
        return _span(self.clock, start, at) <= self.business

    def passed(self, start: datetime, now: datetime) -> bool:
        """Whether nothing at or after ``now`` can fall in the window any more."""
        if self.business is None:
            return now >= start + self.calendar
        return _span(self.clock, start, now) > self.business


def no_reopen_within(days: float, *, business_day: timedelta | None = None) -> FcrRule:
    """FCR rule: the first resolution was not reopened within ``days`` days.

    Calendar days by default (``days × 24h``, whatever clock measures the durations).
    With ``business_day`` the window is ``days`` *business* days, measured with the
    business clock passed to [`fcr()`][csmkit.metrics.fcr] / [`report()`][csmkit.metrics.report]
    (only its ``between`` is used): a reopen is within the window when at most ``days ×
    business_day`` of open time lies between the first resolution and the reopen. On a calendar
    whose every working day has exactly ``business_day`` of open time, that is "the same time of
    day, ``days`` working days later" (holidays and 调休 make-up days included), and a
    reopen in the closed hours right after the window still counts as within — no
    business time has passed. The verdict "not reopened" is final only once *more* than
    ``days × business_day`` of open time lies between the resolution and ``now``.

    Raises:
        MetricsError: ``days`` not a positive number, ``business_day`` not a positive
            timedelta.
    """
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not days > 0:
        raise MetricsError(f"days must be a positive number, got {days!r}")
    if business_day is not None and (
        not isinstance(business_day, timedelta) or business_day <= timedelta(0)
    ):
        raise MetricsError(f"business_day must be a positive timedelta, got {business_day!r}")
    return FcrRule("no_reopen_within", days=float(days), business_day=business_day)


def fcr(
    timelines: Iterable[Any],
    rule: FcrRule | str = "one_touch",
    *,
    clock: BusinessClock | None = None,
    now: datetime | None = None,
) -> Rate:
    """First-contact resolution rate under ``rule`` (see [`FcrRule`][csmkit.metrics.FcrRule]), with
    Wilson CI.

    Tickets that are not eligible (e.g. unresolved) are counted in ``skipped``.

    Raises:
        MetricsError: a ``survey`` rule reads a field that no ticket has (with a "did
            you mean" from the fields that exist).
    """
    chosen = FcrRule.coerce(rule)
    accumulator = ProportionAccumulator(chosen.label)
    reads = GroupPaths([chosen.path] if chosen.path is not None else [], what=chosen.label)
    for metrics in iter_ticket_metrics(timelines, clock=clock, now=now):
        reads.key(metrics.ticket)
        verdict = chosen.evaluate(metrics, clock)
        if verdict is None:
            accumulator.skipped += 1
        else:
            accumulator.update(verdict)
    reads.check()
    return accumulator.result()


def reopen_rate(
    timelines: Iterable[Any],
    *,
    now: datetime | None = None,
    within: float | None = None,
    business_day: timedelta | None = None,
    clock: BusinessClock | None = None,
) -> Rate:
    """Share of resolved tickets that were reopened (optionally within ``within`` days of
    their first resolution; business days with ``business_day`` and ``clock``, as in
    [`no_reopen_within()`][csmkit.metrics.no_reopen_within]). Tickets never resolved are counted in
    ``skipped``."""
    if within is not None:
        no_reopen_within(within, business_day=business_day)  # validates
    elif business_day is not None:
        raise MetricsError("business_day needs within= (the window in business days)")
    window = _Window(within or 0.0, business_day, clock)
    accumulator = ProportionAccumulator("reopen_rate")
    for metrics in iter_ticket_metrics(timelines, now=now):
        resolved_at = metrics.first_resolved_at
        if resolved_at is None:
            accumulator.skipped += 1
            continue
        reopens = metrics.reopened_at
        if within is not None:
            reopens = tuple(at for at in reopens if window.contains(resolved_at, at))
        accumulator.update(bool(reopens))
    return accumulator.result()
