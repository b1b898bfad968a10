from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from csmkit.channels import Intake, WebhookParser, sign_webhook, webhook_headers
from csmkit.errors import WebhookVerificationError
from csmkit.plugins import PluginManager
from csmkit.storage import MemoryStore

NOW = datetime(2026, 10, 8, 2, 0, tzinfo=timezone.utc)
SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHM="


def body_of(*messages: dict[str, Any]) -> bytes:
    return json.dumps({"messages": list(messages)}, ensure_ascii=False).encode()


def wechat(mid: str = "wx-1", text: str = "空调不制冷", **extra: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "channel": "wechat",
        "sender": {"kind": "wechat", "value": "wxid_wf", "name": "王芳"},
        "text": text,
        **extra,
    }


def signed(
    body: bytes, msg_id: str = "msg_1", at: datetime = NOW, secret: str = SECRET
) -> dict[str, str]:
    return webhook_headers(secret, msg_id, at, body)


def test_signed_request_parses() -> None:
    body = body_of(wechat(), wechat("wx-2", "型号 KFR-35GW", in_reply_to="wx-1"))
    messages = WebhookParser(SECRET).parse(signed(body), body, now=NOW)
    assert [m.external_id for m in messages] == ["wx-1", "wx-2"]
    first = messages[0]
    assert (first.channel, first.sender_kind, first.sender, first.sender_name) == (
        "wechat",
        "wechat",
        "wxid_wf",
        "王芳",
    )
    assert first.received_at == NOW and messages[1].in_reply_to == "wx-1"


def test_known_signature_vector() -> None:
    # Standard Webhooks example: secret, id, timestamp and body from the spec's test suite.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert (
        sign_webhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_key_rotation_any_secret_matches() -> None:
    body = body_of(wechat())
    parser = WebhookParser(["old-secret", SECRET])
    assert len(parser.parse(signed(body), body, now=NOW)) == 1


def test_several_signatures_in_the_header() -> None:
    body = body_of(wechat())
    headers = signed(body)
    headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]
    assert len(WebhookParser(SECRET).parse(headers, body, now=NOW)) == 1


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda h, b: ({**h, "webhook-signature": "v1,bad"}, b), "no webhook-signature"),
        (lambda h, b: (h, b.replace(b"wx-1", b"wx-9")), "no webhook-signature"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "missing"),
        (lambda h, b: ({**h, "webhook-timestamp": "yesterday"}, b), "Unix seconds"),
        (lambda h, b: (signed(b, at=NOW - timedelta(minutes=6)), b), "tolerance"),
        (lambda h, b: (signed(b, at=NOW + timedelta(minutes=6)), b), "tolerance"),
        (lambda h, b: (signed(b, secret="other"), b), "no webhook-signature"),
    ],
)
def test_bad_signatures(mutate: Any, match: str) -> None:
    body = body_of(wechat())
    headers, body = mutate(signed(body), body)
    with pytest.raises(WebhookVerificationError, match=match):
        WebhookParser(SECRET).parse(headers, body, now=NOW)


def test_header_names_are_case_insensitive() -> None:
    body = body_of(wechat())
    headers = {k.upper(): v for k, v in signed(body).items()}
    assert len(WebhookParser(SECRET).parse(headers, body, now=NOW)) == 1


def test_replayed_request_returns_nothing() -> None:
    parser = WebhookParser(SECRET)
    body = body_of(wechat())
    assert len(parser.parse(signed(body), body, now=NOW)) == 1
    assert parser.parse(signed(body), body, now=NOW + timedelta(seconds=30)) == []
    # A new delivery id carrying an already-seen message id: the message is de-duplicated.
    assert parser.parse(signed(body, "msg_2"), body, now=NOW) == []


def test_failed_parse_remembers_nothing() -> None:
    parser = WebhookParser(SECRET)
    bad = body_of(wechat(), {"id": "x"})
    with pytest.raises(WebhookVerificationError, match=r"messages\[1\]: missing 'sender'"):
        parser.parse(signed(bad), bad, now=NOW)
    good = body_of(wechat())
    assert len(parser.parse(signed(good), good, now=NOW)) == 1


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"\xff\xfe", "UTF-8 JSON"),
        (b"{not json", "UTF-8 JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"messages": {}}', "expected a list"),
        (b'{"messages": [1]}', r"messages\[0\]: expected an object"),
        (body_of(wechat(colour="red")), "unknown key"),
        (body_of({**wechat(), "sender": "wxid"}), "sender"),
        (body_of({**wechat(), "sender": {"kind": "wechat", "value": ""}}), "sender.value"),
        (body_of(wechat(text="x" * 101)), "over the limit"),
        (body_of(wechat(references="wx-0")), "references"),
        (body_of(wechat(attachments=[{"filename": "a", "size": -1}])), "size"),
        (b"{" + b" " * 5000 + b"}", "over the limit of 4096 bytes"),
        (body_of(*[wechat(f"m{i}") for i in range(4)]), "over the limit of 3"),
    ],
)
def test_malformed_or_oversized_json(body: bytes, match: str) -> None:
    parser = WebhookParser(SECRET, max_body_bytes=4096, max_messages=3, max_text_chars=100)
    with pytest.raises(WebhookVerificationError, match=match):
        parser.parse(signed(body), body, now=NOW)


def test_single_message_body_and_attachment_urls() -> None:
    body = json.dumps(
        wechat(
            ticket_id="T-42",
            attachments=[
                {
                    "filename": "照片.jpg",
                    "content_type": "image/jpeg",
                    "size": 1024,
                    "url": "https://cdn.example.cn/p.jpg",
                }
            ],
        )
    ).encode()
    (message,) = WebhookParser(SECRET).parse(signed(body), body, now=NOW)
    assert message.ticket_ref == "T-42"
    assert message.attachments[0].content_ref == "https://cdn.example.cn/p.jpg"


def test_unsigned_mode_for_trusted_callers() -> None:
    body = body_of(wechat())
    assert len(WebhookParser(None).parse({}, body, now=NOW)) == 1


def test_bad_configuration() -> None:
    with pytest.raises(WebhookVerificationError):
        WebhookParser("")
    with pytest.raises(WebhookVerificationError):
        WebhookParser("whsec_***")
    with pytest.raises(WebhookVerificationError):
        WebhookParser(SECRET, tolerance=timedelta(0))
    with pytest.raises(WebhookVerificationError, match="timezone-aware"):
        WebhookParser(SECRET).parse({}, b"{}", now=datetime(2026, 1, 1))


def test_webhook_messages_thread_into_one_ticket() -> None:
    store, pm = MemoryStore(), PluginManager(load_entrypoints=False)
    parser, intake = WebhookParser(SECRET), Intake(store, pm)
    first = body_of(wechat())
    results = [intake.receive(m) for m in parser.parse(signed(first), first, now=NOW)]
    follow = body_of(wechat("wx-2", "还没修好", in_reply_to="wx-1"))
    later = NOW + timedelta(minutes=1)
    results += [
        intake.receive(m) for m in parser.parse(signed(follow, "msg_2", later), follow, now=later)
    ]
    assert [r.outcome for r in results] == ["created", "appended"]
    assert results[0].ticket_id == results[1].ticket_id
    # The sender retries the first delivery after our parser forgot it: the store catches it.
    fresh = WebhookParser(SECRET)
    (again,) = fresh.parse(signed(first), first, now=NOW)
    assert intake.receive(again).outcome == "duplicate"
    assert len(store.find_tickets().items) == 1
