"""Value types of the customer directory: assets, warranty status, audit entries."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from csmkit._jsonvalue import freeze_mapping, thaw
from csmkit._time import format_instant, parse_instant, require_aware
from csmkit.errors import IdentityError

__all__ = ["Asset", "AuditEntry", "WarrantyState", "WarrantyStatus"]


def _text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise IdentityError(f"{type(instance).__name__}.{attribute.name} must be a string")


def _serial(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise IdentityError(f"Asset.serial must be a non-empty string, got {value!r}")
    return value.strip()


def _optional_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise IdentityError(f"{type(instance).__name__}.{attribute.name}: bad id {value!r}")


def _date(value: object) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise IdentityError(f"expected a date or 'YYYY-MM-DD', got {value!r}")


def json_mapping(value: object) -> Mapping[str, Any]:
    """Validate and freeze JSON-safe attributes."""
    try:
        return freeze_mapping(value, "attributes")
    except ValueError as exc:
        raise IdentityError(str(exc)) from None


def check_now(value: object, name: str = "now") -> datetime:
    """Validate an aware instant argument."""
    return require_aware(value, name, IdentityError)


class WarrantyState(str, enum.Enum):
    """Whether an asset is under warranty at an instant."""

    IN_WARRANTY = "in_warranty"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    """No warranty end date is recorded."""


@attrs.frozen
class WarrantyStatus:
    """An asset's warranty at an instant.

    Attributes:
        state: In warranty, expired or unknown.
        until: The last day of cover, if known.
        days_left: Whole days of cover left after the instant's local date (0 on the
            last day, negative once expired); ``None`` when unknown.
    """

    state: WarrantyState
    until: date | None
    days_left: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "state": self.state.value,
            "until": None if self.until is None else self.until.isoformat(),
            "days_left": self.days_left,
        }


@attrs.frozen(kw_only=True)
class Asset:
    """A product a customer owns (a device, an installation), with its warranty.

    Attributes:
        serial: The serial number (unique; trimmed, otherwise compared exactly).
        model: The model (``"KFR-35GW"``).
        product_line: The product line (``"空调"``, ``"air-conditioning"``).
        customer_id: The owner, if known.
        purchased: Purchase date.
        warranty_until: Last day of warranty cover (inclusive).
        region: Service region (``"华东"``, ``"Shanghai"``), used for routing.
        address: Installation address.
        attributes: Extra JSON-safe data (installer, batch …).

    Examples:
        >>> from datetime import datetime, timezone
        >>> a = Asset(serial="SN-001", model="KFR-35GW", product_line="空调",
        ...           purchased="2025-06-01", warranty_until="2027-05-31")
        >>> a.warranty_status(datetime(2027, 5, 31, 20, tzinfo=timezone.utc)).state.value
        'in_warranty'
    """

    serial: str = attrs.field(converter=_serial)
    model: str = attrs.field(default="", validator=_text)
    product_line: str = attrs.field(default="", validator=_text)
    customer_id: str | None = attrs.field(default=None, validator=_optional_id)
    purchased: date | None = attrs.field(default=None, converter=_date)
    warranty_until: date | None = attrs.field(default=None, converter=_date)
    region: str = attrs.field(default="", validator=_text)
    address: str = attrs.field(default="", validator=_text)
    attributes: Mapping[str, Any] = attrs.field(factory=dict, converter=json_mapping)

    def __attrs_post_init__(self) -> None:
        if (
            self.purchased is not None
            and self.warranty_until is not None
            and self.warranty_until < self.purchased
        ):
            raise IdentityError(
                f"asset {self.serial!r}: warranty_until {self.warranty_until} is before "
                f"purchased {self.purchased}"
            )

    def warranty_status(self, at: datetime) -> WarrantyStatus:
        """The warranty at instant ``at``, judged on ``at``'s local date.

        Cover runs through ``warranty_until`` inclusive, in the time zone of ``at``:
        pass ``at`` in the customer's zone (16:30 UTC on May 31st is already June 1st
        in Shanghai).

        Raises:
            IdentityError: ``at`` is naive.
        """
        day = check_now(at, "at").date()
        if self.warranty_until is None:
            return WarrantyStatus(WarrantyState.UNKNOWN, None, None)
        left = (self.warranty_until - day).days
        state = WarrantyState.IN_WARRANTY if left >= 0 else WarrantyState.EXPIRED
        return WarrantyStatus(state, self.warranty_until, left)

    def expires_within(self, days: int, at: datetime) -> bool:
        """Whether cover ends between ``at``'s local date and ``days`` days later."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise IdentityError(f"days must be an integer >= 0, got {days!r}")
        day = check_now(at, "at").date()
        return self.warranty_until is not None and (
            day <= self.warranty_until <= day + timedelta(days=days)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (dates as ``YYYY-MM-DD``)."""
        return {
            "serial": self.serial,
            "model": self.model,
            "product_line": self.product_line,
            "customer_id": self.customer_id,
            "purchased": None if self.purchased is None else self.purchased.isoformat(),
            "warranty_until": (
                None if self.warranty_until is None else self.warranty_until.isoformat()
            ),
            "region": self.region,
            "address": self.address,
            "attributes": thaw(self.attributes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Asset:
        """Rebuild from [`to_dict()`][csmkit.customers.Asset.to_dict] output.

        Raises:
            IdentityError: not a mapping, unknown keys, invalid values.
        """
        if not isinstance(data, Mapping):
            raise IdentityError(f"an asset must be a dict, got {type(data).__name__}")
        names = {a.name for a in attrs.fields(cls)}
        extra = sorted(set(data) - names)
        if extra:
            raise IdentityError(f"unexpected key(s) {extra} in an asset")
        if "serial" not in data:
            raise IdentityError("an asset needs a 'serial'")
        return cls(**data)


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One change to the customer directory (who merged whom, when and why).

    Attributes:
        at: When it happened.
        action: ``register``, ``rename``, ``add_identity``, ``remove_identity``,
            ``merge``, ``split`` or ``save_asset``.
        customer_id: The customer it concerns.
        actor: Who did it, if known.
        details: JSON-safe specifics (identities moved, the other customer, reason).
    """

    at: datetime = attrs.field()
    action: str = attrs.field(validator=_text)
    customer_id: str = attrs.field(validator=_text)
    actor: str | None = attrs.field(default=None, validator=_optional_id)
    details: Mapping[str, Any] = attrs.field(factory=dict, converter=json_mapping)

    @at.validator
    def _check_at(self, attribute: attrs.Attribute[Any], value: object) -> None:
        check_now(value, "at")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "at": format_instant(self.at),
            "action": self.action,
            "customer_id": self.customer_id,
            "actor": self.actor,
            "details": thaw(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditEntry:
        """Rebuild from [`to_dict()`][csmkit.customers.AuditEntry.to_dict] output.

        Raises:
            IdentityError: malformed data.
        """
        if not isinstance(data, Mapping) or set(data) != {
            "at",
            "action",
            "customer_id",
            "actor",
            "details",
        }:
            raise IdentityError(f"malformed audit entry {data!r}")
        try:
            at = parse_instant(data["at"])
        except (TypeError, ValueError) as exc:
            raise IdentityError(f"audit entry 'at': {exc}") from None
        return cls(
            at=at,
            action=data["action"],
            customer_id=data["customer_id"],
            actor=data["actor"],
            details=data["details"],
        )
