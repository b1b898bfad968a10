"""The customer directory: one customer across channels, merges and splits, the 360° view."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from csmkit._jsonvalue import thaw
from csmkit.customers._identities import normalise_identity, parse_identity
from csmkit.customers._model import Asset, AuditEntry, WarrantyStatus, check_now
from csmkit.customers._records import CustomerRecords, MemoryCustomerRecords
from csmkit.errors import IdentityError, NotFoundError
from csmkit.storage import Customer, Identity, TicketStore, TicketSummary
from csmkit.timeline import SurveyAnswered

__all__ = ["AssetView", "CustomerDirectory", "CustomerView", "SurveyRecord", "TicketView"]

IdentityInput = Identity | str | tuple[str, str]


@attrs.frozen
class TicketView:
    """One ticket in a customer view.

    Attributes:
        summary: The ticket's indexed state (status, category, priority …).
        sla: The SLA evaluator's result (its ``to_dict()`` when it has one), or
            ``None`` when no evaluator was given.
    """

    summary: TicketSummary
    sla: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (when the SLA result is)."""
        return {**self.summary.to_dict(), "sla": self.sla}


@attrs.frozen
class SurveyRecord:
    """A survey answer found in one of the customer's tickets."""

    ticket_id: str
    survey: str
    score: float | int
    comment: str | None
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "ticket_id": self.ticket_id,
            "survey": self.survey,
            "score": self.score,
            "comment": self.comment,
            "at": self.at.isoformat(),
        }


@attrs.frozen
class AssetView:
    """An asset with its warranty at the view's instant."""

    asset: Asset
    warranty: WarrantyStatus

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {**self.asset.to_dict(), "warranty": self.warranty.to_dict()}


@attrs.frozen(kw_only=True)
class CustomerView:
    """The customer 360° view (客户360视图) at an instant.

    Attributes:
        customer: The customer record (id, name, identities).
        profile: Free-form profile attributes.
        merged_from: Customers merged into this one (their tickets and assets are
            included).
        tickets: Every ticket of the customer, newest activity first.
        surveys: Every survey answer in those tickets, oldest first.
        assets: The customer's assets with warranty status.
        history: The directory's audit trail for this customer.
        now: The instant the view was computed for.
    """

    customer: Customer
    profile: Mapping[str, Any]
    merged_from: tuple[str, ...]
    tickets: tuple[TicketView, ...]
    surveys: tuple[SurveyRecord, ...]
    assets: tuple[AssetView, ...]
    history: tuple[AuditEntry, ...]
    now: datetime

    @property
    def open_tickets(self) -> tuple[TicketView, ...]:
        """Tickets not yet solved or closed."""
        return tuple(
            t for t in self.tickets if t.summary.category.value not in ("solved", "closed")
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "customer": self.customer.to_dict(),
            "profile": thaw(self.profile),
            "merged_from": list(self.merged_from),
            "tickets": [t.to_dict() for t in self.tickets],
            "surveys": [s.to_dict() for s in self.surveys],
            "assets": [a.to_dict() for a in self.assets],
            "history": [h.to_dict() for h in self.history],
            "now": self.now.isoformat(),
        }


class CustomerDirectory:
    """Resolves identities on every channel to one customer, and builds the 360° view.

    Customers and identities are kept by the ticket store (``save_customer``,
    ``find_customer``); profiles, assets, merges and the audit trail by ``records``.
    Identities are normalised before they are stored or looked up, so
    ``+86 138-0013-8000``, ``0086 13800138000`` and ``13800138000`` are one identity.

    Args:
        store: The ticket store.
        records: Where the rest lives (default
            [`MemoryCustomerRecords`][csmkit.customers.MemoryCustomerRecords]; use
            [`SqliteCustomerRecords`][csmkit.customers.SqliteCustomerRecords] on the store's file to
            persist).
        region: Default region for phone numbers without a country code.
    """

    def __init__(
        self, store: TicketStore, records: CustomerRecords | None = None, *, region: str = "CN"
    ) -> None:
        self.store = store
        self.records: CustomerRecords = records if records is not None else MemoryCustomerRecords()
        self.region = region

    # ----------------------------------------------------------------- identities
    def identity(self, value: IdentityInput) -> Identity:
        """Normalise ``Identity``, ``"kind:value"``/address/number text or ``(kind, value)``.

        Raises:
            IdentityError: cannot be normalised.
        """
        if isinstance(value, Identity):
            return normalise_identity(value.kind, value.value, region=self.region)
        if isinstance(value, tuple) and len(value) == 2:
            return normalise_identity(value[0], value[1], region=self.region)
        if isinstance(value, str):
            return parse_identity(value, region=self.region)
        raise IdentityError(f"not an identity: {value!r}")

    def _canonical(self, customer_id: str) -> str:
        seen = {customer_id}
        target = self.records.merged_into(customer_id)
        while target is not None and target not in seen:
            customer_id = target
            seen.add(target)
            target = self.records.merged_into(customer_id)
        return customer_id

    def resolve(self, kind: str, value: str) -> str | None:
        """The id of the customer owning an identity (following merges), or ``None``.

        Values that cannot be normalised resolve to ``None`` (an unknown sender), never
        to an error: intake must not crash on a strange sender.
        """
        try:
            identity = normalise_identity(kind, value, region=self.region)
        except IdentityError:
            return None
        customer = self.store.find_customer(identity.kind, identity.value)
        return None if customer is None else self._canonical(customer.id)

    def find(self, text: IdentityInput) -> Customer | None:
        """The customer an agent's input identifies (``"138 0013 8000"``), or ``None``.

        Raises:
            IdentityError: the input is not an identity at all.
        """
        identity = self.identity(text)
        customer = self.store.find_customer(identity.kind, identity.value)
        if customer is None:
            return None
        return self.store.get_customer(self._canonical(customer.id))

    def get(self, customer_id: str) -> Customer:
        """The customer (following merges); raises ``NotFoundError``."""
        return self.store.get_customer(self._canonical(customer_id))

    def _exists(self, customer_id: str) -> bool:
        try:
            self.store.get_customer(customer_id)
        except NotFoundError:
            return False
        return True

    def _audit(
        self, action: str, customer_id: str, at: datetime, actor: str | None, **details: Any
    ) -> None:
        self.records.add_audit(
            AuditEntry(at=at, action=action, customer_id=customer_id, actor=actor, details=details)
        )

    def register(
        self,
        customer_id: str,
        *,
        at: datetime,
        name: str = "",
        identities: Iterable[IdentityInput] = (),
        profile: Mapping[str, Any] | None = None,
        actor: str | None = None,
    ) -> Customer:
        """Create a customer.

        Raises:
            IdentityError: the id exists, or an identity is invalid or already taken.
        """
        check_now(at, "at")
        if self._exists(customer_id):
            raise IdentityError(f"customer {customer_id!r} already exists")
        normalised = [self.identity(i) for i in identities]
        self._check_free(normalised, customer_id)
        customer = Customer(customer_id, name=name, identities=normalised)
        self.store.save_customer(customer)
        if profile is not None:
            self.records.save_profile(customer_id, profile)
        self._audit(
            "register",
            customer_id,
            at,
            actor,
            name=name,
            identities=[i.to_dict() for i in customer.identities],
        )
        return customer

    def _check_free(self, identities: Iterable[Identity], customer_id: str) -> None:
        for identity in identities:
            owner = self.store.find_customer(identity.kind, identity.value)
            if owner is not None and owner.id != customer_id:
                raise IdentityError(
                    f"identity {identity.kind}:{identity.value} already belongs to customer "
                    f"{owner.id!r}; merge the customers instead"
                )

    def add_identity(
        self, customer_id: str, identity: IdentityInput, *, at: datetime, actor: str | None = None
    ) -> Customer:
        """Link one more identity to a customer.

        Raises:
            NotFoundError: no such customer.
            IdentityError: invalid, or owned by another customer.
        """
        check_now(at, "at")
        normalised = self.identity(identity)
        customer = self.get(customer_id)
        self._check_free([normalised], customer.id)
        updated = attrs.evolve(customer, identities=[*customer.identities, normalised])
        self.store.save_customer(updated)
        self._audit("add_identity", customer.id, at, actor, identity=normalised.to_dict())
        return updated

    def remove_identity(
        self, customer_id: str, identity: IdentityInput, *, at: datetime, actor: str | None = None
    ) -> Customer:
        """Unlink an identity.

        Raises:
            NotFoundError: no such customer.
            IdentityError: the customer does not have it.
        """
        check_now(at, "at")
        normalised = self.identity(identity)
        customer = self.get(customer_id)
        if normalised not in customer.identities:
            raise IdentityError(
                f"customer {customer.id!r} has no identity {normalised.kind}:{normalised.value}"
            )
        updated = attrs.evolve(
            customer, identities=[i for i in customer.identities if i != normalised]
        )
        self.store.save_customer(updated)
        self._audit("remove_identity", customer.id, at, actor, identity=normalised.to_dict())
        return updated

    def merge(
        self,
        source_id: str,
        into_id: str,
        *,
        at: datetime,
        actor: str | None = None,
        reason: str = "",
    ) -> Customer:
        """Merge customer ``source_id`` into ``into_id`` (a duplicate found by an agent).

        The source's identities move to the target; the source stays as a record that
        redirects to the target (its tickets and assets appear in the target's view);
        both customers get an audit entry. Undo it with
        [`split()`][csmkit.customers.CustomerDirectory.split].

        Raises:
            NotFoundError: either customer is missing.
            IdentityError: merging a customer into itself (or into one merged into it).
        """
        check_now(at, "at")
        source = self.get(source_id)
        target = self.get(into_id)
        if source.id == target.id:
            raise IdentityError(f"cannot merge customer {source.id!r} into itself")
        moved = source.identities
        self.store.save_customer(attrs.evolve(source, identities=()))
        try:
            merged = attrs.evolve(target, identities=[*target.identities, *moved])
            self.store.save_customer(merged)
        except BaseException:
            self.store.save_customer(source)  # put the identities back: nothing half-done
            raise
        self.records.set_merged(source.id, target.id)
        details = {"identities": [i.to_dict() for i in moved], "reason": reason}
        self._audit("merge", target.id, at, actor, merged_from=source.id, **details)
        self._audit("merge", source.id, at, actor, merged_into=target.id, **details)
        return merged

    def split(
        self,
        customer_id: str,
        new_customer_id: str,
        identities: Iterable[IdentityInput],
        *,
        at: datetime,
        name: str = "",
        actor: str | None = None,
        reason: str = "",
    ) -> Customer:
        """Move some identities of a customer to another (new or previously merged) one.

        Splitting back to a customer that was merged into ``customer_id`` undoes the
        merge (it stops redirecting); otherwise ``new_customer_id`` is created.

        Raises:
            NotFoundError: no such customer.
            IdentityError: an identity the customer does not have, or
                ``new_customer_id`` exists and was not merged into it.
        """
        check_now(at, "at")
        customer = self.get(customer_id)
        wanted = [self.identity(i) for i in identities]
        missing = [i for i in wanted if i not in customer.identities]
        if missing or not wanted:
            shown = ", ".join(f"{i.kind}:{i.value}" for i in missing) or "none given"
            raise IdentityError(f"customer {customer.id!r} does not have identities: {shown}")
        revived = self.records.merged_into(new_customer_id) == customer.id
        if not revived and self._exists(new_customer_id):
            raise IdentityError(
                f"customer {new_customer_id!r} already exists and was not merged into "
                f"{customer.id!r}"
            )
        remaining = attrs.evolve(
            customer, identities=[i for i in customer.identities if i not in wanted]
        )
        previous = self.store.get_customer(new_customer_id) if revived else None
        self.store.save_customer(remaining)
        try:
            base = previous or Customer(new_customer_id, name=name)
            split = attrs.evolve(base, identities=wanted, name=name or base.name)
            self.store.save_customer(split)
        except BaseException:
            self.store.save_customer(customer)
            raise
        if revived:
            self.records.set_merged(new_customer_id, None)
        details = {"identities": [i.to_dict() for i in wanted], "reason": reason}
        self._audit("split", customer.id, at, actor, split_to=new_customer_id, **details)
        self._audit("split", new_customer_id, at, actor, split_from=customer.id, **details)
        return split

    def history(self, customer_id: str) -> tuple[AuditEntry, ...]:
        """The audit trail of a customer, oldest first."""
        return self.records.audit(customer_id)

    # ----------------------------------------------------------------- assets
    def save_asset(self, asset: Asset, *, at: datetime, actor: str | None = None) -> None:
        """Record (or update) an asset; its owner, if given, must exist.

        Raises:
            NotFoundError: the owner does not exist.
        """
        check_now(at, "at")
        if not isinstance(asset, Asset):
            raise IdentityError(f"expected an Asset, got {type(asset).__name__}")
        if asset.customer_id is not None:
            owner = self.get(asset.customer_id)
            asset = attrs.evolve(asset, customer_id=owner.id)
            self._audit("save_asset", owner.id, at, actor, serial=asset.serial)
        self.records.save_asset(asset)

    def asset(self, serial: str) -> Asset:
        """The asset with this serial; raises ``NotFoundError``."""
        return self.records.get_asset(serial)

    def assets_of(self, customer_id: str) -> tuple[Asset, ...]:
        """A customer's assets, including those of customers merged into it."""
        found: list[Asset] = []
        for cid in self._family(self._canonical(customer_id)):
            found.extend(self.records.assets_of(cid))
        return tuple(sorted(found, key=lambda a: a.serial))

    def expiring_within(self, days: int, *, now: datetime) -> tuple[Asset, ...]:
        """Assets whose warranty ends between ``now``'s local date and ``days`` later.

        The automation part turns these into proactive tasks (回访, renewal offers).
        """
        check_now(now)
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise IdentityError(f"days must be an integer >= 0, got {days!r}")
        today = now.date()
        return self.records.assets_expiring(today, today + timedelta(days=days))

    # ----------------------------------------------------------------- the 360° view
    def _family(self, customer_id: str) -> list[str]:
        out = [customer_id]
        index = 0
        while index < len(out):
            for source in self.records.merged_from(out[index]):
                if source not in out:
                    out.append(source)
            index += 1
        return out

    def customer_view(
        self,
        customer_id: str,
        *,
        now: datetime,
        sla: Any = None,
        calendar: Any = None,
    ) -> CustomerView:
        """Everything about a customer: profile, identities, tickets, surveys, assets.

        Args:
            customer_id: The customer (a merged one shows its target's view).
            now: The instant of the view (warranty and SLA states).
            sla: Optional SLA evaluator: any object with
                ``evaluate(timeline, calendar=..., now=...)``, e.g. a
                ``csmkit.sla.SlaPolicy``; its result's ``to_dict()`` (or the result
                itself) is put on each ticket.
            calendar: Passed to ``sla.evaluate``.

        Raises:
            NotFoundError: no such customer.
        """
        check_now(now)
        customer = self.get(customer_id)
        family = self._family(customer.id)
        tickets: list[TicketView] = []
        surveys: list[SurveyRecord] = []
        for cid in family:
            cursor: str | None = None
            while True:
                page = self.store.find_tickets(customer_id=cid, cursor=cursor, limit=200)
                for summary in page.items:
                    timeline = self.store.load(summary.ticket_id)
                    state = None
                    if sla is not None:
                        result = sla.evaluate(timeline, calendar=calendar, now=now)
                        to_dict = getattr(result, "to_dict", None)
                        state = to_dict() if callable(to_dict) else result
                    tickets.append(TicketView(summary, state))
                    for event in timeline.of_type(SurveyAnswered):
                        surveys.append(
                            SurveyRecord(
                                summary.ticket_id,
                                str(getattr(event.survey, "value", event.survey)),
                                event.score,
                                event.comment,
                                event.at,
                            )
                        )
                cursor = page.next_cursor
                if cursor is None:
                    break
        tickets.sort(key=lambda t: (t.summary.updated_at, t.summary.ticket_id), reverse=True)
        surveys.sort(key=lambda s: (s.at, s.ticket_id))
        assets = tuple(AssetView(a, a.warranty_status(now)) for a in self.assets_of(customer.id))
        return CustomerView(
            customer=customer,
            profile=self.records.profile(customer.id),
            merged_from=tuple(family[1:]),
            tickets=tuple(tickets),
            surveys=tuple(surveys),
            assets=assets,
            history=self.records.audit(customer.id),
            now=now,
        )
