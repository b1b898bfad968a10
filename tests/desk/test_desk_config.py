"""DeskConfig: every section by its part's from_dict, every problem at once with its
path, the published JSON Schema, the round trip, and ServiceDesk.from_config."""

from __future__ import annotations

import copy
import importlib
import json
import pickle
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.desk import DeskConfig, ServiceDesk, config_schema
from csmkit.errors import AutomationError
from csmkit.hookspecs import hookimpl
from csmkit.plugins import CalendarRegistration, OutboundChannelRegistration, PluginManager
from csmkit.sla import BusinessCalendar
from csmkit.storage import open_store

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "repair_desk.toml"
SCHEMA_FILE = ROOT / "docs" / "desk-config.schema.json"
SH = ZoneInfo("Asia/Shanghai")


def _example() -> dict[str, Any]:
    with EXAMPLE.open("rb") as handle:
        return tomllib.load(handle)


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(AutomationError) as caught:
        DeskConfig.from_dict(data)
    assert str(caught.value).startswith("invalid desk configuration")
    return caught.value.problems


def test_the_example_loads_with_every_section() -> None:
    config = DeskConfig.from_file(EXAMPLE)
    assert [k.name for k in config.types] == ["repair", "callback"]
    repair = config.types[0]
    assert {"region", "product", "address"} <= repair.workflow.form.names  # type: ignore[union-attr]
    assert config.surveys == {
        "repair": {"name": "after-repair", "kind": "csat", "scale": [0, 10], "convention": "mean"}
    }
    (survey,) = repair.surveys  # the article's 10-point CSAT, a real definition
    assert (survey.name, survey.scale, survey.convention) == ("after-repair", (0, 10), "mean")
    assert config.calendar is not None and config.calendar.timezone == "Asia/Shanghai"
    groups = {a.id: sorted(a.groups) for a in config.agents}
    assert groups["e04"] == ["engineers"] and groups["s1"] == ["supervisors"]
    assert config.routing is not None and len(config.routing.rules) == 5
    assert [r.id for r in config.automation.rules][:2] == ["route", "warn-first-response"]
    assert config.intake_type == "repair"
    assert "automation rules: route, warn-first-response" in config.summary()


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    data = _example()
    data["types"]["repair"]["sla"]["targets"]["first_response"]["goals"]["urgent"] = "2 hours"
    data["types"]["repair"]["fields"].append({"name": "colour", "type": "paint"})
    data["calendar"]["week"] = {"mon-fri": ["9-12"]}
    data["agents"][0]["colour"] = "red"
    data["groups"]["engineers"].append("e99")
    data["routing"]["rules"][0]["target"] = "agent.region =="
    data["automation"]["rules"][0]["actions"][0]["do"] = "asign"
    data["channels"]["sms"]["plugin"] = "no-such-gateway"
    data["intake_type"] = "nope"
    data["extra"] = 1
    problems = _problems(data)
    expected_starts = [
        "extra: unknown key",
        "calendar.week.mon-fri[0]: '9-12'",
        "types.repair.workflow.form.fields[12]: field 'colour': unknown type 'paint'",
        "types.repair.sla.targets.first_response.goals.urgent: '2 hours' is not a duration",
        "agents[0]: agent 'e01': unknown keys ['colour']",
        "groups: 'e99' is not an agent id",
        "channels.sms.plugin: no outbound channel plugin 'no-such-gateway'",
        "routing.rules[0].target:",
        "automation.rules[0] 'route'.actions[0].do: unknown action 'asign'",
        "intake_type: 'nope' is not one of types (callback, repair)",
    ]
    assert len(problems) == len(expected_starts), problems
    for problem, start in zip(problems, expected_starts, strict=True):
        assert problem.startswith(start), (problem, start)


def test_references_between_sections_are_checked() -> None:
    data = _example()
    data["automation"]["rules"][1]["actions"][0]["channel"] = "fax"
    data["automation"]["rules"][0]["when"] = "ticket.fields.regoin != null"
    data["types"]["repair"]["workflow"] = "repairs"
    problems = _problems(data)
    assert problems == [
        "types.repair.workflow: no built-in template 'repairs'; known: consultation, "
        "complaint, repair, return_exchange (or give the workflow inline)",
        "automation.rules[1] 'warn-first-response'.actions[0].channel: unknown outbound "
        "channel 'fax' (known: sms)",
    ]


def test_an_intake_type_whose_form_needs_fields_is_a_problem() -> None:
    data = _example()
    data["types"]["repair"]["fields"].append({"name": "serial", "type": "text", "required": True})
    (problem,) = _problems(data)
    assert problem.startswith("intake_type: repair: its form requires serial, which an inbound")


def test_round_trip_through_the_canonical_form_json_and_pickle(tmp_path: Path) -> None:
    config = DeskConfig.from_file(EXAMPLE)
    plain = config.to_dict()
    assert DeskConfig.from_dict(plain) == config
    path = tmp_path / "desk.json"
    path.write_text(json.dumps(plain, ensure_ascii=False), encoding="utf-8")
    assert DeskConfig.from_file(path) == config
    assert pickle.loads(pickle.dumps(config)) == config


_GOALS = st.sampled_from(["30m", "1h", "2h", "1h30m", "8h", "24h"])
_REGIONS = st.sampled_from(["east", "north", "south"])


@st.composite
def _configs(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(min_value=0, max_value=4))
    agents = [
        {
            "id": f"a{i}",
            "attributes": {"region": draw(_REGIONS)},
            "skills": {"aircon": draw(st.integers(min_value=1, max_value=5))},
            "capacity": draw(st.integers(min_value=1, max_value=20)),
        }
        for i in range(count)
    ]
    template = draw(st.sampled_from(["repair", "consultation", "complaint", "return_exchange"]))
    data: dict[str, Any] = {
        "types": {
            "work": {
                "workflow": template,
                "fields": [{"name": "region", "type": "choice", "choices": ["east", "north"]}],
                "sla": {"targets": {"first_response": {"goals": {"urgent": draw(_GOALS)}}}},
            }
        },
        "intake_type": "work",
    }
    if draw(st.booleans()):
        data["types"]["work"]["survey"] = draw(st.sampled_from(["csat", "nps"]))
    if agents:
        data["agents"] = agents
        data["groups"] = {"engineers": [a["id"] for a in agents]}
        data["routing"] = {"default": {"group": "engineers", "strategy": "least_loaded"}}
    if draw(st.booleans()):
        data["calendar"] = {"timezone": "Asia/Shanghai", "week": {"mon-fri": ["09:00-18:00"]}}
        data["automation"] = {
            "rules": [
                {
                    "id": "escalate",
                    "on": {"after": draw(_GOALS), "since": "created", "clock": "business"},
                    "actions": [{"do": "escalate", "group": "supervisors"}],
                }
            ]
        }
    return data


@settings(max_examples=25, deadline=None)
@given(_configs())
def test_round_trip_property(data: dict[str, Any]) -> None:
    config = DeskConfig.from_dict(data)
    again = DeskConfig.from_dict(config.to_dict())
    assert again == config
    assert again.to_dict() == config.to_dict()
    jsonschema.validate(data, config_schema())
    jsonschema.validate(config.to_dict(), config_schema())


def test_the_published_schema_is_the_one_in_the_code() -> None:
    published = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert published == config_schema(), (
        "regenerate docs/desk-config.schema.json from csmkit.desk.config_schema()"
    )


def test_the_example_and_its_canonical_form_follow_the_schema() -> None:
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(_example(), schema)
    jsonschema.validate(DeskConfig.from_file(EXAMPLE).to_dict(), schema)
    bad = _example()
    bad["agents"][0]["colour"] = "red"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_calendar_preset_plugin_and_named_calendars() -> None:
    base = {"types": {"consultation": {}}}
    config = DeskConfig.from_dict({**base, "calendar": {"preset": "cn", "years": [2026]}})
    assert config.calendar is not None
    assert not config.calendar.hours_on(datetime(2026, 10, 1).date())  # 国庆
    assert config.calendar.hours_on(datetime(2026, 10, 10).date())  # 调休 Saturday
    shared = {"timezone": "Asia/Shanghai", "week": {"mon-fri": ["09:00-18:00"]}}
    named = DeskConfig.from_dict({**base, "calendars": {"office": shared}, "calendar": "office"})
    assert named.calendar == named.calendars["office"]
    problems = _problems(
        {
            **base,
            "calendars": {"x": {"preset": "mars", "years": [2026]}, "y": {"plugin": "nope"}},
            "calendar": "z",
        }
    )
    assert problems == [
        "calendars.x.preset: unknown preset 'mars'; known: cn",
        "calendars.y.plugin: no calendar plugin 'nope' (known: none)",
        "calendar: 'z' is not one of calendars (none)",
    ]


def test_files_that_cannot_be_read_or_parsed(tmp_path: Path) -> None:
    bad_json = tmp_path / "desk.json"
    bad_json.write_text('{"types": {,}}', encoding="utf-8")
    with pytest.raises(AutomationError, match=r"desk.json: not valid JSON: .*line 1 column 12"):
        DeskConfig.from_file(bad_json)
    bad_toml = tmp_path / "desk.toml"
    bad_toml.write_text("[types.repair]\nworkflow = \n", encoding="utf-8")
    with pytest.raises(AutomationError, match=r"desk.toml: not valid TOML: .*line 2"):
        DeskConfig.from_file(bad_toml)
    listed = tmp_path / "list.json"
    listed.write_text("[]", encoding="utf-8")
    with pytest.raises(AutomationError, match="holds one table/object"):
        DeskConfig.from_file(listed)
    with pytest.raises(AutomationError, match="cannot read"):
        DeskConfig.from_file(tmp_path / "missing.toml")


def test_from_config_needs_every_channel_and_builds_nothing_otherwise() -> None:
    store = open_store("memory://")
    clock = lambda: datetime(2026, 10, 15, 10, 0, tzinfo=SH)  # noqa: E731
    with pytest.raises(AutomationError, match=r"channels\.sms: no plugin named; pass"):
        ServiceDesk.from_config(EXAMPLE, store=store, clock=clock)
    broken = copy.deepcopy(_example())
    broken["types"]["repair"]["sla"]["targets"]["resolution"]["warnings"] = [1.5]
    with pytest.raises(AutomationError) as caught:
        ServiceDesk.from_config(broken, store=store, clock=clock, channels={"sms": object()})
    assert caught.value.problems[0].startswith("types.repair.sla.targets.resolution.warnings")
    assert store.find_tickets().items == ()
    config = DeskConfig.from_file(EXAMPLE)
    desk = ServiceDesk.from_config(config, store=store, clock=clock, channels={"sms": object()})
    assert sorted(desk.types) == ["callback", "repair"]


class _Gateway:
    def __init__(self, region: str) -> None:
        self.region = region
        self.sent: list[Any] = []

    def send(self, notification: Any) -> dict[str, bool]:
        self.sent.append(notification)
        return {"accepted": True}


class _Plugin:
    @hookimpl
    def csmkit_outbound_channels(self) -> list[OutboundChannelRegistration]:
        """An SMS gateway."""
        return [OutboundChannelRegistration("sms-gateway", _Gateway)]

    @hookimpl
    def csmkit_calendars(self) -> list[CalendarRegistration]:
        """A calendar, and one whose factory fails."""

        def office(**options: Any) -> BusinessCalendar:
            week = {"mon-fri": ["09:00-18:00"]}
            return BusinessCalendar.from_dict({"timezone": options["zone"], "week": week})

        def broken() -> BusinessCalendar:
            raise RuntimeError("calendar server down")

        return [CalendarRegistration("office", office), CalendarRegistration("broken", broken)]


def test_channels_and_calendars_from_plugins() -> None:
    plugins = PluginManager(load_entrypoints=False)
    plugins.register(_Plugin())
    data = _example()
    data["channels"]["sms"] = {"plugin": "sms-gateway", "options": {"region": "cn"}}
    data["calendars"] = {"office": {"plugin": "office", "options": {"zone": "Asia/Shanghai"}}}
    config = DeskConfig.from_dict(data, plugins=plugins)
    assert config.calendars["office"].timezone == "Asia/Shanghai"
    assert config.channels["sms"].to_dict() == {
        "plugin": "sms-gateway",
        "options": {"region": "cn"},
    }
    clock = lambda: datetime(2026, 10, 15, 10, 0, tzinfo=SH)  # noqa: E731
    desk = ServiceDesk.from_config(
        data, store=open_store("memory://"), clock=clock, plugins=plugins
    )
    gateway = desk.channels["sms"]
    assert isinstance(gateway, _Gateway) and gateway.region == "cn"
    data["calendars"] = {"bad": {"plugin": "broken"}}
    with pytest.raises(AutomationError) as caught:
        DeskConfig.from_dict(data, plugins=plugins)
    assert caught.value.problems == [
        "calendars.bad.plugin: plugin 'broken' failed: calendar server down"
    ]


def test_toml_without_tomllib_or_tomli_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python 3.10 without ``tomli``: the file names what to install, or to use JSON."""
    real = importlib.import_module

    def missing(name: str, package: str | None = None) -> Any:
        if name in ("tomllib", "tomli"):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", missing)
    with pytest.raises(AutomationError, match=r"Python 3.11 or later, or the 'tomli' package"):
        DeskConfig.from_file(EXAMPLE)


@pytest.mark.parametrize(
    ("survey", "expected"),
    [
        ("csat", [("csat", (1, 5))]),
        ({"name": "nps", "kind": "nps"}, [("nps", (0, 10))]),
        (
            [{"name": "ten", "kind": "csat", "scale": [1, 10]}, {"name": "ces", "kind": "ces"}],
            [("ten", (1, 10)), ("ces", (1, 7))],
        ),
    ],
)
def test_a_types_survey_is_a_kind_a_table_or_a_list(survey: Any, expected: Any) -> None:
    data = _example()
    data["types"]["repair"]["survey"] = survey
    config = DeskConfig.from_dict(data)
    assert [(s.name, s.scale) for s in config.types[0].surveys] == expected
    jsonschema.validate(data, config_schema())


def test_bad_surveys_are_problems_with_their_path() -> None:
    data = _example()
    data["types"]["repair"]["survey"] = {"name": "x", "kind": "csat", "scale": [5, 1]}
    data["types"]["callback"]["survey"] = "stars"
    problems = _problems(data)
    assert any(p.startswith("types.repair.survey") for p in problems), problems
    assert any(p.startswith("types.callback.survey") and "stars" in p for p in problems)


def test_send_survey_may_name_a_declared_survey_of_a_type() -> None:
    data = _example()
    (rule,) = [r for r in data["automation"]["rules"] if r["id"] == "survey"]
    rule["actions"][0]["survey"] = "after-repair"  # the repair type's declared survey
    DeskConfig.from_dict(data)
    rule["actions"][0]["survey"] = "after-sale"
    index = data["automation"]["rules"].index(rule)
    problems = _problems(data)
    assert any(
        p.startswith(f"automation.rules[{index}] 'survey'.actions[0].survey: 'after-sale'")
        and "(declared: after-repair)" in p
        for p in problems
    ), problems
