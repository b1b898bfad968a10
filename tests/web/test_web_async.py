"""Async done right: blocking desk work off the event loop, one ticker task per app
when asked for, none otherwise; rate limits and settings as rules."""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio
import httpx2
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from csmkit.desk import ServiceDesk
from csmkit.web import ApiKey, WebSettings, create_app
from csmkit.web._guard import RateLimiter
from web._webkit import Clock, bearer


def _wait_for(condition: Any, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_ticker_task_runs_the_desk_clock(
    desk: ServiceDesk, keys_and_settings, clock: Clock
) -> None:
    keys, settings = keys_and_settings
    sms = desk.channels["sms"]
    app = create_app(desk, settings, ticker=True, tick_seconds=0.02)
    with TestClient(app) as client:
        created = client.post(
            "/api/v1/tickets",
            json={"type": "repair", "fields": {"address": "北京 3 号",
                  "contact_phone": "+8613700137000", "region": "north", "product": "lock"}},
            headers=bearer(keys.admin),
        )  # fmt: skip
        assert created.status_code == 201
        clock.advance(hours=1, minutes=1)  # one business hour without a reply
        assert _wait_for(lambda: any(n.rule == "warn-first-response" for n in sms.sent))


def test_no_ticker_unless_asked(desk: ServiceDesk, keys_and_settings, clock: Clock) -> None:
    ticks: list[object] = []
    original = desk.tick
    desk.tick = lambda now=None: ticks.append(now) or original(now)  # type: ignore[method-assign]
    with TestClient(create_app(desk, keys_and_settings[1])) as client:
        for _ in range(20):
            assert client.get("/healthz").status_code == 200
    assert ticks == []


def test_blocking_desk_work_leaves_the_event_loop_free(
    desk: ServiceDesk, keys_and_settings
) -> None:
    keys, settings = keys_and_settings
    released = threading.Event()
    store_find = desk.store.find_tickets

    def slow_find(**kwargs: Any) -> Any:
        released.wait(10)  # held until the health check has been answered
        return store_find(**kwargs)

    desk.store.find_tickets = slow_find  # type: ignore[method-assign]
    order: list[str] = []
    app = create_app(desk, settings)

    async def main() -> None:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://desk") as client:

            async def listing() -> None:
                answer = await client.get("/api/v1/tickets", headers=bearer(keys.admin))
                assert answer.status_code == 200
                order.append("listing")

            async def health() -> None:
                await anyio.sleep(0.05)
                assert (await client.get("/healthz")).status_code == 200
                order.append("health")
                released.set()

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(listing)
                tasks.start_soon(health)

    anyio.run(main)
    assert order == ["health", "listing"]


@given(
    per_minute=st.integers(1, 120),
    gaps=st.lists(st.floats(0, 5, allow_nan=False), min_size=1, max_size=200),
)
def test_rate_limiter_never_lets_more_through_than_the_budget(
    per_minute: int, gaps: list[float]
) -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute, clock=lambda: now[0])
    accepted = 0
    for gap in gaps:
        now[0] += gap
        if limiter.take("k") == 0:
            accepted += 1
    budget = per_minute + now[0] * per_minute / 60.0
    assert accepted <= budget + 1e-9
    now[0] += 60.0  # a full minute idle refills the bucket
    assert limiter.take("k") == 0


_names = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=12)


@given(
    keys=st.lists(
        st.tuples(_names, _names, st.frozensets(_names, max_size=3), st.booleans()),
        max_size=4,
        unique_by=lambda k: k[0],
    ),
    limit=st.integers(1, 10**7),
    origins=st.lists(st.sampled_from(["https://a.example", "http://b.example:8080"]), unique=True),
)
def test_settings_round_trip(
    keys: list[tuple[str, str, frozenset[str], bool]], limit: int, origins: list[str]
) -> None:
    api_keys = tuple(
        ApiKey.generate(name, actor=actor, roles=sorted(roles), write=write)[0]
        for name, actor, roles, write in keys
    )
    settings = WebSettings(
        api_keys=api_keys, max_body_bytes=limit, cors_origins=tuple(origins),
        webhook_secrets=("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",),
    )  # fmt: skip
    assert WebSettings.from_dict(settings.to_dict()) == settings
    for key in api_keys:
        assert ApiKey.from_dict(key.to_dict()) == key
