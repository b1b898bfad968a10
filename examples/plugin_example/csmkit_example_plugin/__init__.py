"""An example third-party csmkit plugin.

It shows the three kinds of hooks:

* a registration hook (``csmkit_store_backends``, ``csmkit_outbound_channels``),
* a fan-out hook (``csmkit_inbound_filter``: drop auto-replies, 自动回复),
* a wrapper around a first-result hook (``csmkit_deliver_notification``: count
  deliveries, the way a metrics plugin would).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable

from csmkit.hookspecs import hookimpl
from csmkit.plugins import OutboundChannelRegistration, StoreBackend
from csmkit.storage import MemoryStore

__all__ = ["DELIVERIES", "ConsoleNotifier"]

AUTO_REPLY_MARKERS = ("auto:", "automatic reply", "out of office", "自动回复")

DELIVERIES: list[str] = []
"""Channel names of every notification delivered while this plugin was loaded."""


class ConsoleNotifier:
    """An outbound channel that "sends" by returning the text it would print."""

    name = "console"

    def __init__(self, prefix: str = "[csmkit]") -> None:
        self.prefix = prefix

    def send(self, notification: object) -> str:
        """Deliver one notification; the receipt is the rendered line."""
        return f"{self.prefix} {notification}"


def open_demo_store(url: str, **options: object) -> MemoryStore:
    """``demo://`` opens a new in-memory store (a real plugin would connect somewhere)."""
    return MemoryStore()


@hookimpl
def csmkit_store_backends() -> Iterable[StoreBackend]:
    yield StoreBackend("demo", open_demo_store, "demo store from the example plugin")


@hookimpl
def csmkit_outbound_channels() -> Iterable[OutboundChannelRegistration]:
    yield OutboundChannelRegistration("console", ConsoleNotifier, "prints notifications")


@hookimpl
def csmkit_inbound_filter(message: object) -> bool | None:
    subject = str(getattr(message, "subject", "")).strip().lower()
    if subject.startswith(AUTO_REPLY_MARKERS):
        return False
    return None


@hookimpl(wrapper=True)
def csmkit_deliver_notification(
    notification: object, channel: object
) -> Generator[None, object | None, object | None]:
    receipt = yield
    if receipt is not None:
        DELIVERIES.append(str(getattr(channel, "name", type(channel).__name__)))
    return receipt
