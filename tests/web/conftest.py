"""A served repair desk (examples/repair_desk.toml) on a memory store with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest

# starlette, uvicorn, httpx2 and playwright are in the `test` extra: a missing one is an
# error here, never a silently skipped web suite.
from starlette.testclient import TestClient

from csmkit.desk import ServiceDesk
from csmkit.storage import open_store
from csmkit.web import ApiKey, WebSettings, create_app
from web._webkit import GITHUB_SECRET, REPAIR, SH, WECHAT_TOKEN, WHSEC, Clock


class Keys(SimpleNamespace):
    admin: str
    engineer: str
    dispatcher: str
    reader: str


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 10, 15, 10, 0, tzinfo=SH))  # a Thursday, business hours


@pytest.fixture
def desk(clock: Clock) -> ServiceDesk:
    sent: list[Any] = []
    sms = SimpleNamespace(send=sent.append, sent=sent)
    return ServiceDesk.from_config(
        REPAIR, store=open_store("memory://"), clock=clock, channels={"sms": sms}
    )


@pytest.fixture
def keys_and_settings() -> tuple[Keys, WebSettings]:
    admin, admin_text = ApiKey.generate("admin", actor="s1", roles=["agent", "supervisor"])
    engineer, engineer_text = ApiKey.generate("eng", actor="e04", roles=["engineer"])
    dispatcher, dispatcher_text = ApiKey.generate("disp", actor="s2", roles=["dispatcher"])
    reader, reader_text = ApiKey.generate("wall", actor="wallboard", write=False)
    settings = WebSettings(
        api_keys=(admin, engineer, dispatcher, reader),
        wechat={"token": WECHAT_TOKEN},
        webhook_secrets=(WHSEC,),
        hooks={
            "github": {
                "signature": {"scheme": "github"},
                "mapping": {
                    "channel": "github", "sender_kind": "github",
                    "fields": {"external_id": {"path": "/issue/node_id", "prefix": "github:"},
                               "sender": "/sender/login", "subject": "/issue/title",
                               "text": {"path": "/issue/body", "optional": True}},
                    "match": {"/action": ["opened", "reopened"]},
                },
                "secrets": [GITHUB_SECRET],
            }
        },
        email={"signature": {"scheme": "standard-webhooks"}, "secrets": [WHSEC]},
        max_body_bytes=64 * 1024,
        rate_per_minute=1000,
    )  # fmt: skip
    return Keys(
        admin=admin_text, engineer=engineer_text, dispatcher=dispatcher_text, reader=reader_text
    ), settings


@pytest.fixture
def keys(keys_and_settings: tuple[Keys, WebSettings]) -> Keys:
    return keys_and_settings[0]


@pytest.fixture
def client(desk: ServiceDesk, keys_and_settings: tuple[Keys, WebSettings]) -> Iterator[TestClient]:
    app = create_app(desk, keys_and_settings[1])
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
