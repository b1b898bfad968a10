from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from csmkit.channels import (
    EmailNotification,
    EmailParser,
    Intake,
    SmtpChannel,
    SubjectTag,
    WebhookChannel,
    WebhookNotification,
    WebhookParser,
)
from csmkit.errors import DeliveryError, NotificationError
from csmkit.plugins import PluginManager
from csmkit.storage import MemoryStore
from csmkit.timeline import Direction, MessageAdded

AT = datetime(2026, 10, 8, 2, 0, tzinfo=timezone.utc)
SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHM="


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Capture:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, Capture]]:
    controller_module = pytest.importorskip("aiosmtpd.controller")
    handler = Capture()
    controller = controller_module.Controller(
        handler, hostname="127.0.0.1", port=free_port(), ready_timeout=5.0
    )
    controller.start()
    try:
        yield "127.0.0.1", controller.port, handler
    finally:
        controller.stop()


def test_smtp_round_trip_threads_the_reply_back(smtp_server: tuple[str, int, Capture]) -> None:
    host, port, capture = smtp_server
    store, pm = MemoryStore(), PluginManager(load_entrypoints=False)
    parser = EmailParser(subject_tag=SubjectTag("ACME"))
    intake = Intake(store, pm, email_parser=parser)
    request = (
        b"From: Li Wei <li.wei@example.cn>\r\nTo: support@example.com\r\n"
        b"Subject: =?utf-8?B?56m66LCD5LiN5Yi25Ya3?=\r\nMessage-ID: <q1@example.cn>\r\n\r\nhelp\r\n"
    )
    ticket_id = intake.receive_email(request, received_at=AT).ticket_id
    assert ticket_id is not None
    channel = SmtpChannel(
        host,
        port,
        sender="客服 <support@example.com>",
        subject_tag=SubjectTag("ACME"),
        timeout=5,
        token=lambda: "0001",
    )
    note = EmailNotification(
        to=["li.wei@example.cn"],
        subject="空调不制冷",
        text="工程师明天上门。",
        at=AT + timedelta(minutes=10),
        ticket_id=ticket_id,
        in_reply_to="<q1@example.cn>",
        automatic=True,
    )
    receipt = pm.deliver_notification(note, channel)
    assert receipt.message_id == f"<csmkit.{ticket_id}.0001@example.com>"  # type: ignore[attr-defined]
    assert receipt.recipients == ("li.wei@example.cn",)  # type: ignore[attr-defined]
    (envelope,) = capture.envelopes
    assert envelope.rcpt_tos == ["li.wei@example.cn"]
    sent = parser.parse(envelope.content, received_at=AT)
    assert sent.subject == f"[ACME #{ticket_id}] 空调不制冷"
    assert sent.in_reply_to == "<q1@example.cn>" and sent.references == ("<q1@example.cn>",)
    assert sent.header("auto-submitted") == "auto-replied"
    assert sent.text.strip() == "工程师明天上门。"
    # Record the outbound message, then the customer's reply threads back.
    store.append(
        ticket_id,
        [
            MessageAdded(
                ticket_id=ticket_id,
                at=note.at,
                direction=Direction.OUTBOUND,
                channel="email",
                message_id=receipt.message_id,
            )
        ],
        store.version(ticket_id),
    )  # type: ignore[attr-defined]
    # Our own mail bounced straight back would be a loop: dropped.
    assert intake.receive_email(envelope.content, received_at=AT).outcome in (
        "dropped",
        "duplicate",
    )
    reply = (
        f"From: li.wei@example.cn\r\nSubject: Re: {sent.subject}\r\n"
        f"Message-ID: <r2@example.cn>\r\nIn-Reply-To: {receipt.message_id}\r\n\r\n好的\r\n"  # type: ignore[attr-defined]
    ).encode()
    result = intake.receive_email(reply, received_at=AT + timedelta(hours=1))
    assert (result.outcome, result.ticket_id) == ("appended", ticket_id)


def test_smtp_failure_is_a_delivery_error() -> None:
    channel = SmtpChannel("127.0.0.1", free_port(), sender="s@example.com", timeout=2)
    note = EmailNotification(to=["a@example.cn"], subject="x", text="y", at=AT)
    with pytest.raises(DeliveryError, match="SMTP delivery"):
        channel.send(note)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"subject": "hi\r\nBcc: victim@example.org"},
        {"to": ["a@example.cn\r\nBcc: victim@example.org"]},
        {"to": ["Name <a@example.cn>, b@example.cn"]},
        {"in_reply_to": "<x@y>\nBcc: v@e"},
        {"references": ["<a@b>", "<c@d>\r\nX: y"]},
        {"headers": {"X-Ticket": "1\nBcc: v@e"}},
        {"headers": {"Bad Name": "1"}},
        {"ticket_id": "T-1\r\n"},
        {"to": []},
    ],
)
def test_header_injection_is_refused(kwargs: dict[str, Any]) -> None:
    base: dict[str, Any] = {"to": ["a@example.cn"], "subject": "s", "text": "t", "at": AT}
    with pytest.raises(NotificationError):
        EmailNotification(**{**base, **kwargs})


def test_automatic_headers_and_reference_cap() -> None:
    channel = SmtpChannel("localhost", sender="s@example.com", token=lambda: "z")
    refs = [f"<r{i}@x>" for i in range(15)]
    note = EmailNotification(
        to=["a@example.cn"], subject="s", text="t", at=AT, references=refs, in_reply_to="<last@x>"
    )
    message = channel.build(note)
    ids = str(message["References"]).split()
    assert len(ids) == 10 and ids[0] == "<r0@x>" and ids[-1] == "<last@x>"
    assert message["Auto-Submitted"] is None


# ------------------------------------------------------------------ webhooks over HTTP
class Receiver(BaseHTTPRequestHandler):
    parser: WebhookParser
    plan: list[int]
    received: list[tuple[int, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = self.plan.pop(0) if self.plan else 200
        if status == 200:
            try:
                self.parser.verify(dict(self.headers), body, now=AT)
                self.received.append((status, json.loads(body)))
            except Exception:
                status = 400
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("H", (Receiver,), {"parser": WebhookParser(SECRET), "plan": [], "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_webhook_post_is_signed_and_verified(http_server: tuple[str, type[Receiver]]) -> None:
    url, handler = http_server
    note = WebhookNotification(
        id="evt-1", type="ticket.created", data={"ticket": "T-1", "主题": "空调"}, at=AT
    )
    receipt = PluginManager(load_entrypoints=False).deliver_notification(
        note, WebhookChannel(url, secret=SECRET, timeout=5)
    )
    assert receipt.attempts == 1  # type: ignore[attr-defined]
    assert handler.received == [
        (
            200,
            {
                "id": "evt-1",
                "type": "ticket.created",
                "timestamp": "2026-10-08T02:00:00+00:00",
                "data": {"ticket": "T-1", "主题": "空调"},
            },
        )
    ]


def test_webhook_retries_with_backoff(http_server: tuple[str, type[Receiver]]) -> None:
    url, handler = http_server
    handler.plan[:] = [503, 429]
    sleeps: list[float] = []
    channel = WebhookChannel(
        url, secret=SECRET, timeout=5, retries=3, backoff=0.5, sleep=sleeps.append
    )
    receipt = channel.send(WebhookNotification(id="evt-2", type="t", data={}, at=AT))
    assert receipt.attempts == 3 and sleeps == [0.5, 1.0]


def test_webhook_permanent_error_is_not_retried(http_server: tuple[str, type[Receiver]]) -> None:
    url, _ = http_server
    sleeps: list[float] = []
    channel = WebhookChannel(url, secret="wrong secret", timeout=5, sleep=sleeps.append)
    with pytest.raises(DeliveryError, match="HTTP 400") as info:
        channel.send(WebhookNotification(id="evt-3", type="t", data={}, at=AT))
    assert info.value.attempts == 1 and sleeps == []


def test_webhook_gives_up_after_retries() -> None:
    sleeps: list[float] = []
    channel = WebhookChannel(
        f"http://127.0.0.1:{free_port()}/", timeout=2, retries=2, backoff=0.1, sleep=sleeps.append
    )
    with pytest.raises(DeliveryError, match="3 attempts") as info:
        channel.send(WebhookNotification(id="e", type="t", data={}, at=AT))
    assert info.value.attempts == 3 and sleeps == [0.1, 0.2]


@pytest.mark.parametrize("url", ["ftp://x", "file:///etc/passwd", "http://x/\r\nHost: y"])
def test_webhook_urls_are_checked(url: str) -> None:
    with pytest.raises(NotificationError):
        WebhookChannel(url)


def test_webhook_notification_data_must_be_json() -> None:
    with pytest.raises(NotificationError, match="JSON-safe"):
        WebhookNotification(id="e", type="t", data={"at": AT}, at=AT)
