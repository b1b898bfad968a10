from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.customers import (
    Asset,
    AuditEntry,
    CustomerDirectory,
    MemoryCustomerRecords,
    SqliteCustomerRecords,
    WarrantyState,
    have_phonenumbers,
    normalise_email,
    normalise_phone,
    parse_identity,
)
from csmkit.errors import IdentityError, NotFoundError, StorageError
from csmkit.storage import Identity, MemoryStore, SqliteStore, TicketStore
from csmkit.timeline import Direction, MessageAdded, SurveyAnswered, TicketCreated

AT = datetime(2026, 10, 8, 1, 0, tzinfo=timezone.utc)
SHANGHAI = ZoneInfo("Asia/Shanghai")
LIBRARY = [False, True] if have_phonenumbers() else [False]

# ------------------------------------------------------------------ normalisation
# Allocated Chinese mobile ranges (phonenumbers checks allocation, the fallback does not).
mobiles = st.from_regex(r"1(3[0-9]|5[0-35-9]|8[0-9])[0-9]{8}", fullmatch=True)


@st.composite
def spelled(draw: st.DrawFn, number: str) -> str:
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "86", "+86-", "（+86）"]))
    seps = st.sampled_from(["", " ", "-", ".", "\u3000"])
    body = number[:3] + draw(seps) + number[3:7] + draw(seps) + number[7:]
    return draw(st.sampled_from(["", " "])) + prefix + body + draw(st.sampled_from(["", " "]))


@pytest.mark.parametrize("library", LIBRARY)
@given(data=st.data(), number=mobiles)
def test_spellings_of_one_mobile_are_one_identity(
    library: bool, data: st.DataObject, number: str
) -> None:
    a = normalise_phone(data.draw(spelled(number)), library=library)
    b = normalise_phone(data.draw(spelled(number)), library=library)
    assert a == b == "+86" + number
    assert normalise_phone(a, library=library) == a  # idempotent


@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_fallback_keeps_e164_numbers(number: str) -> None:
    if number.startswith("+86"):
        return
    assert normalise_phone(number, library=False) == number


@pytest.mark.parametrize("library", LIBRARY)
@pytest.mark.parametrize("bad", ["", "abc", "12", "+86 12345", "138-0013-800a", "++8613800138000"])
def test_bad_phone_numbers(library: bool, bad: str) -> None:
    with pytest.raises(IdentityError):
        normalise_phone(bad, library=library)


def test_fallback_refuses_what_it_cannot_check() -> None:
    with pytest.raises(IdentityError, match="phonenumbers"):
        normalise_phone("010-6552 9988", library=False)  # a Beijing landline


@pytest.mark.skipif(not have_phonenumbers(), reason="needs the phone extra")
def test_library_accepts_landlines_and_foreign_numbers() -> None:
    assert normalise_phone("010-6552 9988") == "+861065529988"
    assert normalise_phone("(650) 253-0000", region="US") == "+16502530000"


emails = st.from_regex(r"[A-Za-z0-9._%+-]{1,20}@[A-Za-z0-9-]{1,10}\.[A-Za-z]{2,6}", fullmatch=True)


@given(emails, st.sampled_from(["", " ", "\t"]), st.booleans())
def test_email_normalisation(address: str, pad: str, upper: bool) -> None:
    variant = pad + (address.upper() if upper else address) + pad
    normal = normalise_email(variant)
    assert normal == address.lower() == normalise_email(normal)
    assert Identity("email", normal).value == normal


@pytest.mark.parametrize("bad", ["", "no-at", "a@b", "a b@c.cn", "@x.cn"])
def test_bad_emails(bad: str) -> None:
    with pytest.raises(IdentityError):
        normalise_email(bad)


def test_parse_identity() -> None:
    assert parse_identity("wechat:wxid_WF") == Identity("wechat", "wxid_WF")
    assert parse_identity("mailto:A@B.cn") == Identity("email", "a@b.cn")
    assert parse_identity("138 0013 8000") == Identity("phone", "+8613800138000")
    with pytest.raises(IdentityError):
        parse_identity("   ")


# ------------------------------------------------------------------ the directory
@pytest.fixture(params=["memory", "sqlite"])
def directory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CustomerDirectory]:
    if request.param == "memory":
        yield CustomerDirectory(MemoryStore())
        return
    path = tmp_path / "desk.db"
    store = SqliteStore(path)
    records = SqliteCustomerRecords(path)
    yield CustomerDirectory(store, records)
    records.close()
    store.close()


def test_resolution_across_channels(directory: CustomerDirectory) -> None:
    directory.register(
        "C-1",
        at=AT,
        name="王芳",
        identities=["+86 138 0013 8000", "Wang.Fang@Example.CN", "wechat:wxid_wf"],
    )
    for kind, value in [
        ("phone", "0086-13800138000"),
        ("mobile", "13800138000"),
        ("email", " wang.fang@example.cn"),
        ("wechat", "wxid_wf"),
    ]:
        assert directory.resolve(kind, value) == "C-1"
    assert directory.resolve("wechat", "wxid_WF") is None  # handles keep their case
    assert directory.resolve("phone", "garbage") is None  # unknown, not an error
    assert directory.find("138-0013-8000").id == "C-1"  # type: ignore[union-attr]
    with pytest.raises(IdentityError, match="already belongs"):
        directory.register("C-2", at=AT, identities=["13800138000"])
    with pytest.raises(IdentityError, match="already exists"):
        directory.register("C-1", at=AT)


def test_merge_and_split_with_audit_trail(directory: CustomerDirectory) -> None:
    directory.register("C-1", at=AT, name="王芳", identities=["13800138000"])
    directory.register("C-2", at=AT, name="王芳(微信)", identities=["wechat:wxid_wf"])
    merged = directory.merge("C-2", "C-1", at=AT + timedelta(1), actor="agent-7", reason="同一人")
    assert set(merged.identities) == {
        Identity("phone", "+8613800138000"),
        Identity("wechat", "wxid_wf"),
    }
    assert directory.resolve("wechat", "wxid_wf") == "C-1"
    assert directory.get("C-2").id == "C-1"
    with pytest.raises(IdentityError, match="itself"):
        directory.merge("C-2", "C-1", at=AT)
    back = directory.split("C-1", "C-2", ["wechat:wxid_wf"], at=AT + timedelta(2), actor="agent-7")
    assert back.id == "C-2" and back.name == "王芳(微信)"
    assert directory.resolve("wechat", "wxid_wf") == "C-2"
    assert [e.action for e in directory.history("C-1")] == ["register", "merge", "split"]
    entry = directory.history("C-2")[1]
    assert entry.details["merged_into"] == "C-1" and entry.actor == "agent-7"
    assert AuditEntry.from_dict(entry.to_dict()) == entry
    with pytest.raises(IdentityError, match="does not have"):
        directory.split("C-1", "C-3", ["wechat:wxid_wf"], at=AT)


def test_identity_add_remove(directory: CustomerDirectory) -> None:
    directory.register("C-1", at=AT)
    directory.add_identity("C-1", "weibo:fang", at=AT)
    assert directory.resolve("weibo", "fang") == "C-1"
    directory.remove_identity("C-1", ("weibo", "fang"), at=AT)
    assert directory.resolve("weibo", "fang") is None
    with pytest.raises(NotFoundError):
        directory.add_identity("C-404", "weibo:x", at=AT)


def test_assets_and_warranty(directory: CustomerDirectory) -> None:
    directory.register("C-1", at=AT)
    directory.register("C-2", at=AT)
    ac = Asset(
        serial="SN-1",
        model="KFR-35GW",
        product_line="空调",
        customer_id="C-1",
        purchased="2024-10-10",
        warranty_until="2026-10-10",
        region="华东",
    )
    washer = Asset(
        serial="SN-2",
        model="XQG",
        product_line="洗衣机",
        customer_id="C-2",
        warranty_until=date(2027, 1, 1),
    )
    loose = Asset(serial="SN-3")
    for asset in (ac, washer, loose):
        directory.save_asset(asset, at=AT)
    assert directory.asset(" SN-1 ") == ac
    assert [a.serial for a in directory.assets_of("C-1")] == ["SN-1"]
    assert [a.serial for a in directory.expiring_within(1, now=AT)] == []
    assert [a.serial for a in directory.expiring_within(2, now=AT)] == ["SN-1"]
    assert [a.serial for a in directory.expiring_within(90, now=AT)] == ["SN-1", "SN-2"]
    directory.merge("C-2", "C-1", at=AT)
    assert [a.serial for a in directory.assets_of("C-1")] == ["SN-1", "SN-2"]
    with pytest.raises(NotFoundError):
        directory.asset("SN-404")
    with pytest.raises(NotFoundError):
        directory.save_asset(Asset(serial="SN-9", customer_id="C-404"), at=AT)


def test_warranty_status_uses_the_instants_local_date() -> None:
    asset = Asset(serial="SN-1", warranty_until="2027-05-31")
    last_day_utc = datetime(2027, 5, 31, 16, 30, tzinfo=timezone.utc)
    assert asset.warranty_status(last_day_utc).state is WarrantyState.IN_WARRANTY
    assert asset.warranty_status(last_day_utc.astimezone(SHANGHAI)).state is WarrantyState.EXPIRED
    assert asset.warranty_status(last_day_utc).days_left == 0
    assert Asset(serial="x").warranty_status(AT).state is WarrantyState.UNKNOWN
    with pytest.raises(IdentityError, match="before"):
        Asset(serial="x", purchased="2027-01-01", warranty_until="2026-01-01")
    with pytest.raises(IdentityError):
        asset.warranty_status(datetime(2027, 1, 1))


asset_st = st.builds(
    Asset,
    serial=st.text(min_size=1).filter(str.strip).map(str.strip),
    model=st.text(),
    product_line=st.text(),
    customer_id=st.none() | st.text(min_size=1),
    purchased=st.none() | st.dates(max_value=date(2030, 1, 1)),
    warranty_until=st.none() | st.dates(min_value=date(2030, 1, 2)),
    region=st.text(),
    address=st.text(),
    attributes=st.dictionaries(st.text(), st.integers() | st.text()),
)


@given(asset_st)
def test_asset_round_trip(asset: Asset) -> None:
    assert Asset.from_dict(asset.to_dict()) == asset


class FakeSla:
    def __init__(self) -> None:
        self.calls: list[Any] = []

    def evaluate(self, timeline: Any, *, calendar: Any = None, now: datetime) -> Any:
        self.calls.append(calendar)

        class Result:
            def to_dict(self) -> dict[str, Any]:
                return {
                    "first_response": "met" if timeline.messages(Direction.OUTBOUND) else "running"
                }

        return Result()


def add_ticket(
    store: TicketStore,
    ticket_id: str,
    customer_id: str,
    *,
    survey: int | None = None,
    answered: bool = False,
) -> None:
    events: list[Any] = [
        TicketCreated(
            ticket_id=ticket_id, at=AT, type="repair", channel="phone", customer_id=customer_id
        )
    ]
    if answered:
        events.append(
            MessageAdded(ticket_id=ticket_id, at=AT, direction="outbound", channel="email")
        )
    if survey is not None:
        events.append(
            SurveyAnswered(
                ticket_id=ticket_id,
                at=AT + timedelta(hours=1),
                survey="nps",
                score=survey,
                comment="师傅很专业",
            )
        )
    store.append(ticket_id, events, 0)


def test_customer_view(directory: CustomerDirectory) -> None:
    directory.register(
        "C-1", at=AT, name="王芳", identities=["13800138000"], profile={"tier": "gold"}
    )
    directory.register("C-2", at=AT, identities=["wechat:wxid_wf"])
    add_ticket(directory.store, "T-1", "C-1", survey=9, answered=True)
    add_ticket(directory.store, "T-2", "C-2")
    directory.save_asset(
        Asset(serial="SN-1", customer_id="C-1", warranty_until="2026-12-31"), at=AT
    )
    directory.merge("C-2", "C-1", at=AT)
    sla = FakeSla()
    view = directory.customer_view("C-2", now=AT, sla=sla, calendar="cn")
    assert view.customer.id == "C-1" and view.merged_from == ("C-2",)
    assert dict(view.profile) == {"tier": "gold"}
    assert {t.summary.ticket_id: t.sla["first_response"] for t in view.tickets} == {
        "T-1": "met",
        "T-2": "running",
    }
    assert [(s.ticket_id, s.survey, s.score) for s in view.surveys] == [("T-1", "nps", 9)]
    assert view.assets[0].warranty.state is WarrantyState.IN_WARRANTY
    assert sla.calls == ["cn", "cn"]
    assert len(view.open_tickets) == 2
    data = view.to_dict()
    assert data["customer"]["id"] == "C-1" and data["assets"][0]["warranty"]["days_left"] == 84
    no_sla = directory.customer_view("C-1", now=AT)
    assert all(t.sla is None for t in no_sla.tickets)
    with pytest.raises(NotFoundError):
        directory.customer_view("C-404", now=AT)


def test_sqlite_records_share_the_store_file(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    records = SqliteCustomerRecords(path)  # creates the store schema first
    records.save_asset(Asset(serial="SN-1", customer_id="C-1"))
    records.close()
    with SqliteStore(path) as store:  # the store accepts the shared file
        directory = CustomerDirectory(store, SqliteCustomerRecords(path))
        assert directory.asset("SN-1").customer_id == "C-1"


def test_sqlite_records_refuse_foreign_files(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER)")
    connection.close()
    with pytest.raises(StorageError, match="not a csmkit database"):
        SqliteCustomerRecords(path)


def test_memory_records_validate_profiles() -> None:
    with pytest.raises(IdentityError, match="JSON-safe"):
        MemoryCustomerRecords().save_profile("C-1", {"since": AT})


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_customer_records_refuse_unencodable_text_alike(kind: str, tmp_path: Path) -> None:
    records = (
        MemoryCustomerRecords() if kind == "memory" else SqliteCustomerRecords(tmp_path / "r.db")
    )
    bad = "35" + chr(0xDC80)  # a lone surrogate, as surrogateescape leaves in mail headers
    with pytest.raises(StorageError, match=r"save profile of 'C-1': value\[1\]\.型号 holds text"):
        records.save_profile("C-1", {"型号": bad})
    assert records.profile("C-1") == {}
    with pytest.raises(StorageError, match=r"save asset 'SN-1': value\.model holds text"):
        records.save_asset(Asset(serial="SN-1", model=bad, customer_id="C-1"))
    assert records.assets_of("C-1") == ()
    with pytest.raises(StorageError, match="record a merge"):
        records.set_merged("C-1", bad)
    assert records.merged_from(bad) == ()
    entry = AuditEntry(
        at=datetime(2026, 10, 8, tzinfo=timezone.utc), action="rename", customer_id="C-1",
        details={"name": bad},
    )  # fmt: skip
    with pytest.raises(StorageError, match=r"add an audit entry: value\.details\.name"):
        records.add_audit(entry)
    assert records.audit("C-1") == ()
