"""PluginManager: loading order, broken plugins, blocking, duplicates, typed hook calls."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attrs
import pytest

from csmkit import hookspecs
from csmkit.errors import NotFoundError, PluginError, StorageError
from csmkit.hookspecs import hookimpl
from csmkit.plugins import (
    BUILTIN_PLUGINS,
    CalendarRegistration,
    CsmkitPluginWarning,
    InboundChannelRegistration,
    InboundMessageLike,
    OutboundChannelRegistration,
    PluginManager,
    RoutingStrategyRegistration,
    StoreBackend,
)
from csmkit.storage import MemoryStore
from csmkit.testing import T0, created, next_event
from csmkit.timeline import Event, Ticket

_names = itertools.count()

MakeDist = Callable[..., str]


@pytest.fixture
def make_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeDist:
    """Install a fake distribution with a ``csmkit`` entry point on a temporary path."""

    def make(source: str, *, entry_name: str | None = None, dist: str | None = None) -> str:
        number = next(_names)
        module = f"csmkit_test_plugin_{number}"
        root = tmp_path / f"site{number}"
        root.mkdir()
        (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        dist_name = dist or f"csmkit-test-plugin-{number}"
        info = root / f"{dist_name.replace('-', '_')}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 1.2.3\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[csmkit]\n{entry_name or module} = {module}\n", encoding="utf-8"
        )
        monkeypatch.syspath_prepend(str(root))
        monkeypatch.delitem(sys.modules, module, raising=False)
        return entry_name or module

    return make


GOOD = """
from csmkit.hookspecs import hookimpl
from csmkit.plugins import StoreBackend
from csmkit.storage import MemoryStore

@hookimpl
def csmkit_store_backends():
    return [StoreBackend("Mongo ", lambda url, **options: MemoryStore(), "pretend")]
"""


# ------------------------------------------------------------------ loading
def test_builtins_are_registered_through_the_hooks() -> None:
    manager = PluginManager(load_entrypoints=False)
    assert [info.name for info in manager.list_plugins()] == list(BUILTIN_PLUGINS)
    assert {info.source for info in manager.list_plugins()} == {"builtin"}
    assert list(manager.store_backends()) == ["memory", "postgresql", "sqlite"]
    assert manager.inbound_channels() == {}
    assert manager.routing_strategies() == {}


def test_entry_point_plugins_are_discovered(make_dist: MakeDist) -> None:
    name = make_dist(GOOD, dist="csmkit-mongo")
    manager = PluginManager()
    info = {i.name: i for i in manager.list_plugins()}[name]
    assert (info.source, info.distribution, info.version) == ("entrypoint", "csmkit-mongo", "1.2.3")
    assert list(manager.store_backends()) == ["memory", "mongo", "postgresql", "sqlite"]
    with manager.open_store("mongo://db.example.cn/desk") as store:
        assert isinstance(store, MemoryStore)
    assert [i.source for i in manager.list_plugins()] == ["builtin", "builtin", "entrypoint"]


def test_load_order_is_builtins_entry_points_then_explicit(make_dist: MakeDist) -> None:
    name = make_dist(GOOD)
    explicit = SimpleNamespace()
    manager = PluginManager([("mine", explicit)])
    assert [i.name for i in manager.list_plugins()] == [*BUILTIN_PLUGINS, name, "mine"]


def test_entry_points_can_be_turned_off(make_dist: MakeDist) -> None:
    make_dist(GOOD)
    assert "mongo" not in PluginManager(load_entrypoints=False).store_backends()


def test_broken_plugin_warns_and_is_skipped(make_dist: MakeDist) -> None:
    broken = make_dist("import csmkit_no_such_dependency\n")
    make_dist(GOOD)
    with pytest.warns(CsmkitPluginWarning, match=rf"{broken}.*ModuleNotFoundError"):
        manager = PluginManager()
    assert broken not in {info.name for info in manager.list_plugins()}
    assert "mongo" in manager.store_backends()


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_strict_mode_raises(make_dist: MakeDist, how: str) -> None:
    make_dist("raise RuntimeError('boom at import')\n")
    options: dict[str, object] = (
        {"strict": True} if how == "argument" else {"environ": {"CSMKIT_STRICT_PLUGINS": "1"}}
    )
    with pytest.raises(PluginError, match="boom at import"):
        PluginManager(**options)  # type: ignore[arg-type]


MISSPELLED = """
from csmkit.hookspecs import hookimpl

@hookimpl
def csmkit_store_backend():
    return []
"""


def test_misspelled_hook_in_third_party_plugin_warns(make_dist: MakeDist) -> None:
    name = make_dist(MISSPELLED)
    with pytest.warns(CsmkitPluginWarning, match="did you mean 'csmkit_store_backends'"):
        manager = PluginManager()
    assert name not in {info.name for info in manager.list_plugins()}
    manager.check_pending()


def test_misspelled_hook_in_own_plugin_fails_at_start_up() -> None:
    class Mine:
        @hookimpl
        def csmkit_ticket_events(self, event: Event) -> None:
            """Misspelled: the hook is csmkit_ticket_event."""

    with pytest.raises(PluginError, match="did you mean 'csmkit_ticket_event'"):
        PluginManager([Mine()], load_entrypoints=False)


def test_unmarked_hook_function_is_an_error() -> None:
    class Forgot:
        def csmkit_inbound_filter(self, message: object) -> bool:
            """Forgot @hookimpl: pluggy would silently ignore it."""
            return False

    with pytest.raises(PluginError, match="not marked with @hookimpl"):
        PluginManager([Forgot()], load_entrypoints=False)


def test_hookimpl_asking_for_unknown_argument_is_invalid() -> None:
    class Greedy:
        @hookimpl
        def csmkit_ticket_event(self, event: Event, tenant: str) -> None:
            """Asks for an argument the spec does not have."""

    with pytest.raises(PluginError, match="tenant"):
        PluginManager([Greedy()], load_entrypoints=False)


def test_blocking_by_name(make_dist: MakeDist) -> None:
    name = make_dist(GOOD)
    assert "mongo" not in PluginManager(blocked=[name]).store_backends()
    from_env = PluginManager(environ={"CSMKIT_DISABLE_PLUGINS": f" other , {name}"})
    assert "mongo" not in from_env.store_backends()
    assert from_env.is_blocked(name)
    manager = PluginManager()
    assert "mongo" in manager.store_backends()
    manager.block(name)
    assert "mongo" not in manager.store_backends()
    with pytest.raises(PluginError, match="blocked"):
        manager.register(SimpleNamespace(), name=name)


def test_blocking_a_builtin_removes_its_backends() -> None:
    manager = PluginManager(load_entrypoints=False, blocked=["csmkit.storage._plugin"])
    assert manager.store_backends() == {}
    with pytest.raises(StorageError, match="registered: none"):
        manager.open_store("memory://")


# ------------------------------------------------------------------ duplicates and records
class MemoryAgain:
    @hookimpl
    def csmkit_store_backends(self) -> Iterable[StoreBackend]:
        """Claims the built-in memory:// scheme."""
        return [StoreBackend("MEMORY", lambda url: MemoryStore())]


def test_duplicate_registration_names_both_sources() -> None:
    with pytest.raises(PluginError) as info:
        PluginManager([("shadow", MemoryAgain())], load_entrypoints=False)
    message = str(info.value)
    assert "'memory' is registered twice" in message
    assert "built-in plugin 'csmkit.storage._plugin'" in message
    assert "plugin 'shadow'" in message


def test_duplicate_from_an_entry_point_is_an_error_too(make_dist: MakeDist) -> None:
    make_dist(GOOD, dist="csmkit-mongo-a")
    make_dist(GOOD, dist="csmkit-mongo-b")
    with pytest.raises(PluginError, match="'mongo' is registered twice") as info:
        PluginManager()
    assert "csmkit-mongo-a 1.2.3" in str(info.value)
    assert "csmkit-mongo-b 1.2.3" in str(info.value)


def test_failed_registration_leaves_the_manager_unchanged() -> None:
    manager = PluginManager(load_entrypoints=False)
    with pytest.raises(PluginError):
        manager.register(MemoryAgain(), name="shadow")
    assert [i.name for i in manager.list_plugins()] == list(BUILTIN_PLUGINS)
    assert list(manager.store_backends()) == ["memory", "postgresql", "sqlite"]


def test_duplicate_plugin_name() -> None:
    manager = PluginManager(load_entrypoints=False)
    manager.register(SimpleNamespace(), name="mine")
    with pytest.raises(PluginError, match="'mine' is already used"):
        manager.register(SimpleNamespace(), name="mine")
    manager.unregister("mine")
    with pytest.raises(NotFoundError):
        manager.unregister("mine")


def test_every_registration_hook_is_typed() -> None:
    class Everything:
        @hookimpl
        def csmkit_inbound_channels(self) -> list[InboundChannelRegistration]:
            """An e-mail parser."""
            return [InboundChannelRegistration("email", dict)]

        @hookimpl
        def csmkit_outbound_channels(self) -> list[OutboundChannelRegistration]:
            """Two notifiers."""
            return [
                OutboundChannelRegistration("sms", dict),
                OutboundChannelRegistration("dingtalk", dict),
            ]

        @hookimpl
        def csmkit_routing_strategies(self) -> list[RoutingStrategyRegistration]:
            """Round robin."""
            return [RoutingStrategyRegistration("round-robin", dict)]

        @hookimpl
        def csmkit_calendars(self) -> list[CalendarRegistration]:
            """Mainland China with 调休 make-up workdays."""
            return [CalendarRegistration("cn-mainland", dict, "工作日历")]

    manager = PluginManager([Everything()], load_entrypoints=False)
    assert list(manager.inbound_channels()) == ["email"]
    assert list(manager.outbound_channels()) == ["dingtalk", "sms"]
    assert list(manager.routing_strategies()) == ["round-robin"]
    assert manager.calendars()["cn-mainland"].description == "工作日历"


@pytest.mark.parametrize(
    "returned",
    [["not a record"], [RoutingStrategyRegistration("wrong-hook", dict)], 42],
)
def test_bad_registration_records(returned: object) -> None:
    class Bad:
        @hookimpl
        def csmkit_store_backends(self) -> object:
            """Returns something that is not a list of StoreBackend."""
            return returned

    with pytest.raises(PluginError, match="csmkit_store_backends"):
        PluginManager([Bad()], load_entrypoints=False)


def test_registration_hook_that_raises() -> None:
    class Raises:
        @hookimpl
        def csmkit_calendars(self) -> list[CalendarRegistration]:
            """Fails."""
            raise OSError("holiday file missing")

    with pytest.raises(PluginError, match="holiday file missing"):
        PluginManager([Raises()], load_entrypoints=False)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: StoreBackend("no spaces", dict), "valid URL scheme"),
        (lambda: StoreBackend("sqlite", "not callable"), "callable"),
        (lambda: RoutingStrategyRegistration("轮询", dict), "valid name"),
        (lambda: CalendarRegistration(3, dict), "string"),
        (lambda: OutboundChannelRegistration("sms", dict, description=None), "string"),
    ],
)
def test_record_validation(build: Callable[[], object], message: str) -> None:
    with pytest.raises(PluginError, match=message):
        build()


def test_records_normalise_names_and_are_frozen() -> None:
    record = StoreBackend(" PostgreSQL+psycopg ", dict)
    assert record.scheme == record.name == "postgresql+psycopg"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        record.scheme = "x"  # type: ignore[misc]


# ------------------------------------------------------------------ behaviour hooks
def _message(**kw: object) -> SimpleNamespace:
    base = {
        "channel": "email",
        "external_id": "<new@example.cn>",
        "in_reply_to": None,
        "references": (),
        "sender": "wang@example.cn",
        "subject": "Re: 报修",
    }
    return SimpleNamespace(**{**base, **kw})


def test_message_protocol_is_minimal() -> None:
    assert isinstance(_message(), InboundMessageLike)
    assert not isinstance(object(), InboundMessageLike)


def test_builtin_match_ticket_threads_replies() -> None:
    manager = PluginManager(load_entrypoints=False)
    store = MemoryStore()
    first = created("T-1")
    reply = next_event(Ticket.created(first), "message", T0, message_id="<q1@example.cn>")
    store.append("T-1", [first, reply], 0)
    assert manager.match_ticket(_message(in_reply_to="<q1@example.cn>"), store) == "T-1"
    assert (
        manager.match_ticket(_message(references=("<q1@example.cn>", "<unknown@x>")), store)
        == "T-1"
    )
    assert manager.match_ticket(_message(), store) is None


def test_plugin_match_ticket_wins_over_the_builtin() -> None:
    class SubjectTag:
        @hookimpl
        def csmkit_match_ticket(self, message: InboundMessageLike) -> str | None:
            """[csmkit #T-9] in the subject."""
            return "T-9" if "[csmkit #T-9]" in message.subject else None

    manager = PluginManager([SubjectTag()], load_entrypoints=False)
    store = MemoryStore()
    assert manager.match_ticket(_message(subject="Re: [csmkit #T-9] 空调"), store) == "T-9"
    assert manager.match_ticket(_message(), store) is None


def test_match_ticket_must_return_an_id() -> None:
    class Wrong:
        @hookimpl
        def csmkit_match_ticket(self) -> int:
            """Returns a number."""
            return 7

    manager = PluginManager([Wrong()], load_entrypoints=False)
    with pytest.raises(PluginError, match="expected a ticket id"):
        manager.match_ticket(_message(), MemoryStore())


def test_inbound_filter_drops_when_any_plugin_objects() -> None:
    class AutoReplies:
        @hookimpl
        def csmkit_inbound_filter(self, message: InboundMessageLike) -> bool | None:
            """Drop 自动回复."""
            return False if message.subject.startswith("自动回复") else None

    class Indifferent:
        @hookimpl
        def csmkit_inbound_filter(self) -> bool:
            """Accepts everything."""
            return True

    manager = PluginManager([AutoReplies(), Indifferent()], load_entrypoints=False)
    assert manager.accepts_inbound(_message())
    assert not manager.accepts_inbound(_message(subject="自动回复: 我正在休假"))
    assert PluginManager(load_entrypoints=False).accepts_inbound(_message())


def test_deliver_notification_with_wrappers_and_overrides() -> None:
    calls: list[str] = []

    class Timing:
        @hookimpl(wrapper=True)
        def csmkit_deliver_notification(self, channel: object) -> object:
            """Wraps whichever implementation delivers."""
            calls.append("before")
            receipt = yield
            calls.append(f"after {receipt}")
            return receipt

    channel = SimpleNamespace(send=lambda notification: f"sent {notification}")
    manager = PluginManager([Timing()], load_entrypoints=False)
    assert manager.deliver_notification("工单已受理", channel) == "sent 工单已受理"
    assert calls == ["before", "after sent 工单已受理"]
    assert manager.deliver_notification("x", object()) is None

    class Override:
        @hookimpl
        def csmkit_deliver_notification(self, notification: object) -> str:
            """Delivers itself."""
            return f"queued {notification}"

    manager.register(Override())
    assert manager.deliver_notification("y", channel) == "queued y"


def test_ticket_event_listeners_run_after_the_append() -> None:
    store = MemoryStore()
    seen: list[tuple[str, int, int]] = []

    class Listener:
        @hookimpl
        def csmkit_ticket_event(self, event: Event, ticket: Ticket) -> None:
            """Records what it saw, and what the store held at that moment."""
            seen.append((event.kind, ticket.version, store.version(ticket.id)))

    manager = PluginManager([Listener()], load_entrypoints=False)
    first = created("T-1")
    assert manager.append_and_notify(store, "T-1", [first], 0) == 1
    ticket = Ticket.created(first)
    later = [next_event(ticket, "assign", T0 + timedelta(minutes=1))]
    later.append(next_event(ticket.apply(later[0]), "open", T0 + timedelta(minutes=2)))
    assert manager.append_and_notify(store, "T-1", later, 1) == 3
    assert seen == [("created", 1, 1), ("assigned", 2, 3), ("status_changed", 3, 3)]


def test_pluggy_manager_is_reachable_for_advanced_use() -> None:
    manager = PluginManager(load_entrypoints=False)
    assert manager.pluggy_manager.project_name == hookspecs.PROJECT_NAME
    assert not manager.strict
    assert "2 plugins" in repr(manager)


def test_importing_csmkit_needs_no_test_tools() -> None:
    code = (
        "import sys, csmkit, csmkit.hookspecs, csmkit.plugins, csmkit.storage\n"
        "csmkit.plugins.PluginManager(load_entrypoints=False)\n"
        "bad = sorted(m for m in ('pytest', 'hypothesis', 'csmkit.testing') if m in sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


class _ClosestFirst:
    """A plugin strategy: prefers agents whose id sorts first (a stand-in for distance)."""

    name = "closest"

    def __init__(self, *, bias: int = 0) -> None:
        self.bias = bias

    def score(self, agent: Any, context: Any) -> tuple[str]:
        return (agent.id,)

    def spec(self) -> dict[str, object]:
        return {"name": self.name, "bias": self.bias}


def test_strategy_registry_adds_plugin_strategies_to_the_built_ins() -> None:
    from csmkit.hookspecs import hookimpl
    from csmkit.plugins import RoutingStrategyRegistration
    from csmkit.routing import default_registry

    class StrategyPlugin:
        @hookimpl
        def csmkit_routing_strategies(self) -> list[RoutingStrategyRegistration]:
            return [
                RoutingStrategyRegistration("closest", lambda **options: _ClosestFirst(**options))
            ]

    pm = PluginManager([StrategyPlugin()], load_entrypoints=False)
    registry = pm.strategy_registry()
    assert set(registry.names()) == set(default_registry().names()) | {"closest"}
    strategy = registry.create({"name": "closest", "bias": 3})
    assert isinstance(strategy, _ClosestFirst)
    assert strategy.bias == 3


def test_strategy_registry_refuses_a_plugin_shadowing_a_built_in() -> None:
    from csmkit.errors import PluginError
    from csmkit.hookspecs import hookimpl
    from csmkit.plugins import RoutingStrategyRegistration

    class Shadowing:
        @hookimpl
        def csmkit_routing_strategies(self) -> list[RoutingStrategyRegistration]:
            return [RoutingStrategyRegistration("round_robin", lambda **options: _ClosestFirst())]

    pm = PluginManager([Shadowing()], load_entrypoints=False)
    with pytest.raises(PluginError, match="'round_robin', the name of a built-in strategy"):
        pm.strategy_registry()
