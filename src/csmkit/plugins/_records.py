"""Typed registration records that plugins yield from the ``csmkit_*`` registration hooks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import attrs

from csmkit.errors import PluginError

__all__ = [
    "CalendarRegistration",
    "InboundChannelRegistration",
    "InboundMessageLike",
    "OutboundChannelRegistration",
    "Registration",
    "RoutingStrategyRegistration",
    "StoreBackend",
]

_NAME = re.compile(r"^[a-z][a-z0-9_.+-]*$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")


def _normalise(value: object) -> str:
    if not isinstance(value, str):
        raise PluginError(f"a registration name must be a string, got {value!r}")
    return value.strip().lower()


def _check_name(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not _NAME.match(value):
        raise PluginError(
            f"{type(instance).__name__}.{attribute.name}: {value!r} is not a valid name "
            "(lower-case letters, digits, '_', '.', '+', '-', starting with a letter)"
        )


def _check_scheme(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not _SCHEME.match(value):
        raise PluginError(
            f"StoreBackend.scheme: {value!r} is not a valid URL scheme "
            "(RFC 3986: a letter, then letters, digits, '+', '.', '-')"
        )


def _check_factory(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise PluginError(
            f"{type(instance).__name__}.{attribute.name}: expected a callable, got {value!r}"
        )


def _check_description(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise PluginError(
            f"{type(instance).__name__}.description: expected a string, got {value!r}"
        )


@attrs.frozen
class StoreBackend:
    """A storage backend, selected by the scheme of a store URL.

    ``open_store("memory://")`` and ``open_store("sqlite:///desk.db")`` use the built-in
    backends registered exactly this way.

    Attributes:
        scheme: The URL scheme (``"sqlite"``, ``"postgresql"``); stripped and lower-cased.
        factory: Called as ``factory(url, **options)`` with the full URL string and the
            keyword options given to ``open_store``; returns a
            [`csmkit.storage.TicketStore`][csmkit.storage.TicketStore].
        description: One line shown by ``csmkit`` tooling.
    """

    scheme: str = attrs.field(converter=_normalise, validator=_check_scheme)
    factory: Callable[..., object] = attrs.field(validator=_check_factory)
    description: str = attrs.field(default="", validator=_check_description)

    @property
    def name(self) -> str:
        """The registration name (the scheme)."""
        return self.scheme


@attrs.frozen
class InboundChannelRegistration:
    """An inbound channel: turns raw payloads (e-mail bytes, webhook JSON) into messages.

    Attributes:
        name: The channel name (``"email"``, ``"wechat"``); stripped and lower-cased.
        factory: Called as ``factory(**options)``; returns the channel's parser object.
            Its interface is defined by the channels part of csmkit.
        description: One line shown by ``csmkit`` tooling.
    """

    name: str = attrs.field(converter=_normalise, validator=_check_name)
    factory: Callable[..., object] = attrs.field(validator=_check_factory)
    description: str = attrs.field(default="", validator=_check_description)


@attrs.frozen
class OutboundChannelRegistration:
    """An outbound channel (a notifier): sends notifications (SMTP, SMS, chat …).

    Attributes:
        name: The channel name (``"smtp"``, ``"sms"``, ``"dingtalk"``).
        factory: Called as ``factory(**options)``; returns the sender object.
        description: One line shown by ``csmkit`` tooling.
    """

    name: str = attrs.field(converter=_normalise, validator=_check_name)
    factory: Callable[..., object] = attrs.field(validator=_check_factory)
    description: str = attrs.field(default="", validator=_check_description)


@attrs.frozen
class RoutingStrategyRegistration:
    """A named routing strategy (round robin, skills-based, least loaded …).

    Attributes:
        name: The strategy name used in routing configuration.
        factory: Called as ``factory(**options)``; returns the strategy object defined by
            [`csmkit.routing`][csmkit.routing].
        description: One line shown by ``csmkit`` tooling.
    """

    name: str = attrs.field(converter=_normalise, validator=_check_name)
    factory: Callable[..., object] = attrs.field(validator=_check_factory)
    description: str = attrs.field(default="", validator=_check_description)


@attrs.frozen
class CalendarRegistration:
    """A named business calendar or holiday provider used by SLA clocks.

    Attributes:
        name: The calendar name (``"cn-mainland"``, ``"hk"``).
        factory: Called as ``factory(**options)``; returns the calendar or holiday
            provider object defined by [`csmkit.sla`][csmkit.sla].
        description: One line shown by ``csmkit`` tooling.
    """

    name: str = attrs.field(converter=_normalise, validator=_check_name)
    factory: Callable[..., object] = attrs.field(validator=_check_factory)
    description: str = attrs.field(default="", validator=_check_description)


Registration = (
    StoreBackend
    | InboundChannelRegistration
    | OutboundChannelRegistration
    | RoutingStrategyRegistration
    | CalendarRegistration
)
"""Any registration record."""


@runtime_checkable
class InboundMessageLike(Protocol):
    """The minimal view of an inbound message that the message hooks rely on.

    [`InboundMessage`][csmkit.channels.InboundMessage] (what the desk and the channels'
    intake pass) satisfies it; the hooks accept any object with these read-only attributes
    (extra attributes are welcome and are passed through untouched).

    Attributes:
        channel: The channel it arrived on (``"email"``, ``"wechat"`` …).
        external_id: The channel's id of the message (e-mail ``Message-ID``), if any.
        in_reply_to: The id of the message it answers, if known.
        references: Earlier message ids of the conversation, oldest first.
        sender: Who sent it (an address, a phone number, an open id).
        subject: The subject line, ``""`` if the channel has none.
    """

    @property
    def channel(self) -> str:
        """The channel it arrived on."""

    @property
    def external_id(self) -> str | None:
        """The channel's id of the message."""

    @property
    def in_reply_to(self) -> str | None:
        """The id of the message it answers."""

    @property
    def references(self) -> tuple[str, ...]:
        """Earlier message ids of the conversation, oldest first."""

    @property
    def sender(self) -> str:
        """Who sent it."""

    @property
    def subject(self) -> str:
        """The subject line."""
