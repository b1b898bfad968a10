"""Helpers of the web tests: a settable clock, signed requests of each provider."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from csmkit.channels import webhook_headers, wechat_signature

REPAIR = Path(__file__).parents[2] / "examples" / "repair_desk.toml"
SH = ZoneInfo("Asia/Shanghai")
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks spec's example key
GITHUB_SECRET = "It's a Secret to Everybody"  # GitHub's documented example secret
WECHAT_TOKEN = "wechat-token-for-tests"


class Clock:
    """A settable clock (the desk's only time source)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def wechat_text(open_id: str, content: str, msg_id: str, at: datetime) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[gh_desk]]></ToUserName><FromUserName><![CDATA[{open_id}]]>"
        f"</FromUserName><CreateTime>{int(at.timestamp())}</CreateTime><MsgType><![CDATA[text]]>"
        f"</MsgType><Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def wechat_query(at: datetime, nonce: str = "n1", token: str = WECHAT_TOKEN) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    return {
        "signature": wechat_signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }


def standard_post(
    messages: list[dict[str, Any]], at: datetime, secret: str = WHSEC
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"messages": messages}, ensure_ascii=False).encode()
    headers = webhook_headers(secret, "msg_" + uuid.uuid4().hex, at, body)
    return body, {**headers, "content-type": "application/json"}


def github_post(
    payload: dict[str, Any], secret: str = GITHUB_SECRET
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "x-hub-signature-256": "sha256=" + digest,
        "x-github-delivery": str(uuid.uuid4()),
        "x-github-event": "issues",
        "content-type": "application/json",
    }
    return body, headers
