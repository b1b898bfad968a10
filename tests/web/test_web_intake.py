"""Intake endpoints: each provider's signature is the only authentication, a retry is
taken in once, a refused request writes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import datetime, timezone

import pytest
from starlette.testclient import TestClient

from csmkit.channels import webhook_headers, wechat_signature
from csmkit.desk import ServiceDesk
from csmkit.storage import open_store
from csmkit.web import WebSettings, create_app
from web._webkit import (
    WECHAT_TOKEN,
    WHSEC,
    Clock,
    bearer,
    github_post,
    standard_post,
    wechat_query,
    wechat_text,
)


def _count(desk: ServiceDesk) -> int:
    return len(desk.store.find_tickets(limit=1000).items)


def test_wechat_url_check_echoes_only_a_valid_signature(client: TestClient, clock: Clock) -> None:
    query = {**wechat_query(clock.now), "echostr": "4513697913471519"}
    answer = client.get("/intake/wechat", params=query)
    assert (answer.status_code, answer.text) == (200, "4513697913471519")
    forged = {**query, "signature": "0" * 40}
    refused = client.get("/intake/wechat", params=forged)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


def test_wechat_retry_is_taken_in_once(client: TestClient, clock: Clock, desk: ServiceDesk) -> None:
    body = wechat_text("oUser1", "空调不制冷", "1001", clock.now)
    for _ in range(3):  # the platform retries until it gets "success"
        answer = client.post("/intake/wechat", params=wechat_query(clock.now), content=body)
        assert answer.text == "success"
    assert _count(desk) == 1
    clock.advance(minutes=1)
    again = wechat_text("oUser1", "还是不行", "1002", clock.now)
    for _ in range(2):
        client.post("/intake/wechat", params=wechat_query(clock.now, nonce="n2"), content=again)
    messages = [
        e
        for summary in desk.store.find_tickets().items
        for e in desk.timeline(summary.ticket_id).events
        if e.kind == "message_added"
    ]
    assert sorted(e.message_id for e in messages) == ["wechat:1001", "wechat:1002"]


def test_wechat_forged_or_stale_writes_nothing(
    client: TestClient, clock: Clock, desk: ServiceDesk
) -> None:
    body = wechat_text("oUser1", "hi", "2001", clock.now)
    forged = wechat_query(clock.now, token="not-the-token")
    assert client.post("/intake/wechat", params=forged, content=body).status_code == 401
    stale = wechat_query(datetime(2026, 10, 15, 1, 0, tzinfo=timezone.utc))
    assert client.post("/intake/wechat", params=stale, content=body).status_code == 401
    assert _count(desk) == 0


def test_wechat_safe_mode_official_sample(keys_and_settings) -> None:
    # Tencent's WXBizMsgCrypt Python sample (Sample.py); copy read at charlesXu86/Chatbot_CN,
    # Chatbot_Web/impl/weixin/Sample.py (the same vector as tests/channels).
    pytest.importorskip("cryptography")
    timestamp, nonce = "1409735669", "1320562132"
    encrypt = (
        "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8"
        "PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jis"
        "a+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6"
        "X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl"
        "9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
    )
    body = (
        "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    )
    clock = Clock(datetime.fromtimestamp(int(timestamp) + 2, timezone.utc))
    desk = ServiceDesk.from_config(
        {"intake_type": "c", "types": {"c": {"workflow": "complaint"}}},
        store=open_store("memory://"),
        clock=clock,
    )
    settings = WebSettings(
        wechat={"token": "spamtest", "app_id": "wx2c2769f8efd9abc2",
                "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}
    )  # fmt: skip
    query = {
        "signature": wechat_signature("spamtest", timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
    }
    with TestClient(create_app(desk, settings)) as client:
        assert client.post("/intake/wechat", params=query, content=body.encode()).text == "success"
        bad = {**query, "msg_signature": "0" * 40}
        assert client.post("/intake/wechat", params=bad, content=body.encode()).status_code == 401
    (summary,) = desk.store.find_tickets().items
    assert desk.ticket(summary.ticket_id).channel == "wechat"


def test_standard_webhooks_batch_and_redelivery(
    client: TestClient, clock: Clock, desk: ServiceDesk
) -> None:
    messages = [
        {
            "id": f"form-{i}",
            "sender": {"kind": "email", "value": f"c{i}@example.cn"},
            "subject": "门锁",
            "text": "打不开",
        }
        for i in range(3)
    ]
    body, headers = standard_post(messages, clock.now)
    first = client.post("/intake/webhook", content=body, headers=headers)
    assert [r["outcome"] for r in first.json()["results"]] == ["created"] * 3
    again = client.post("/intake/webhook", content=body, headers=headers)  # same delivery
    assert again.status_code == 200 and again.json()["results"] == []
    resent, new_headers = standard_post(messages, clock.now)  # re-sent as a new delivery
    answer = client.post("/intake/webhook", content=resent, headers=new_headers)
    outcomes = [r["outcome"] for r in answer.json()["results"]]
    assert set(outcomes) <= {"duplicate"}
    assert _count(desk) == 3
    tampered = client.post("/intake/webhook", content=body + b" ", headers=headers)
    assert tampered.status_code == 401
    assert tampered.json()["detail"] == "the request signature does not verify"


def test_github_preset_opens_issue_and_ignores_other_actions(
    client: TestClient, desk: ServiceDesk
) -> None:
    issue = {"action": "opened", "issue": {"node_id": "I_kwDO1", "title": "App crashes",
             "body": "on start"}, "sender": {"login": "octocat"}}  # fmt: skip
    body, headers = github_post(issue)
    answer = client.post("/intake/hooks/github", content=body, headers=headers)
    assert answer.json()["results"][0]["outcome"] == "created"
    labeled, headers = github_post({**issue, "action": "labeled"})
    ignored = client.post("/intake/hooks/github", content=labeled, headers=headers)
    assert ignored.json()["results"] == [{"outcome": "ignored", "ticket_id": None}]
    wrong, headers = github_post(issue, secret="guess")
    assert client.post("/intake/hooks/github", content=wrong, headers=headers).status_code == 401
    assert client.post("/intake/hooks/gitlab", content=body, headers=headers).status_code == 404
    assert _count(desk) == 1


def test_github_documented_signature_vector() -> None:
    # GitHub docs, "Validating webhook deliveries": secret "It's a Secret to Everybody",
    # payload "Hello, World!" -> this sha256 (the helper signs the same way).
    digest = hmac.new(b"It's a Secret to Everybody", b"Hello, World!", hashlib.sha256)
    assert digest.hexdigest() == (
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


def test_inbound_email_signed_by_the_mail_service(
    client: TestClient, clock: Clock, desk: ServiceDesk
) -> None:
    raw = (
        "From: 王芳 <wang.fang@example.cn>\r\nTo: kf@desk.example.cn\r\n"
        "Subject: =?UTF-8?B?" + base64.b64encode("空调不制冷".encode()).decode() + "?=\r\n"
        "Message-ID: <m1@example.cn>\r\nDate: Thu, 15 Oct 2026 10:00:00 +0800\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n请尽快上门\r\n"
    ).encode()
    headers = webhook_headers(WHSEC, "mail_" + uuid.uuid4().hex, clock.now, raw)
    answer = client.post("/intake/email", content=raw, headers=headers)
    assert answer.json()["results"][0]["outcome"] == "created"
    (summary,) = desk.store.find_tickets().items
    assert desk.ticket(summary.ticket_id).subject == "空调不制冷"
    unsigned = client.post("/intake/email", content=raw)
    assert unsigned.status_code == 401


def test_unconfigured_endpoints_do_not_exist(desk: ServiceDesk) -> None:
    with TestClient(create_app(desk)) as client:
        for path in ("/intake/wechat", "/intake/webhook", "/intake/email", "/intake/hooks/x"):
            assert client.post(path, content=b"{}").status_code == 404
        assert client.get("/api/v1/tickets").status_code == 401
        assert client.get("/dashboard").status_code == 401
        assert "/intake/wechat" not in client.get("/openapi.json").json()["paths"]


def test_webhook_secret_never_authorises_the_api(client: TestClient) -> None:
    assert client.get("/api/v1/tickets", headers=bearer(WHSEC)).status_code == 401
    assert client.get("/api/v1/tickets", headers=bearer(WECHAT_TOKEN)).status_code == 401
