"""Every public value pickles and unpickles to an equal value that behaves the same.

A new public class must either get a case in ``tests/pickle_cases.py`` or a reasoned
entry in its ``EXCLUDED`` list; otherwise :func:`test_every_public_class_is_covered`
fails.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import multiprocessing
import pickle
import pkgutil
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import csmkit
from csmkit import automation, errors, metrics, routing, timeline, workflow
from csmkit.conditions import Condition, Literal, Name
from csmkit.sla import BusinessCalendar
from csmkit.timeline import Timeline
from pickle_cases import CASES, EQUAL_BY, EXCLUDED
from pickle_values import business_response_times, routing_state
from strategies import condition_trees_over, timelines_events

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PROTOCOLS = range(2, pickle.HIGHEST_PROTOCOL + 1)


def _public_classes() -> dict[type[Any], str]:
    """Every class a public package exports, with the first name it is exported as."""
    found: dict[type[Any], str] = {}
    for info in pkgutil.walk_packages(csmkit.__path__, prefix="csmkit."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if inspect.isclass(value) and str(value.__module__).startswith("csmkit"):
                found.setdefault(value, f"{info.name}.{name}")
    return found


PUBLIC = _public_classes()


def _is_trivially_picklable(cls: type[Any]) -> bool:
    """Exceptions and enums pickle by the standard library's own rules (tested below)."""
    return issubclass(cls, (BaseException, enum.Enum))


def test_every_public_class_is_covered() -> None:
    missing = sorted(
        name
        for cls, name in PUBLIC.items()
        if cls not in CASES and cls not in EXCLUDED and not _is_trivially_picklable(cls)
    )
    assert not missing, f"public classes without a pickling case or exclusion: {missing}"
    stale = sorted(repr(cls) for cls in (*CASES, *EXCLUDED) if cls not in PUBLIC)
    assert not stale, f"cases for classes that are not public: {stale}"
    assert not set(CASES) & set(EXCLUDED)


def _has_value_equality(cls: type[Any]) -> bool:
    return any("__eq__" in vars(klass) for klass in cls.__mro__[:-1])


@pytest.mark.parametrize("cls", sorted(CASES, key=lambda cls: PUBLIC[cls]), ids=PUBLIC.get)
def test_round_trip_is_equal(cls: type[Any]) -> None:
    value = CASES[cls]()
    assert type(value) is cls
    for protocol in PROTOCOLS:
        data = pickle.dumps(value, protocol=protocol)
        assert b"<locals>" not in data
        loaded = pickle.loads(data)
        assert type(loaded) is cls
        again = pickle.loads(pickle.dumps(loaded, protocol=protocol))
        if cls in EQUAL_BY:
            view = EQUAL_BY[cls]
            assert view(loaded) == view(value)
            assert view(again) == view(value)
        else:
            assert _has_value_equality(cls), f"{cls.__name__} has no value equality"
            assert loaded == value
            assert again == value


@pytest.mark.parametrize(
    "cls", sorted((c for c in CASES if attrs.has(c)), key=PUBLIC.get), ids=PUBLIC.get
)
def test_derived_fields_stay_out_of_the_pickle(cls: type[Any]) -> None:
    """Caches and indexes (``init=False`` fields) are rebuilt on load, never pickled."""
    data = pickle.dumps(CASES[cls]())
    for field in attrs.fields(cls):
        if not field.init:
            assert field.name.encode() not in data, field.name


def _round_trip(value: Any) -> Any:
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


# ---------------------------------------------------------------------- errors and enums
def _errors() -> list[BaseException]:
    made: list[BaseException] = []
    for name in errors.__all__:
        cls = getattr(errors, name)
        made.append(cls("something is wrong"))
    made += [
        errors.TimelineError("must be aware", path="events[2].at"),
        errors.ConditionSyntaxError("unexpected ')'", text="a == )", position=5),
        errors.ConditionSyntaxError("unknown key", path="all[1].op"),
        errors.WorkflowError("invalid workflow", problems=["states[0]: bad", "x: y"]),
        errors.TransitionNotAllowed("not allowed", verdict=CASES[workflow.Verdict]()),
    ]
    return made


@pytest.mark.parametrize("error", _errors(), ids=lambda e: f"{type(e).__name__}:{e}"[:60])
def test_errors_cross_process_boundaries(error: BaseException) -> None:
    """A worker's error reaches the parent with its type, text and attributes."""
    loaded = _round_trip(error)
    assert type(loaded) is type(error)
    assert str(loaded) == str(error)
    assert vars(loaded) == vars(error)


def test_public_enums_pickle_to_themselves() -> None:
    enums = [cls for cls in PUBLIC if issubclass(cls, enum.Enum)]
    assert enums
    for cls in enums:
        for member in cls:
            assert _round_trip(member) is member


# ---------------------------------------------------------------------- behaviour
HALF_HOURS = st.integers(0, 47)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    """Calendars with weekly hours, holidays, make-up days and overrides around 2026-10."""
    zone = draw(st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "UTC"]))

    def hours() -> list[str]:
        start = draw(HALF_HOURS)
        end = draw(st.integers(start + 1, 48))
        return [f"{start // 2:02d}:{start % 2 * 30:02d}-{end // 2:02d}:{end % 2 * 30:02d}"]

    week = {day: hours() for day in draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1))}
    days = [date(2026, 9, 20) + timedelta(days=k) for k in range(30)]
    chosen = draw(st.lists(st.sampled_from(days), unique=True, max_size=6))
    data: dict[str, Any] = {"timezone": zone, "week": week}
    for index, day in enumerate(chosen):
        key = ("holidays", "workdays", "overrides")[index % 3]
        if key == "overrides":
            data.setdefault(key, {})[day.isoformat()] = hours()
        else:
            data.setdefault(key, []).append(day.isoformat())
    if "workdays" in data:
        data["workday_hours"] = hours()
    return BusinessCalendar.from_dict(data)


instants = st.integers(0, 40 * 24 * 60).map(
    lambda minutes: datetime(2026, 9, 15, tzinfo=timezone.utc) + timedelta(minutes=minutes)
)
spans = st.integers(-200 * 60, 200 * 60).map(lambda minutes: timedelta(minutes=minutes))


@given(calendars(), instants, instants, spans)
def test_unpickled_calendar_computes_the_same(
    calendar: BusinessCalendar, start: datetime, end: datetime, span: timedelta
) -> None:
    loaded = _round_trip(calendar)
    assert loaded == calendar
    assert loaded.to_dict() == calendar.to_dict()
    assert loaded.between(start, end) == calendar.between(start, end)
    assert loaded.is_open(start) == calendar.is_open(start)
    assert loaded.open_intervals(start, start + timedelta(days=3)) == calendar.open_intervals(
        start, start + timedelta(days=3)
    )
    try:
        expected: datetime | str = calendar.add(start, span)
    except errors.CalendarError as exc:
        expected = str(exc)
    try:
        got: datetime | str = loaded.add(start, span)
    except errors.CalendarError as exc:
        got = str(exc)
    assert got == expected


_KEYS = ["a", "b", "x", "priority", "地区"]
_names = st.lists(st.sampled_from(_KEYS), min_size=1, max_size=2).map(
    lambda parts: Name(tuple(parts))
)
_literals = st.sampled_from([None, True, 0, 1, 2.5, "", "a", "high"]).map(Literal)
_values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "a", "low", "high", "地"])
)
_contexts = st.recursive(
    st.dictionaries(st.sampled_from(_KEYS), _values, max_size=5),
    lambda children: st.dictionaries(st.sampled_from(_KEYS), children | _values, max_size=4),
    max_leaves=8,
)


def _outcome(condition: Condition, context: dict[str, Any]) -> bool | str:
    try:
        return condition.evaluate(context)
    except errors.ConditionEvaluationError as exc:
        return str(exc)


@given(condition_trees_over(_names, _literals), _contexts)
def test_unpickled_condition_evaluates_the_same(tree: Any, context: dict[str, Any]) -> None:
    condition = Condition(tree)
    data = pickle.dumps(condition)
    assert b"_compile" not in data  # the compiled closure never travels
    loaded = pickle.loads(data)
    assert loaded == condition
    assert str(loaded) == str(condition)
    assert loaded.names == condition.names
    assert _outcome(loaded, context) == _outcome(condition, context)


@given(timelines_events())
def test_unpickled_timeline_is_equal_and_folds_the_same(events: list[Any]) -> None:
    timeline = Timeline(events)
    timeline.state_at(events[-1].at)  # fill the memo: it must not travel
    loaded = _round_trip(timeline)
    assert loaded == timeline
    assert loaded.ticket == timeline.ticket
    assert list(loaded) == list(timeline)
    assert loaded.to_dict() == timeline.to_dict()
    assert [loaded.state_at(event.at) for event in events] == [
        timeline.state_at(event.at) for event in events
    ]


numbers = st.lists(
    st.one_of(st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6, allow_nan=False)), max_size=30
)


@given(numbers, numbers, st.integers(0, 8))
def test_unpickled_accumulators_merge_the_same(
    left: list[float], right: list[float], exact_limit: int
) -> None:
    def quantiles(values: list[float]) -> metrics.QuantileAccumulator:
        return metrics.QuantileAccumulator(exact_limit=exact_limit).update_many(values)

    def means(values: list[float]) -> metrics.MeanAccumulator:
        acc = metrics.MeanAccumulator()
        for value in values:
            acc.update(value)
        return acc

    for build in (quantiles, means):
        a, b = build(left), build(right)
        loaded_a, loaded_b = _round_trip(a), _round_trip(b)
        assert (loaded_a, loaded_b) == (a, b)
        assert loaded_a.merge(loaded_b) == a.merge(b)
        assert loaded_a.result() == a.result()
        assert _round_trip(a) == a  # merged state pickles too


@given(st.lists(st.integers(0, 10), max_size=20), st.lists(st.integers(1, 5), max_size=20))
def test_unpickled_survey_accumulators_merge_the_same(nps: list[int], csat: list[int]) -> None:
    for acc, more in (
        (metrics.NpsAccumulator().update_many(nps), metrics.NpsAccumulator().update_many(csat)),
        (metrics.RatingAccumulator().update_many(csat), metrics.RatingAccumulator().update(5)),
    ):
        loaded = _round_trip(acc)
        assert loaded == acc
        assert loaded.merge(_round_trip(more)).result() == acc.merge(more).result()


def test_unpickled_router_and_pool_route_the_same() -> None:
    router, pool, state = CASES[routing.Router](), CASES[routing.AgentPool](), routing_state()
    ticket = CASES[timeline.Ticket]()
    at = ticket.created_at + timedelta(hours=1)
    expected = router.route(ticket, pool, state, at)
    loaded = _round_trip((router, pool, state))
    assert loaded[0].route(ticket, loaded[1], loaded[2], at) == expected


def test_unpickled_workflow_and_timers_behave_the_same() -> None:
    flow, ticket = CASES[workflow.Workflow](), CASES[timeline.Ticket]()
    actor = workflow.Actor("li", {"agent", "engineer", "supervisor"})
    loaded = _round_trip(flow)
    assert [t.name for t in loaded.available(ticket, actor=actor)] == [
        t.name for t in flow.available(ticket, actor=actor)
    ]
    timers = CASES[automation.TimerIndex]()
    copy = _round_trip(timers)
    later = datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert copy.pop_due(later) == timers.pop_due(later)


def _shift_timeline(hours: int) -> Timeline:
    base = CASES[timeline.Timeline]()
    shift = timedelta(hours=hours)
    events = [attrs.evolve(event, ticket_id=f"T-{hours}", at=event.at + shift) for event in base]
    return Timeline(events)


@pytest.mark.slow  # starting two spawned interpreters takes seconds
def test_business_time_metrics_run_in_spawned_worker_processes() -> None:
    """Calendars, timelines and accumulators cross a spawn process pool and merge."""
    clock = CASES[BusinessCalendar]()
    timelines = [_shift_timeline(hours) for hours in range(0, 24 * 12, 7)]
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    jobs = [(clock, timelines[part::2], now) for part in range(2)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        results = list(pool.map(business_response_times, jobs))
    merged = metrics.DurationAccumulator("first_response_time", business=True)
    for acc, _ in results:
        merged.merge(acc)
    serial, measured = business_response_times((clock, timelines, now))
    assert merged.result() == serial.result()
    assert merged.result().moments.n == len(timelines)
    by_ticket = {m.ticket: m for _, part in results for m in part}
    assert [by_ticket[m.ticket] for m in measured] == measured


def test_frozen_maps_stay_frozen_and_hashable() -> None:
    """The read-only mapping inside events and tickets survives a round trip as itself."""
    from csmkit._jsonvalue import EMPTY, FrozenMap, freeze_mapping

    value = freeze_mapping({"region": "华东", "models": ["KFR-35", 2], "x": {"y": None}}, "f")
    loaded = _round_trip(value)
    assert type(loaded) is FrozenMap and loaded == value and hash(loaded) == hash(value)
    assert type(loaded["x"]) is FrozenMap
    with pytest.raises(TypeError):
        loaded["region"] = "华北"
    assert _round_trip(EMPTY) == EMPTY
