"""Contract tests for the customer directory's records port (``CustomerRecords``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csmkit.customers import Asset, AuditEntry, CustomerRecords, MemoryCustomerRecords
from csmkit.errors import IdentityError, NotFoundError, StorageError
from csmkit.storage import CopyableRecords

__all__ = ["CustomerRecordsContract", "RecordsFactory"]

RecordsFactory = Callable[[], CustomerRecords]
"""Returns new, empty records each call."""

_AT = datetime(2026, 10, 8, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def _close(records: object) -> None:
    close = getattr(records, "close", None)
    if callable(close):
        close()


def _plain(value: Any) -> Any:
    """Frozen or plain JSON data as plain data (profiles compare by content)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _asset(serial: str, customer_id: str | None = "C-1", until: str | None = None) -> Asset:
    return Asset(serial=serial, customer_id=customer_id, warranty_until=until)


def _entry(customer_id: str, action: str, minutes: int = 0) -> AuditEntry:
    return AuditEntry(
        at=_AT + timedelta(minutes=minutes),
        action=action,
        customer_id=customer_id,
        actor="agent:王芳",
        details={"reason": "同一人", "n": minutes},
    )


class CustomerRecordsContract:
    """What every [`CustomerRecords`][csmkit.customers.CustomerRecords] must do.

    Provide a ``make_records`` fixture returning a factory of new, empty records::

        class TestMyRecords(CustomerRecordsContract):
            @pytest.fixture
            def make_records(self, tmp_path):
                counter = iter(range(10**6))
                return lambda: MyRecords(tmp_path / f"records-{next(counter)}.db")

    Records with ``export_records()`` / ``import_records()`` (what ``csmkit store copy``
    needs) are checked for those too. ``hypothesis_examples`` sets how many random
    histories the differential test compares with
    [`MemoryCustomerRecords`][csmkit.customers.MemoryCustomerRecords].
    """

    hypothesis_examples = 25

    @pytest.fixture
    def records(self, make_records: RecordsFactory) -> Iterator[CustomerRecords]:
        made = make_records()
        try:
            yield made
        finally:
            _close(made)

    def test_is_customer_records(self, records: CustomerRecords) -> None:
        assert isinstance(records, CustomerRecords)

    # ----------------------------------------------------------------- profiles
    def test_profile_round_trip_and_replace(self, records: CustomerRecords) -> None:
        assert dict(records.profile("C-1")) == {}
        profile = {"姓名": "王芳", "tags": ["VIP", "老客户"], "level": 3, "ok": True, "x": None}
        records.save_profile("C-1", profile)
        assert _plain(records.profile("C-1")) == profile
        records.save_profile("C-1", {"城市": "杭州"})
        assert _plain(records.profile("C-1")) == {"城市": "杭州"}
        assert dict(records.profile("C-2")) == {}

    def test_profile_must_be_json_safe(self, records: CustomerRecords) -> None:
        with pytest.raises(IdentityError):
            records.save_profile("C-1", {"when": _AT})
        with pytest.raises(StorageError):
            records.save_profile("C-1", {"bad": "\ud800"})
        assert dict(records.profile("C-1")) == {}

    # ----------------------------------------------------------------- assets
    def test_asset_round_trip(self, records: CustomerRecords) -> None:
        asset = Asset(
            serial="SN-空调-001",
            model="KFR-35GW",
            product_line="空调",
            customer_id="C-1",
            purchased="2025-06-01",
            warranty_until="2027-05-31",
            region="浙江",
            address="杭州市西湖区",
            attributes={"颜色": "白", "sizes": [1, 2.5]},
        )
        records.save_asset(asset)
        assert records.get_asset("SN-空调-001") == asset
        assert records.get_asset("  SN-空调-001 ") == asset
        moved = Asset(serial="SN-空调-001", customer_id="C-2", warranty_until="2028-01-01")
        records.save_asset(moved)
        assert records.get_asset("SN-空调-001") == moved
        assert records.assets_of("C-1") == ()
        assert records.assets_of("C-2") == (moved,)

    def test_missing_asset_and_bad_input(self, records: CustomerRecords) -> None:
        with pytest.raises(NotFoundError):
            records.get_asset("SN-404")
        with pytest.raises(NotFoundError):
            records.get_asset("SN-\udc80")
        with pytest.raises(TypeError):
            records.save_asset({"serial": "SN-1"})  # type: ignore[arg-type]
        with pytest.raises(StorageError):
            records.save_asset(_asset("SN-\ud800"))
        with pytest.raises(NotFoundError):
            records.get_asset("SN-\ud800")

    def test_assets_of_in_code_point_order(self, records: CustomerRecords) -> None:
        serials = ["b", "B", "é", "中-2", "中-10", "a", "Z\x00", "Z"]
        for serial in serials:
            records.save_asset(_asset(serial))
        records.save_asset(_asset("other", customer_id="C-2"))
        records.save_asset(_asset("loose", customer_id=None))
        assert [a.serial for a in records.assets_of("C-1")] == sorted(serials)
        assert [a.serial for a in records.assets_of("C-2")] == ["other"]
        assert records.assets_of("C-3") == ()
        assert records.assets_of("C-\ud800") == ()

    def test_assets_expiring_is_inclusive_and_ordered(self, records: CustomerRecords) -> None:
        for serial, until in [
            ("SN-4", "2026-12-31"),
            ("SN-3", "2026-12-01"),
            ("SN-2", "2026-12-01"),
            ("SN-1", "2026-11-30"),
            ("SN-5", "2027-01-01"),
            ("SN-0", None),
        ]:
            records.save_asset(_asset(serial, until=until))
        found = records.assets_expiring(date(2026, 12, 1), date(2026, 12, 31))
        assert [a.serial for a in found] == ["SN-2", "SN-3", "SN-4"]
        assert records.assets_expiring(date(2026, 12, 31), date(2026, 12, 1)) == ()
        assert [a.serial for a in records.assets_expiring(date.min, date.max)] == [
            "SN-1",
            "SN-2",
            "SN-3",
            "SN-4",
            "SN-5",
        ]
        with pytest.raises(TypeError):
            records.assets_expiring(datetime(2026, 12, 1), date(2026, 12, 31))
        with pytest.raises(TypeError):
            records.assets_expiring(date(2026, 12, 1), "2026-12-31")  # type: ignore[arg-type]

    # ----------------------------------------------------------------- merges
    def test_merges(self, records: CustomerRecords) -> None:
        assert records.merged_into("C-2") is None
        records.set_merged("C-2", "C-1")
        records.set_merged("C-10", "C-1")
        records.set_merged("C-3", "C-9")
        assert records.merged_into("C-2") == "C-1"
        assert records.merged_from("C-1") == ("C-10", "C-2")
        records.set_merged("C-2", "C-9")  # re-targeted
        assert records.merged_from("C-1") == ("C-10",)
        assert records.merged_from("C-9") == ("C-2", "C-3")
        records.set_merged("C-2", None)
        records.set_merged("C-404", None)  # undoing nothing is fine
        assert records.merged_into("C-2") is None
        assert records.merged_from("C-9") == ("C-3",)
        assert records.merged_into("C-\ud800") is None
        assert records.merged_from("C-\ud800") == ()
        with pytest.raises(StorageError):
            records.set_merged("C-\ud800", "C-1")

    # ----------------------------------------------------------------- audit
    def test_audit_is_kept_oldest_first(self, records: CustomerRecords) -> None:
        entries = [_entry("C-1", "register"), _entry("C-2", "register", 1)]
        entries += [_entry("C-1", "merge", -5), _entry("C-1", "split", 2)]
        for entry in entries:
            records.add_audit(entry)
        assert records.audit("C-1") == (entries[0], entries[2], entries[3])
        assert records.audit("C-2") == (entries[1],)
        assert records.audit("C-3") == ()
        assert records.audit("C-\ud800") == ()
        with pytest.raises(StorageError):
            records.add_audit(_entry("C-\udfff", "register"))
        assert records.audit("C-1")[0].at.utcoffset() == timedelta(hours=8)

    # ----------------------------------------------------------------- copying
    def _fill(self, records: CustomerRecords) -> None:
        records.save_profile("C-1", {"姓名": "王芳"})
        records.save_profile("C-\x00", {"nul": "a\x00b"})
        records.save_asset(_asset("SN-2", until="2027-05-31"))
        records.save_asset(_asset("SN-1", customer_id="C-\x00"))
        records.set_merged("C-2", "C-1")
        records.add_audit(_entry("C-1", "register"))
        records.add_audit(_entry("C-2", "merge", 3))

    def test_export_and_import_round_trip(self, make_records: RecordsFactory) -> None:
        source, target = make_records(), make_records()
        try:
            if not isinstance(source, CopyableRecords) or not isinstance(target, CopyableRecords):
                pytest.skip("these records cannot be copied (no export/import_records())")
            assert source.export_records() == []
            self._fill(source)
            rows = source.export_records()
            assert [kind for kind, _ in rows] == [
                "profile",
                "profile",
                "asset",
                "asset",
                "merge",
                "audit",
                "audit",
            ]
            reference = MemoryCustomerRecords()
            self._fill(reference)
            assert rows == reference.export_records()
            assert target.import_records(rows) == len(rows)
            assert target.export_records() == rows
            assert target.get_asset("SN-1").customer_id == "C-\x00"
            assert _plain(target.profile("C-\x00")) == {"nul": "a\x00b"}
        finally:
            _close(source)
            _close(target)

    def test_import_checks_every_row_first(self, records: CustomerRecords) -> None:
        if not isinstance(records, CopyableRecords):
            pytest.skip("these records cannot be copied (no export/import_records())")
        good = ("asset", _asset("SN-1").to_dict())
        bads: list[Any] = [
            ("asset", {"model": "no serial"}),
            ("merge", {"source_id": "C-2"}),
            ("merge", {"source_id": "C-2", "target_id": "C-1", "attributes": {}}),
            ("profile", {"customer_id": "C-1", "attributes": {"x": "\ud800"}}),
            ("audit", {"at": "yesterday"}),
            ("ticket", {}),
            "asset",
        ]
        for bad in bads:
            with pytest.raises(StorageError, match="row 1"):
                records.import_records([good, bad])
        assert records.export_records() == []

    # ----------------------------------------------------------------- differential
    def test_matches_the_memory_records(self, make_records: RecordsFactory) -> None:
        """Random histories with Chinese text and dates answer as the memory records do."""

        @settings(
            max_examples=self.hypothesis_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(steps=_STEPS, window=st.tuples(_DATES, _DATES))
        def check(
            steps: list[tuple[str, str, str, date | None, str]], window: tuple[date, date]
        ) -> None:
            made, reference = make_records(), MemoryCustomerRecords()
            try:
                for kind, serial, owner, until, text in steps:
                    for records in (made, reference):
                        if kind == "asset":
                            records.save_asset(
                                Asset(
                                    serial=serial,
                                    customer_id=owner,
                                    warranty_until=until,
                                    model=text,
                                    attributes={"备注": text},
                                )
                            )
                        elif kind == "profile":
                            records.save_profile(owner, {"名": text, "until": str(until)})
                        elif kind == "merge":
                            records.set_merged(owner, None if text == "" else serial)
                        else:
                            records.add_audit(_entry(owner, text or "note"))
                _same(made, reference, steps, window)
            finally:
                _close(made)

        check()


def _same(
    made: CustomerRecords,
    reference: MemoryCustomerRecords,
    steps: list[tuple[str, str, str, date | None, str]],
    window: tuple[date, date],
) -> None:
    owners = {owner for _, _, owner, _, _ in steps} | {serial for _, serial, _, _, _ in steps}
    for owner in sorted(owners):
        assert made.assets_of(owner) == reference.assets_of(owner)
        assert _plain(made.profile(owner)) == _plain(reference.profile(owner))
        assert made.merged_into(owner) == reference.merged_into(owner)
        assert made.merged_from(owner) == reference.merged_from(owner)
        assert made.audit(owner) == reference.audit(owner)
    for serial in {serial for kind, serial, _, _, _ in steps if kind == "asset"}:
        assert made.get_asset(serial) == reference.get_asset(serial)
    first, last = window
    assert made.assets_expiring(first, last) == reference.assets_expiring(first, last)
    assert made.assets_expiring(date.min, date.max) == reference.assets_expiring(date.min, date.max)
    if isinstance(made, CopyableRecords):
        assert made.export_records() == reference.export_records()


_TEXT = st.text(st.sampled_from("王芳李雷空调维修ab Z-\x00é😀"), max_size=6)
_IDS = st.sampled_from(["C-1", "C-2", "客户-3", "C-\x00", "c-1", "SN-1", "SN-中"])
_DATES = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["asset", "asset", "profile", "merge", "audit"]),
        st.sampled_from(["SN-1", "SN-中", "SN-é", "sn-1", "SN-\x00", "C-1"]),  # serial / target
        _IDS,  # owner
        st.none() | _DATES,
        _TEXT,
    ),
    min_size=1,
    max_size=20,
)
