"""Private helpers for timezone-aware instants, shared by every part of csmkit."""

from __future__ import annotations

from datetime import datetime

from dateutil.parser import isoparse

__all__ = ["format_instant", "is_aware", "parse_instant"]


def is_aware(value: datetime) -> bool:
    """Return whether ``value`` carries a usable UTC offset."""
    return value.tzinfo is not None and value.utcoffset() is not None


def format_instant(value: datetime) -> str:
    """ISO 8601 text with the UTC offset, microseconds kept when present."""
    return value.isoformat()


def parse_instant(text: str) -> datetime:
    """Parse ISO 8601 text that must carry an offset (``Z`` or ``+08:00``).

    Raises:
        ValueError: The text is not ISO 8601 or has no offset.
    """
    value = isoparse(text)
    if not is_aware(value):
        raise ValueError(f"instant {text!r} has no UTC offset")
    return value
