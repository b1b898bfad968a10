"""``csmkit serve examples/repair_desk.toml`` for real: a WeChat message through the
loopback server, the dashboard in headless Chromium, a bounded load test."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn  # noqa: F401  (csmkit serve needs it: a missing one is an error here)

from csmkit.channels import webhook_headers
from csmkit.storage import open_store
from csmkit.timeline import MessageAdded
from web._webkit import REPAIR, bearer, wechat_query, wechat_text

CHROMIUM = Path("/usr/bin/chromium")


class Server:
    def __init__(self, base: str, credentials: dict[str, Any], path: Path) -> None:
        self.base = base
        self.credentials = credentials
        self.path = path

    @property
    def key(self) -> str:
        return str(self.credentials["api_key"])

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.credentials["settings"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "csmkit", "serve", str(REPAIR), "--port", str(port)],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                pytest.fail(
                    f"csmkit serve exited: {process.stdout.read() if process.stdout else ''}"
                )
            time.sleep(0.1)
        credentials = work / "repair_desk.credentials.json"
        yield Server(base, json.loads(credentials.read_text()), credentials)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def _post_wechat(server: Server, user: str, text: str, msg_id: str) -> None:
    token = server.settings["wechat"]["token"]
    now = datetime.now(timezone.utc)
    body = wechat_text(user, text, msg_id, now)
    posted = httpx.post(
        server.base + "/intake/wechat", params=wechat_query(now, token=token), content=body
    )
    assert posted.text == "success"


@pytest.mark.slow
def test_new_user_walkthrough(server: Server) -> None:
    assert stat.S_IMODE(server.path.stat().st_mode) == 0o600
    _post_wechat(server, "oNewUser", "空调不制冷，请上门", "9001")
    listed = httpx.get(server.base + "/api/v1/tickets", headers=bearer(server.key)).json()
    assert listed["items"], listed
    ticket_id = listed["items"][-1]["id"]
    shown = httpx.get(f"{server.base}/api/v1/tickets/{ticket_id}", headers=bearer(server.key))
    assert shown.json()["channel"] == "wechat"
    page = httpx.get(server.base + "/dashboard", headers=bearer(server.key))
    assert page.status_code == 200 and 'data-chart="weekly-tickets"' in page.text


@pytest.mark.slow
def test_dashboard_renders_in_headless_chromium(server: Server, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)")
        pytest.skip("no /usr/bin/chromium on this machine: the browser test needs it")
    from playwright import sync_api

    # The charts draw the desk's tickets: make sure there is one, whatever ran before.
    _post_wechat(server, "oBrowser", "热水器不出热水", "9002")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            # Sign in as a person would: the login form sets the page cookie.
            page.goto(server.base + "/login")
            page.fill("input[name=key]", server.key)
            page.click("button[type=submit]")
            page.wait_for_url("**/dashboard")
            assert page.title() == "服务台看板"
            chart = page.locator('svg.chart[data-chart="weekly-tickets"]')
            box = chart.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 50
            assert page.locator('svg.chart[data-chart="weekly-tickets"] rect.bar').count() >= 1
            bar = page.locator("svg.chart rect.bar").first.bounding_box()
            assert bar is not None and bar["height"] > 0
            # The stylesheet shipped in the package applied (no CDN): bars are filled.
            fill = page.locator("svg.chart rect.bar").first.evaluate(
                "e => getComputedStyle(e).fill"
            )
            assert fill == "rgb(47, 111, 174)"
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            artefacts = os.environ.get("CSMKIT_SCREENSHOTS")
            if artefacts:
                shutil.copy(shot, Path(artefacts) / "dashboard.png")
            page.goto(server.base + "/dashboard?lang=en")
            assert page.title() == "Service desk dashboard"
        finally:
            browser.close()


@pytest.mark.slow
def test_load_1000_signed_webhooks_from_20_clients(server: Server) -> None:
    secret = server.settings["webhook_secrets"][0]
    total, clients = 1000, 20

    # Every fifth post (from the second round on) answers the message the same client
    # posted 20 indexes earlier, so it must be threaded into that ticket.
    def post(index: int, client: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": f"load-{index}", "sender": {"kind": "email", "value": f"c{index}@load.example"},
            "subject": f"load {index}", "text": "hello",
        }  # fmt: skip
        if index % 5 == 4 and index >= clients:
            message["in_reply_to"] = f"load-{index - clients}"
            message["sender"] = {"kind": "email", "value": f"c{index - clients}@load.example"}
        body = json.dumps(message).encode()
        headers = webhook_headers(
            secret, "msg_" + uuid.uuid4().hex, datetime.now(timezone.utc), body
        )
        for _ in range(20):
            answer = client.post(server.base + "/intake/webhook", content=body, headers=headers)
            if answer.status_code == 200:
                return {"index": index, **answer.json()["results"][0]}
            time.sleep(0.05)
        raise AssertionError(f"post {index}: {answer.status_code} {answer.text}")

    def worker(offset: int) -> list[dict[str, Any]]:
        out = []
        with httpx.Client(timeout=30) as client:
            for index in range(offset, total, clients):
                out.append(post(index, client))
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = [r for chunk in pool.map(worker, range(clients)) for r in chunk]
    elapsed = time.perf_counter() - started
    assert len(results) == total
    outcomes = [r["outcome"] for r in results]
    replies = sum(1 for i in range(clients, total) if i % 5 == 4)
    assert outcomes.count("appended") == replies, sorted(set(outcomes))
    assert outcomes.count("created") == total - replies
    # None lost, none duplicated: read the server's SQLite store directly.
    store = open_store(f"sqlite:///{server.path.parent / 'repair_desk.db'}")
    try:
        ids = [
            event.message_id
            for timeline in (store.load(t) for t in {r["ticket_id"] for r in results})
            for event in timeline.events
            if isinstance(event, MessageAdded) and str(event.message_id or "").startswith("load-")
        ]
    finally:
        store.close()
    assert sorted(ids) == sorted(f"load-{i}" for i in range(total))
    created = outcomes.count("created")
    threaded = outcomes.count("appended")
    print(f"\nload: {total} posts from {clients} clients in {elapsed:.1f} s "
          f"({total / elapsed:.0f} posts/s); {created} tickets, {threaded} threaded")  # fmt: skip
