"""Exporting and importing the directory's records as rows (``csmkit store copy``).

A row is ``(kind, data)`` with ``kind`` one of ``profile``, ``asset``, ``merge``,
``audit`` and ``data`` JSON-safe. Every backend exports in one order: profiles by
customer id, assets by serial, merges by source id (code point order), then the audit
trail oldest first. Two records holding the same things export equal rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from csmkit._jsonvalue import thaw
from csmkit.customers._model import Asset, AuditEntry, json_mapping
from csmkit.errors import CsmkitError, StorageError
from csmkit.storage import check_storable

__all__ = ["RecordRow", "check_range", "parse_rows", "profile_row"]

RecordRow = tuple[str, dict[str, Any]]


def check_range(first: object, last: object) -> None:
    """``assets_expiring`` takes two calendar dates (a ``datetime`` is refused: its time
    of day would compare differently in each backend)."""
    for name, value in (("first", first), ("last", last)):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise TypeError(f"assets_expiring: {name} must be a date, got {value!r}")


def profile_row(customer_id: str, attributes: Mapping[str, Any]) -> RecordRow:
    return ("profile", {"customer_id": customer_id, "attributes": thaw(attributes)})


@attrs.frozen
class ParsedRows:
    """Rows checked and rebuilt, by kind, in the order given."""

    profiles: list[tuple[str, dict[str, Any]]]
    assets: list[Asset]
    merges: list[tuple[str, str]]
    audit: list[AuditEntry]

    def __len__(self) -> int:
        return len(self.profiles) + len(self.assets) + len(self.merges) + len(self.audit)


def _ids(data: Mapping[str, Any], *names: str, extra: tuple[str, ...] = ()) -> list[str]:
    unexpected = sorted(set(data) - set(names) - set(extra))
    if unexpected:
        raise ValueError(f"unexpected keys {unexpected}")
    values = [data.get(name) for name in names]
    for name, value in zip(names, values, strict=True):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return [str(value) for value in values]


def _parse(kind: object, data: object, parsed: ParsedRows) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"data must be a mapping, got {type(data).__name__}")
    if kind == "profile":
        (customer_id,) = _ids(data, "customer_id", extra=("attributes",))
        attributes = thaw(json_mapping(data.get("attributes")))
        check_storable([customer_id, attributes], f"import profile of {customer_id!r}")
        parsed.profiles.append((customer_id, attributes))
    elif kind == "asset":
        asset = Asset.from_dict(data)
        check_storable(asset.to_dict(), f"import asset {asset.serial!r}")
        parsed.assets.append(asset)
    elif kind == "merge":
        source_id, target_id = _ids(data, "source_id", "target_id")
        check_storable([source_id, target_id], "import a merge")
        parsed.merges.append((source_id, target_id))
    elif kind == "audit":
        entry = AuditEntry.from_dict(data)
        check_storable(entry.to_dict(), "import an audit entry")
        parsed.audit.append(entry)
    else:
        raise ValueError(f"unknown kind {kind!r} (profile, asset, merge, audit)")


def parse_rows(rows: Iterable[tuple[str, Mapping[str, Any]]]) -> ParsedRows:
    """Check every row before anything is written.

    Raises:
        StorageError: a malformed row (the message gives its index); nothing was written.
    """
    parsed = ParsedRows([], [], [], [])
    for index, row in enumerate(rows):
        try:
            kind, data = row
        except (TypeError, ValueError):
            raise StorageError(
                f"import customer records: row {index} is not a (kind, data) pair; "
                "nothing was written"
            ) from None
        try:
            _parse(kind, data, parsed)
        except (CsmkitError, ValueError, TypeError) as exc:
            raise StorageError(
                f"import customer records: row {index} ({kind!r}): {exc}; nothing was written"
            ) from None
    return parsed
