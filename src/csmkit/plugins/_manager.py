"""The application-owned plugin manager: a typed façade over ``pluggy.PluginManager``."""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

import attrs
import pluggy

from csmkit.errors import PluginError, StorageError
from csmkit.hookspecs import ENTRY_POINT_GROUP, PROJECT_NAME, CsmkitSpecs
from csmkit.plugins._records import (
    CalendarRegistration,
    InboundChannelRegistration,
    OutboundChannelRegistration,
    RoutingStrategyRegistration,
    StoreBackend,
)

if TYPE_CHECKING:
    from csmkit.knowledge import KnowledgeStore
    from csmkit.plugins._records import InboundMessageLike, Registration
    from csmkit.routing import StrategyRegistry
    from csmkit.storage import SlaDue, TicketStore
    from csmkit.timeline import Event, Ticket

__all__ = ["BUILTIN_PLUGINS", "CsmkitPluginWarning", "PluginInfo", "PluginManager"]

BUILTIN_PLUGINS: tuple[str, ...] = ("csmkit.storage._plugin", "csmkit.plugins._builtin")
"""Modules registered first, under their module name, by every
[`PluginManager`][csmkit.plugins.PluginManager]."""


class _DuplicateRegistration(PluginError):
    """Two plugins register the same name: always an error, also for entry points."""


_REGISTRATION_HOOKS: dict[str, type] = {
    "csmkit_store_backends": StoreBackend,
    "csmkit_inbound_channels": InboundChannelRegistration,
    "csmkit_outbound_channels": OutboundChannelRegistration,
    "csmkit_routing_strategies": RoutingStrategyRegistration,
    "csmkit_calendars": CalendarRegistration,
    "csmkit_knowledge_stores": StoreBackend,
}


class CsmkitPluginWarning(UserWarning):
    """A third-party plugin is broken and was skipped (strict mode raises instead)."""


@attrs.frozen
class PluginInfo:
    """Where a registered plugin came from.

    Attributes:
        name: The name it is registered (and can be blocked) under.
        source: ``"builtin"``, ``"entrypoint"`` or ``"explicit"``.
        distribution: The installed distribution that provided it, for entry points.
        version: That distribution's version.
        value: The entry point's target (``"package.module:object"``), if any.
    """

    name: str
    source: str
    distribution: str | None = None
    version: str | None = None
    value: str | None = None

    def describe(self) -> str:
        """A human description used in error messages."""
        if self.source == "entrypoint":
            return (
                f"plugin {self.name!r} (entry point {self.value!r} of distribution "
                f"{self.distribution} {self.version})"
            )
        if self.source == "builtin":
            return f"built-in plugin {self.name!r}"
        return f"plugin {self.name!r} (registered explicitly)"


def _environment_names(value: str | None) -> list[str]:
    return [name.strip() for name in (value or "").split(",") if name.strip()]


class PluginManager:
    """Loads csmkit plugins and calls their hooks through typed methods.

    The application owns its manager (there is no global one). Loading order: the
    built-in plugins ([`BUILTIN_PLUGINS`][csmkit.plugins.BUILTIN_PLUGINS]), then the ``csmkit``
    entry-point group, then the ``plugins`` passed here; then
    [`check_pending()`][csmkit.plugins.PluginManager.check_pending] and a first collection of every
    registration hook, so misspelled hooks and duplicate names fail at start-up.

    A broken third-party plugin (import error, invalid hook implementation, unknown hook,
    bad registration records) emits [`CsmkitPluginWarning`][csmkit.plugins.CsmkitPluginWarning] and
    is skipped; with ``strict=True`` it raises [`PluginError`][csmkit.errors.PluginError]. Plugins
    passed explicitly are the application's own and always raise.

    Args:
        plugins: Extra plugins (modules or objects with ``@hookimpl`` functions), or
            ``(name, plugin)`` pairs.
        load_entrypoints: Discover installed plugins in the ``csmkit`` entry-point group.
        builtins: Register csmkit's built-in plugins (turn off only in tests).
        blocked: Plugin names never to register (entry-point names, or built-in module
            names such as ``"csmkit.plugins._builtin"``).
        strict: Re-raise instead of warning about broken plugins.
        environ: Where to read ``CSMKIT_DISABLE_PLUGINS`` (comma-separated names to
            block) and ``CSMKIT_STRICT_PLUGINS`` (``1`` for strict); ``os.environ`` by
            default.

    Raises:
        PluginError: an explicit or built-in plugin is invalid, a strict-mode failure,
            or two plugins register the same name.

    Examples:
        >>> pm = PluginManager(load_entrypoints=False)
        >>> sorted(pm.store_backends())
        ['memory', 'postgresql', 'sqlite']
    """

    def __init__(
        self,
        plugins: Iterable[object] = (),
        *,
        load_entrypoints: bool = True,
        builtins: bool = True,
        blocked: Iterable[str] = (),
        strict: bool | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        if strict is None:
            strict = env.get("CSMKIT_STRICT_PLUGINS", "").strip().lower() in ("1", "true", "yes")
        self._strict = strict
        self._pm = pluggy.PluginManager(PROJECT_NAME)
        self._pm.add_hookspecs(CsmkitSpecs)
        self._infos: dict[str, PluginInfo] = {}
        self._cache: dict[str, Mapping[str, Any]] = {}
        for name in [*blocked, *_environment_names(env.get("CSMKIT_DISABLE_PLUGINS"))]:
            self.block(name)
        if builtins:
            for module_name in BUILTIN_PLUGINS:
                if not self._pm.is_blocked(module_name):
                    module = importlib.import_module(module_name)
                    self._add(module, PluginInfo(module_name, "builtin"))
        if load_entrypoints:
            self.load_entrypoints()
        for item in plugins:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                self.register(item[1], name=item[0])
            else:
                self.register(item)
        self.check_pending()
        self._collect_all()

    def __repr__(self) -> str:
        return f"<PluginManager: {len(self._infos)} plugins>"

    # ----------------------------------------------------------------- loading
    @property
    def strict(self) -> bool:
        """Whether broken third-party plugins raise instead of warning."""
        return self._strict

    @property
    def pluggy_manager(self) -> pluggy.PluginManager:
        """The underlying ``pluggy.PluginManager`` (untyped; prefer the typed methods)."""
        return self._pm

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register the application's own plugin.

        Args:
            plugin: A module or object with ``@hookimpl`` functions.
            name: Its name (default: the module's ``__name__``, or the class name and
                the object's id).

        Returns:
            The registered name.

        Raises:
            PluginError: invalid hook implementations, unknown hooks, a name already in
                use, or registration records clashing with another plugin's.
        """
        plugin_name = (
            name
            or getattr(plugin, "__name__", None)
            or f"{type(plugin).__qualname__}@{id(plugin):x}"
        )
        return self._add(plugin, PluginInfo(plugin_name, "explicit"))

    def unregister(self, name: str) -> None:
        """Remove a registered plugin by name.

        Raises:
            NotFoundError: no plugin of that name.
        """
        from csmkit.errors import NotFoundError

        plugin = self._pm.get_plugin(name)
        if plugin is None:
            raise NotFoundError(f"no plugin named {name!r} is registered")
        self._pm.unregister(plugin, name=name)
        self._infos.pop(name, None)
        self._cache.clear()

    def block(self, name: str) -> None:
        """Block a plugin name: unregister it if present and never register it again."""
        if self._pm.get_plugin(name) is not None:
            self.unregister(name)
        self._pm.set_blocked(name)

    def is_blocked(self, name: str) -> bool:
        """Whether ``name`` is blocked."""
        return self._pm.is_blocked(name)

    def load_entrypoints(self, group: str = ENTRY_POINT_GROUP) -> int:
        """Load third-party plugins from an entry-point group (sorted by name).

        Blocked and already registered names are skipped; a plugin that fails to import
        or register is skipped with a [`CsmkitPluginWarning`][csmkit.plugins.CsmkitPluginWarning]
        (strict: raises).

        Returns:
            How many plugins were registered.
        """
        count = 0
        entry_points = sorted(
            importlib.metadata.entry_points(group=group), key=lambda ep: (ep.name, ep.value)
        )
        for ep in entry_points:
            dist = getattr(ep, "dist", None)
            info = PluginInfo(
                ep.name,
                "entrypoint",
                distribution=None if dist is None else dist.metadata["Name"],
                version=None if dist is None else dist.version,
                value=ep.value,
            )
            if self._pm.is_blocked(ep.name):
                continue
            existing = self._infos.get(ep.name)
            if existing is not None:
                if existing.source == "entrypoint" and existing.value == ep.value:
                    continue
                self._broken(
                    info, f"the name {ep.name!r} is already taken by {existing.describe()}"
                )
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self._broken(info, f"import failed: {type(exc).__name__}: {exc}", exc)
                continue
            try:
                self._add(plugin, info)
            except _DuplicateRegistration as exc:
                raise PluginError(str(exc)) from None
            except PluginError as exc:
                self._broken(info, str(exc), exc)
                continue
            count += 1
        return count

    def _broken(self, info: PluginInfo, reason: str, cause: BaseException | None = None) -> None:
        message = f"{info.describe()} is broken and was skipped: {reason}"
        if self._strict:
            raise PluginError(message) from cause
        warnings.warn(message, CsmkitPluginWarning, stacklevel=3)

    def _add(self, plugin: object, info: PluginInfo) -> str:
        existing = self._infos.get(info.name)
        if existing is not None or self._pm.get_plugin(info.name) is not None:
            other = existing.describe() if existing else "another plugin"
            raise PluginError(
                f"cannot register {info.describe()}: the name {info.name!r} is already "
                f"used by {other}"
            )
        if self._pm.is_blocked(info.name):
            raise PluginError(f"cannot register {info.describe()}: the name is blocked")
        try:
            self._pm.register(plugin, name=info.name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginError(f"{info.describe()} is invalid: {exc}") from exc
        self._infos[info.name] = info
        self._cache.clear()
        try:
            self._check_plugin(plugin, info)
            self._collect_all()
        except PluginError as exc:
            self._pm.unregister(plugin, name=info.name)
            del self._infos[info.name]
            self._cache.clear()
            if isinstance(exc, _DuplicateRegistration) and info.source != "entrypoint":
                raise PluginError(str(exc)) from None
            raise
        return info.name

    def _check_plugin(self, plugin: object, info: PluginInfo) -> None:
        """Unknown hooks and unmarked ``csmkit_*`` functions are errors, not silence."""
        problems = []
        for caller in self._pm.get_hookcallers(plugin) or ():
            if caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not impl.optionalhook:
                    problems.append(f"unknown hook {caller.name!r}{_suggest(caller.name)}")
        registered = {caller.name for caller in self._pm.get_hookcallers(plugin) or ()}
        for attribute in dir(plugin):
            if attribute.startswith("csmkit_") and attribute not in registered:
                value = getattr(plugin, attribute, None)
                if callable(value):
                    problems.append(
                        f"{attribute!r} looks like a hook but is not marked with @hookimpl"
                        f"{_suggest(attribute) if attribute not in _hook_names() else ''}"
                    )
        if problems:
            raise PluginError(f"{info.describe()}: " + "; ".join(problems))

    def check_pending(self) -> None:
        """Fail if any registered plugin implements a hook csmkit does not define.

        Raises:
            PluginError: naming the plugin, the unknown hook and the closest real hook.
        """
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self._pm.get_name(exc.plugin) or repr(exc.plugin)
            info = self._infos.get(name, PluginInfo(name, "explicit"))
            raise PluginError(f"{info.describe()}: {exc}") from exc

    def list_plugins(self) -> tuple[PluginInfo, ...]:
        """Every registered plugin, in registration order."""
        return tuple(self._infos.values())

    # ----------------------------------------------------------------- registrations
    def _collect_all(self) -> None:
        for hook_name in _REGISTRATION_HOOKS:
            self._registrations(hook_name)

    def _registrations(self, hook_name: str) -> Mapping[str, Any]:
        cached = self._cache.get(hook_name)
        if cached is not None:
            return cached
        record_type = _REGISTRATION_HOOKS[hook_name]
        caller = getattr(self._pm.hook, hook_name)
        found: dict[str, tuple[Any, PluginInfo]] = {}
        for impl in caller.get_hookimpls():
            info = self._infos.get(impl.plugin_name, PluginInfo(impl.plugin_name, "explicit"))
            if impl.wrapper or impl.hookwrapper:
                raise PluginError(f"{info.describe()}: {hook_name} cannot be a wrapper")
            try:
                result = impl.function()
                records = [] if result is None else list(result)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"{info.describe()}: {hook_name} failed: {type(exc).__name__}: {exc}"
                ) from exc
            for record in records:
                if not isinstance(record, record_type):
                    raise PluginError(
                        f"{info.describe()}: {hook_name} returned {record!r}, expected "
                        f"{record_type.__name__} records"
                    )
                key: str = cast("Registration", record).name
                if key in found:
                    other = found[key][1]
                    raise _DuplicateRegistration(
                        f"{hook_name}: {key!r} is registered twice, by {other.describe()} "
                        f"and by {info.describe()}; uninstall or block one of them "
                        "(blocked=[...] or CSMKIT_DISABLE_PLUGINS)"
                    )
                found[key] = (record, info)
        mapping = MappingProxyType({key: found[key][0] for key in sorted(found)})
        self._cache[hook_name] = mapping
        return mapping

    def store_backends(self) -> Mapping[str, StoreBackend]:
        """Every registered storage backend by URL scheme, sorted."""
        return self._registrations("csmkit_store_backends")

    def inbound_channels(self) -> Mapping[str, InboundChannelRegistration]:
        """Every registered inbound channel by name, sorted."""
        return self._registrations("csmkit_inbound_channels")

    def outbound_channels(self) -> Mapping[str, OutboundChannelRegistration]:
        """Every registered outbound channel (notifier) by name, sorted."""
        return self._registrations("csmkit_outbound_channels")

    def routing_strategies(self) -> Mapping[str, RoutingStrategyRegistration]:
        """Every registered routing strategy by name, sorted."""
        return self._registrations("csmkit_routing_strategies")

    def strategy_registry(self) -> StrategyRegistry:
        """A routing [`StrategyRegistry`][csmkit.routing.StrategyRegistry] with the built-in
        strategies and every plugin's ``csmkit_routing_strategies`` registration.

        A plugin strategy's factory is called with the rule's strategy options as keyword
        arguments (``{"name": "closest", "max_km": 30}`` → ``factory(max_km=30)``). Pass
        the registry to ``Router(rules, registry=...)``.

        Raises:
            PluginError: a plugin registers the name of a built-in strategy.
        """
        from csmkit.routing import default_registry

        registry = default_registry()
        for name, registration in self.routing_strategies().items():
            if name in registry:
                raise PluginError(
                    f"csmkit_routing_strategies: a plugin registers {name!r}, the name of a "
                    "built-in strategy; rename it or block the plugin"
                )
            factory = registration.factory

            def build(
                options: Mapping[str, Any], _registry: StrategyRegistry, make: Any = factory
            ) -> Any:
                return make(**options)

            registry.register(name, build)
        return registry

    def calendars(self) -> Mapping[str, CalendarRegistration]:
        """Every registered calendar or holiday provider by name, sorted."""
        return self._registrations("csmkit_calendars")

    def knowledge_stores(self) -> Mapping[str, StoreBackend]:
        """Every registered knowledge store by URL scheme, sorted."""
        return self._registrations("csmkit_knowledge_stores")

    def open_knowledge_store(self, url: str, **options: object) -> KnowledgeStore:
        """Open a knowledge store by URL (``memory://``, ``sqlite:///kb.db``, a plugin's).

        Raises:
            StorageError: no knowledge store for the scheme.
            StoreArgumentError: the URL or options are invalid for the backend.
            PluginError: the backend returned something that is not a knowledge store.
        """
        from csmkit.errors import StoreArgumentError
        from csmkit.knowledge import KnowledgeStore

        if not isinstance(url, str) or "://" not in url:
            raise StoreArgumentError(
                f"a knowledge store URL looks like 'sqlite:///kb.db', got {url!r}"
            )
        scheme = url.split("://", 1)[0].lower()
        backends = self.knowledge_stores()
        backend = backends.get(scheme)
        if backend is None:
            known = ", ".join(f"{name}://" for name in backends) or "none"
            raise StorageError(
                f"no knowledge store for {scheme}:// (in {url!r}); registered: {known}"
            )
        store = backend.factory(url, **options)
        if not isinstance(store, KnowledgeStore):
            raise PluginError(
                f"the {scheme}:// knowledge store returned {type(store).__name__}, which does "
                "not implement csmkit.knowledge.KnowledgeStore"
            )
        return store

    def open_store(self, url: str, **options: object) -> TicketStore:
        """Open a store by URL with the backend registered for its scheme.

        Args:
            url: ``memory://``, ``sqlite:///path/to/desk.db`` or a plugin's scheme.
            **options: Passed to the backend's factory.

        Raises:
            StorageError: no backend for the scheme, or the backend failed.
            StoreArgumentError: the URL or options are invalid for the backend.
        """
        from csmkit.errors import StoreArgumentError
        from csmkit.storage import TicketStore

        if not isinstance(url, str) or "://" not in url:
            raise StoreArgumentError(
                f"a store URL looks like 'scheme://...' (e.g. 'sqlite:///desk.db'), got {url!r}"
            )
        given, rest = url.split("://", 1)
        scheme = given.lower()
        url = f"{scheme}://{rest}"  # schemes are case-insensitive (RFC 3986 §3.1)
        backends = self.store_backends()
        backend = backends.get(scheme)
        if backend is None:
            known = ", ".join(f"{name}://" for name in backends) or "none"
            raise StorageError(
                f"no storage backend for {scheme}:// (in {url!r}); registered: {known}. "
                "Install the plugin that provides it (entry-point group 'csmkit')"
            )
        store = backend.factory(url, **options)
        if not isinstance(store, TicketStore):
            raise PluginError(
                f"the {scheme}:// backend returned {type(store).__name__}, which does not "
                "implement csmkit.storage.TicketStore"
            )
        return store

    # ----------------------------------------------------------------- behaviour hooks
    def match_ticket(self, message: InboundMessageLike, store: TicketStore) -> str | None:
        """The ticket an inbound message belongs to, or ``None`` for a new ticket."""
        result = self._pm.hook.csmkit_match_ticket(message=message, store=store)
        if result is not None and not isinstance(result, str):
            raise PluginError(f"csmkit_match_ticket returned {result!r}, expected a ticket id")
        return result

    def accepts_inbound(self, message: InboundMessageLike) -> bool:
        """``False`` when any ``csmkit_inbound_filter`` implementation drops the message."""
        results = self._pm.hook.csmkit_inbound_filter(message=message)
        return all(result is not False for result in results)

    def ticket_event(self, event: Event, ticket: Ticket) -> None:
        """Tell every plugin that ``event`` was durably stored (``ticket``: state after it)."""
        self._pm.hook.csmkit_ticket_event(event=event, ticket=ticket)

    def append_and_notify(
        self,
        store: TicketStore,
        ticket_id: str,
        events: Sequence[Event],
        expected_version: int,
        *,
        due: SlaDue | None = None,
    ) -> int:
        """Append a batch, then call [`ticket_event()`][csmkit.plugins.PluginManager.ticket_event]
        for each event in order. ``due`` is the SLA due mark of the state after the batch,
        as in [`TicketStore.append()`][csmkit.storage.TicketStore.append].

        Returns:
            The new version. Listener errors propagate, but the batch stays stored.
        """
        from csmkit.timeline import Ticket, Timeline

        batch = tuple(events)
        version = store.append(ticket_id, batch, expected_version, due=due)
        if not self._pm.hook.csmkit_ticket_event.get_hookimpls():
            return version
        timeline = store.load(ticket_id)
        before = Timeline(timeline.events[:expected_version]).ticket if expected_version else None
        for event in timeline.events[expected_version:version]:
            ticket = Ticket.created(event) if before is None else before.apply(event)  # type: ignore[arg-type]
            self.ticket_event(event, ticket)
            before = ticket
        return version

    def deliver_notification(self, notification: object, channel: object) -> object | None:
        """Deliver one notification; the receipt of the first implementation that sends."""
        result: object | None = self._pm.hook.csmkit_deliver_notification(
            notification=notification, channel=channel
        )
        return result


def _hook_names() -> list[str]:
    return sorted(name for name in vars(CsmkitSpecs) if name.startswith("csmkit_"))


def _suggest(name: str) -> str:
    close = difflib.get_close_matches(name, _hook_names(), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
