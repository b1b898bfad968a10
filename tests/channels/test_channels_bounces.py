"""Bounces (RFC 3464) and auto-replies (RFC 3834) on real samples (sisimai/set-of-emails,
see tests/data/mail/PROVENANCE.md), and how the intake records them."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from csmkit.channels import (
    AutoReply,
    DeliveryReport,
    EmailParser,
    InboundMessage,
    Intake,
    SubjectTag,
)
from csmkit.errors import MessageFormatError
from csmkit.plugins import PluginManager
from csmkit.storage import MemoryStore, SqliteStore, TicketStore
from csmkit.timeline import (
    AutoReplyReceived,
    DeliveryFailed,
    Direction,
    MessageAdded,
    TicketCreated,
)

BOUNCES = Path(__file__).parents[1] / "data" / "mail" / "bounces"
AT = datetime(2026, 10, 8, 1, 30, tzinfo=timezone.utc)
SENT = AT - timedelta(hours=1)


def parse(name: str) -> InboundMessage | DeliveryReport | AutoReply:
    return EmailParser().parse_inbound((BOUNCES / name).read_bytes(), received_at=AT)


@pytest.mark.parametrize(
    ("name", "standard", "original", "recipient", "status"),
    [
        (
            "rfc3464-01.eml",
            True,
            "<E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org>",
            "userunknown@bouncehammer.jp",
            "5.1.1",
        ),
        ("rhost-google-01.eml", True, None, "shironeko@example.ne.jp", "5.2.1"),
        (
            "lhost-exim-01.eml",
            False,
            "<E1P1ce6-000Egt-GZ@e1.example.org>",
            "kijitora@example.ed.jp",
            "5.7.0",
        ),
        (
            "lhost-qmail-01.eml",
            False,
            "<000000000.9999999999999.JavaMail.postmaster@mailhub>",
            "kijitora@example.ne.jp",
            "5.5.0",
        ),
        (
            "lhost-office365-01.eml",
            False,
            "<FFFFFFFF.EEEEEEEE@example.ed.jp>",
            "kijitora@example.com",
            "5.1.10",
        ),
    ],
)
def test_real_bounces_are_delivery_reports(
    name: str, standard: bool, original: str | None, recipient: str, status: str
) -> None:
    report = parse(name)
    assert isinstance(report, DeliveryReport)
    assert report.standard is standard
    assert report.original_message_id == original
    (failure,) = report.failures
    assert (failure.recipient, failure.action, failure.status) == (recipient, "failed", status)
    assert failure.diagnostic


def test_real_auto_replies_and_feedback_reports_are_auto_replies() -> None:
    auto = parse("rfc3834-01.eml")
    assert isinstance(auto, AutoReply) and auto.reason == "Auto-Submitted: auto-replied"
    arf = parse("arf-01.eml")
    assert isinstance(arf, AutoReply) and "ARF" in arf.reason


@pytest.mark.parametrize("name", ["is-not-bounce-01.eml", "is-not-bounce-02.eml"])
def test_mail_that_is_not_a_bounce_stays_a_message(name: str) -> None:
    assert isinstance(parse(name), InboundMessage)


def _classify(directory: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in sorted(directory.glob("*.eml")):
        expected = "AutoReply" if path.name.startswith(("rfc3834", "arf")) else "DeliveryReport"
        if path.name.startswith("is-not-bounce"):
            expected = "InboundMessage"
        try:
            got = type(EmailParser().parse_inbound(path.read_bytes(), received_at=AT)).__name__
        except MessageFormatError:
            got = "error"
        counts["right" if got == expected else f"{expected}->{got}"] += 1
    return counts


def test_recognition_rate_on_one_sample_per_mailer() -> None:
    counts = _classify(BOUNCES)
    total = sum(counts.values())
    assert total == 82
    # Misses: two mailing-list manager notices (fml) and one carrier's Japanese
    # "メールエラー通知" from a no-reply address (kddi); nothing crashes.
    assert counts["right"] >= 79, counts


@pytest.mark.slow
@pytest.mark.skipif(
    "CSMKIT_SET_OF_EMAILS" not in os.environ,
    reason="set CSMKIT_SET_OF_EMAILS to a checkout of sisimai/set-of-emails",
)
def test_recognition_rate_on_the_whole_corpus() -> None:
    counts = _classify(Path(os.environ["CSMKIT_SET_OF_EMAILS"]) / "maildir" / "bsd")
    total = sum(counts.values())
    assert counts["right"] / total >= 0.95, counts


# --------------------------------------------------------------------------- intake


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TicketStore]:
    s: TicketStore = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "d.db")
    yield s
    s.close()


def ticket_that_sent(store: TicketStore, message_id: str, ticket_id: str = "T-1") -> None:
    store.append(
        ticket_id,
        [
            TicketCreated(ticket_id=ticket_id, at=SENT, type="repair", channel="email"),
            MessageAdded(
                ticket_id=ticket_id,
                at=SENT,
                direction=Direction.OUTBOUND,
                channel="email",
                message_id=message_id,
            ),
        ],
        0,
    )


def intake(store: TicketStore) -> Intake:
    return Intake(store, PluginManager(load_entrypoints=False))


def test_a_bounce_is_recorded_on_the_ticket_that_sent_the_message(store: TicketStore) -> None:
    ticket_that_sent(store, "<E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org>")
    result = intake(store).receive_email((BOUNCES / "rfc3464-01.eml").read_bytes(), received_at=AT)
    assert result.outcome == "recorded" and result.ticket_id == "T-1"
    assert isinstance(result.fact, DeliveryReport)
    (event,) = result.events
    assert isinstance(event, DeliveryFailed)
    assert (event.recipient, event.action, event.status) == (
        "userunknown@bouncehammer.jp",
        "failed",
        "5.1.1",
    )
    assert event.message_id == "<E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org>"
    assert event.report_id == result.fact.message.external_id
    assert event.diagnostic and "User Unknown" in event.diagnostic
    assert store.load("T-1").events[-1] == event
    assert len(store.find_tickets().items) == 1  # never a new ticket
    again = intake(store).receive_email((BOUNCES / "rfc3464-01.eml").read_bytes(), received_at=AT)
    assert again.outcome == "duplicate" and len(store.load("T-1").events) == 3


def test_a_non_standard_bounce_is_recorded_too(store: TicketStore) -> None:
    ticket_that_sent(store, "<E1P1ce6-000Egt-GZ@e1.example.org>")
    result = intake(store).receive_email(
        (BOUNCES / "lhost-exim-01.eml").read_bytes(), received_at=AT
    )
    assert result.outcome == "recorded"
    assert [e.status for e in result.events if isinstance(e, DeliveryFailed)] == ["5.7.0"]


def test_an_unmatched_bounce_is_reported_never_a_ticket(store: TicketStore) -> None:
    result = intake(store).receive_email((BOUNCES / "rfc3464-01.eml").read_bytes(), received_at=AT)
    assert result.outcome == "unmatched" and result.ticket_id is None and result.events == ()
    assert isinstance(result.fact, DeliveryReport) and result.fact.failures
    assert "userunknown@bouncehammer.jp" in result.reason
    assert store.find_tickets().items == ()


def test_a_bounce_matches_by_the_subject_tag_of_the_returned_message(store: TicketStore) -> None:
    ticket_that_sent(store, "<other@desk.example>", ticket_id="T-42")
    raw = (
        b"From: MAILER-DAEMON@mx.example.cn\r\nTo: support@desk.example\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.example.cn>\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.cn\r\n"
        b"\r\nFinal-Recipient: rfc822; wang@customer.example\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        b"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@desk.example\r\n"
        b"Subject: [ACME #T-42] =?utf-8?B?56m66LCD?=\r\n"
        b"--r--\r\n"
    )
    parser = EmailParser(subject_tag=SubjectTag("ACME"))
    result = Intake(
        store, PluginManager(load_entrypoints=False), email_parser=parser
    ).receive_email(raw, received_at=AT)
    assert result.outcome == "recorded" and result.ticket_id == "T-42"
    (event,) = result.events
    assert isinstance(event, DeliveryFailed) and event.diagnostic == "550 5.1.1 no such user"


def test_a_delivery_report_without_failures_is_ignored_with_a_reason(store: TicketStore) -> None:
    ticket_that_sent(store, "<x@desk.example>")
    raw = (
        b"From: MAILER-DAEMON@mx.example.cn\r\nSubject: Delivery Status Notification\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; wang@customer.example\r\nAction: delivered\r\n"
        b"Status: 2.0.0\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <x@desk.example>\r\n--r--\r\n"
    )
    result = intake(store).receive_email(raw, received_at=AT)
    assert result.outcome == "ignored" and "no failures" in result.reason
    assert len(store.load("T-1").events) == 2


def test_an_auto_reply_is_recorded_never_answered_or_a_ticket(store: TicketStore) -> None:
    ticket_that_sent(store, "<out-1@desk.example>")
    raw = (
        b"From: wang@customer.example\r\nTo: support@desk.example\r\n"
        b"Subject: =?utf-8?B?6Ieq5Yqo5Zue5aSNOiDmiJHmraPlnKjkvJHlgYc=?=\r\n"
        b"Message-ID: <ooo-1@customer.example>\r\nIn-Reply-To: <out-1@desk.example>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "我正在休假，10月8日回来。".encode()
    )
    result = intake(store).receive_email(raw, received_at=AT)
    assert result.outcome == "recorded" and isinstance(result.fact, AutoReply)
    (event,) = result.events
    assert isinstance(event, AutoReplyReceived)
    assert (event.sender, event.in_reply_to, event.subject) == (
        "wang@customer.example",
        "<out-1@desk.example>",
        "自动回复: 我正在休假",
    )
    assert event.reason.startswith("subject")
    assert event.body_ref is not None
    assert not any(isinstance(e, MessageAdded) for e in result.events)


def test_an_already_parsed_auto_reply_message_is_recognised_by_receive(store: TicketStore) -> None:
    ticket_that_sent(store, "<out-1@desk.example>")
    message = InboundMessage(
        channel="email",
        external_id="<ooo-2@customer.example>",
        in_reply_to="<out-1@desk.example>",
        sender="wang@customer.example",
        text="I am out of the office.",
        received_at=AT,
        headers={"Auto-Submitted": "auto-replied"},
    )
    result = intake(store).receive(message)
    assert result.outcome == "recorded"
    assert isinstance(result.events[0], AutoReplyReceived)
