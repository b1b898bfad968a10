"""``copy_store(records=...)`` / ``csmkit store copy``: the customer directory's records
(assets, profiles, merges, audit) move with the desk, verified by count and digest."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _pg_server import PgServer
from csmkit.cli._main import main
from csmkit.customers import (
    Asset,
    AuditEntry,
    CustomerRecords,
    MemoryCustomerRecords,
    PostgresCustomerRecords,
    SqliteCustomerRecords,
)
from csmkit.errors import StorageError
from csmkit.storage import (
    CopyableRecords,
    MemoryStore,
    PostgresStore,
    SqliteStore,
    copy_store,
    records_digest,
)
from csmkit.testing import T0, created

_CN = timezone(timedelta(hours=8))


def _fill_records(records: CustomerRecords, seed: int, customers: int = 6) -> None:
    rng = random.Random(seed)
    for index in range(customers):
        customer = f"客户-{index}"
        records.save_profile(customer, {"城市": rng.choice(["杭州", "上海", "成都"]), "n": index})
        for number in range(rng.randint(0, 3)):
            until = date(2026, 1, 1) + timedelta(days=rng.randint(0, 900))
            records.save_asset(
                Asset(
                    serial=f"SN-{index}-{number}",
                    customer_id=customer,
                    model=rng.choice(["KFR-35GW", "冰箱 BCD-500"]),
                    warranty_until=rng.choice([None, until]),
                    attributes={"备注": "上门安装"},
                )
            )
        at = datetime(2026, 10, 8, 9, 0, tzinfo=_CN) + timedelta(minutes=rng.randint(0, 600))
        records.add_audit(AuditEntry(at=at, action="register", customer_id=customer))
    records.set_merged("客户-1", "客户-0")
    records.add_audit(
        AuditEntry(
            at=datetime(2026, 10, 9, tzinfo=_CN),
            action="merge",
            customer_id="客户-0",
            details={"from": "客户-1"},
        )
    )


def _desk(store: SqliteStore | MemoryStore) -> None:
    store.append("工单-1", [created("工单-1", T0, customer_id="客户-0")], 0)


def _answers(records: CustomerRecords) -> list[object]:
    """What a desk asks of the records, for one comparison."""
    out: list[object] = [records.assets_expiring(date(2026, 1, 1), date(2028, 12, 31))]
    for index in range(6):
        customer = f"客户-{index}"
        out += [
            dict(records.profile(customer)),
            records.assets_of(customer),
            records.audit(customer),
            records.merged_into(customer),
            records.merged_from(customer),
        ]
    return out


def test_sqlite_to_sqlite_copies_the_records(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    with SqliteStore(a) as source, SqliteStore(b) as target:
        _desk(source)
        from_records, to_records = SqliteCustomerRecords(a), SqliteCustomerRecords(b)
        _fill_records(from_records, seed=1)
        rows = from_records.export_records()
        report = copy_store(source, target, records=(from_records, to_records))
        assert report.tickets == 1
        assert report.records == len(rows) > 20
        assert report.records_checksum == records_digest(rows)
        assert to_records.export_records() == rows
        assert _answers(to_records) == _answers(from_records)
        assert report.to_dict()["records"] == len(rows)
        from_records.close()
        to_records.close()


@settings(max_examples=5)
@given(seed=st.integers(0, 10**6))
def test_memory_to_memory_copies_the_records(seed: int) -> None:
    source, target = MemoryStore(), MemoryStore()
    _desk(source)
    from_records, to_records = MemoryCustomerRecords(), MemoryCustomerRecords()
    _fill_records(from_records, seed=seed)
    report = copy_store(source, target, records=(from_records, to_records))
    assert report.records_checksum == records_digest(from_records.export_records())
    assert _answers(to_records) == _answers(from_records)


def test_without_records_nothing_changes() -> None:
    source, target = MemoryStore(), MemoryStore()
    _desk(source)
    report = copy_store(source, target)
    assert (report.records, report.records_checksum) == (0, None)
    empty = copy_store(MemoryStore(), MemoryStore(), records=(MemoryCustomerRecords(),) * 2)
    assert (empty.records, empty.records_checksum) == (0, records_digest([]))


def test_destination_records_are_checked_before_anything_is_copied() -> None:
    source, from_records = MemoryStore(), MemoryCustomerRecords()
    _desk(source)
    _fill_records(from_records, seed=3)
    target, to_records = MemoryStore(), MemoryCustomerRecords()
    to_records.save_asset(Asset(serial="SN-other"))
    with pytest.raises(StorageError, match="customer records are not empty"):
        copy_store(source, target, records=(from_records, to_records))
    with pytest.raises(StorageError, match="other customer records"):
        copy_store(source, target, records=(from_records, to_records), allow_non_empty=True)
    assert target.version("工单-1") == 0  # no stream was copied either
    assert to_records.export_records() == [("asset", Asset(serial="SN-other").to_dict())]
    # Identical records already there are accepted with allow_non_empty (not doubled).
    same = MemoryCustomerRecords()
    same.import_records(from_records.export_records())
    report = copy_store(source, MemoryStore(), records=(from_records, same), allow_non_empty=True)
    assert same.export_records() == from_records.export_records()
    assert report.records == len(same.export_records())


class _Changing:
    """Records whose export changes after the first read (a writer during the copy)."""

    def __init__(self, inner: MemoryCustomerRecords) -> None:
        self.inner, self.reads = inner, 0

    def export_records(self) -> list[tuple[str, dict[str, Any]]]:
        self.reads += 1
        if self.reads == 2:
            self.inner.save_asset(Asset(serial="SN-late"))
        return self.inner.export_records()

    def import_records(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        return self.inner.import_records(rows)


class _Lossy(_Changing):
    """Destination records that drop the last row on import."""

    def export_records(self) -> list[tuple[str, dict[str, Any]]]:
        return self.inner.export_records()

    def import_records(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        return self.inner.import_records(list(rows)[:-1])


def test_verification_catches_a_changed_source_or_a_lossy_destination() -> None:
    source = MemoryStore()
    _desk(source)
    from_records = MemoryCustomerRecords()
    _fill_records(from_records, seed=4)
    changing = _Changing(from_records)
    assert isinstance(changing, CopyableRecords)
    with pytest.raises(StorageError, match="source's customer records changed"):
        copy_store(source, MemoryStore(), records=(changing, MemoryCustomerRecords()))
    lossy = _Lossy(MemoryCustomerRecords())
    with pytest.raises(StorageError, match="verification failed: the customer records differ"):
        copy_store(source, MemoryStore(), records=(from_records, lossy))


def test_bad_records_argument() -> None:
    with pytest.raises(TypeError, match="pair"):
        copy_store(MemoryStore(), MemoryStore(), records=(MemoryCustomerRecords(),))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pair"):
        copy_store(MemoryStore(), MemoryStore(), records=(object(), object()))  # type: ignore[arg-type]


def test_cli_copies_sqlite_records_to_postgres(
    tmp_path: Path, pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as source:
        _desk(source)
        records = SqliteCustomerRecords(path)
        _fill_records(records, seed=5)
        rows, answers = records.export_records(), _answers(records)
        records.close()
    schema = pg_server.new_schema()
    destination = pg_server.url(schema=schema)
    assert main(["store", "copy", f"sqlite:///{path}", destination]) == 0
    out = capsys.readouterr().out
    assert f"and {len(rows)} customer record(s)" in out
    assert records_digest(rows) in out
    with PostgresStore(destination) as store, PostgresCustomerRecords(store) as copied:
        assert copied.export_records() == rows
        assert _answers(copied) == answers
    # Again into the same, now full, destination: refused, exit status 1.
    assert main(["store", "copy", f"sqlite:///{path}", destination]) == 1
    assert "not empty" in capsys.readouterr().err


def test_cli_without_source_records_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SqliteStore(tmp_path / "a.db") as source:
        _desk(source)
    target = tmp_path / "b.db"
    assert main(["store", "copy", f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{target}"]) == 0
    assert "customer record(s)" not in capsys.readouterr().out
    import sqlite3

    for name in ("a.db", "b.db"):
        connection = sqlite3.connect(tmp_path / name)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        connection.close()
        assert "csmkit_customers_schema" not in tables, name
