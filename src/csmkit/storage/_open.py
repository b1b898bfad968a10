"""``open_store(url)``: a store by URL, through the registered backends."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from csmkit.plugins import PluginManager
    from csmkit.storage._model import TicketStore

__all__ = ["open_store"]


def open_store(url: str, *, plugins: PluginManager | None = None, **options: object) -> TicketStore:
    """Open a store by URL.

    Args:
        url: ``"memory://"`` (a new, empty in-memory store),
            ``"sqlite:///relative/desk.db"``, ``"sqlite:////absolute/desk.db"``,
            ``"sqlite://"`` (an in-memory SQLite database), or any scheme a plugin
            registers. Schemes are case-insensitive (``"SQLite:///desk.db"`` works);
            the backend receives the URL with its scheme lower-cased.
        plugins: The application's plugin manager. Without one, a new manager with the
            built-in backends and the installed plugins is created for this call.
        **options: Backend options (SQLite: ``busy_timeout``, ``synchronous``).

    Returns:
        The store; close it (or use it as a context manager) when done.

    Raises:
        StorageError: unknown scheme (the message lists the registered ones), or the
            backend failed to open (corrupt or foreign file, newer schema).
        StoreArgumentError: a malformed URL or unknown option.

    Examples:
        >>> with open_store("memory://") as store:
        ...     store.version("T-1")
        0
        >>> open_store("mongodb://db/desk")
        Traceback (most recent call last):
        ...
        csmkit.errors.StorageError: no storage backend for mongodb:// ... sqlite://. ...
    """
    if plugins is None:
        from csmkit.plugins import PluginManager

        plugins = PluginManager()
    return plugins.open_store(url, **options)
