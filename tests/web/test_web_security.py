"""Security by default: limits, rate limits, CORS off, problem details that never show
internals, the dashboard behind a key."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from csmkit.desk import ServiceDesk
from csmkit.web import ApiKey, WebConfigError, WebSettings, create_app
from web._webkit import Clock, bearer, wechat_query, wechat_text


class Exploding:
    """A store whose every read fails with internals in the message."""

    def __getattr__(self, name: str) -> object:
        def fail(*args: object, **kwargs: object) -> object:
            raise RuntimeError("secret-internal /srv/desk.db password=hunter2")

        return fail


def test_unexpected_errors_are_a_bare_500_without_internals(
    desk: ServiceDesk, keys_and_settings
) -> None:
    keys, settings = keys_and_settings
    # Every read of the desk's store fails (the desk's parts hold the same store object).
    exploding = Exploding()
    for name in ("load", "version", "position", "find_tickets", "due_before", "count_tickets"):
        setattr(desk.store, name, getattr(exploding, name))
    with TestClient(create_app(desk, settings), raise_server_exceptions=False) as client:
        for path in ("/api/v1/tickets", "/api/v1/queue", "/api/v1/tickets/T-1"):
            answer = client.get(path, headers=bearer(keys.admin))
            assert answer.status_code == 500
            assert answer.headers["content-type"] == "application/problem+json"
            text = answer.text
            assert "hunter2" not in text and "Traceback" not in text and "srv" not in text
            assert answer.json()["detail"] == "an internal error occurred; it has been logged"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "hunter2" not in ready.text


def test_body_over_the_limit_is_413_before_parsing(client: TestClient, clock: Clock, keys) -> None:
    big = b"<xml>" + b"x" * (64 * 1024) + b"</xml>"
    answer = client.post("/intake/wechat", params=wechat_query(clock.now), content=big)
    assert answer.status_code == 413
    api = client.post(
        "/api/v1/tickets", content=b"{" + b" " * 70_000 + b"}", headers=bearer(keys.admin)
    )
    assert api.status_code == 413


def test_rate_limit_per_key(desk: ServiceDesk) -> None:
    slow, slow_text = ApiKey.generate("slow", actor="s1")
    other, other_text = ApiKey.generate("other", actor="s2")
    settings = WebSettings(api_keys=(slow, other), rate_per_minute=3)
    with TestClient(create_app(desk, settings)) as client:
        codes = [
            client.get("/api/v1/queue", headers=bearer(slow_text)).status_code for _ in range(5)
        ]
        assert codes[:3] == [200, 200, 200]
        assert codes[3:] == [429, 429]
        limited = client.get("/api/v1/queue", headers=bearer(slow_text))
        assert int(limited.headers["retry-after"]) >= 1
        assert client.get("/api/v1/queue", headers=bearer(other_text)).status_code == 200


def test_cors_is_off_by_default_and_exact_when_configured(
    client: TestClient, desk: ServiceDesk, keys_and_settings
) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    answer = client.options("/api/v1/tickets", headers=preflight)
    assert "access-control-allow-origin" not in answer.headers
    _keys, settings = keys_and_settings
    import attrs

    allowed = attrs.evolve(settings, cors_origins=("https://kf.example.cn",))
    with TestClient(create_app(desk, allowed)) as cors:
        ok = cors.options(
            "/api/v1/tickets", headers={**preflight, "Origin": "https://kf.example.cn"}
        )
        assert ok.headers["access-control-allow-origin"] == "https://kf.example.cn"
        bad = cors.options("/api/v1/tickets", headers=preflight)
        assert "access-control-allow-origin" not in bad.headers
    with pytest.raises(WebConfigError, match="cors_origins"):
        WebSettings(cors_origins=("*",))


def test_settings_round_trip_and_refuse_unknown_keys(keys_and_settings) -> None:
    _, settings = keys_and_settings
    assert WebSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(WebConfigError, match="unknown key"):
        WebSettings.from_dict({"api_key": []})
    with pytest.raises(WebConfigError, match="secrets are required"):
        WebSettings(hooks={"x": {"signature": {"scheme": "github"}, "mapping": {}}})


def test_dashboard_needs_a_key_and_renders_charts_in_both_languages(
    client: TestClient, clock: Clock, keys
) -> None:
    for n in range(3):
        body = wechat_text(f"oUser{n}", "空调不制冷", str(3000 + n), clock.now)
        client.post("/intake/wechat", params=wechat_query(clock.now, nonce=f"d{n}"), content=body)
    assert client.get("/dashboard").status_code == 401
    page = client.get("/dashboard", headers=bearer(keys.reader))
    assert page.status_code == 200
    assert "服务台看板" in page.text and 'data-kpi="tickets"' in page.text
    assert '<svg class="chart" data-chart="weekly-tickets"' in page.text
    assert "http://" not in page.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    english = client.get("/dashboard", params={"lang": "en"}, headers=bearer(keys.reader))
    assert "Service desk dashboard" in english.text
    assert client.get("/static/dashboard.css").headers["content-type"].startswith("text/css")


def test_login_cookie_reads_pages_but_never_writes(client: TestClient, keys) -> None:
    assert client.post("/login", data={"key": "wrong"}).status_code == 401
    login = client.post("/login", data={"key": keys.admin}, follow_redirects=False)
    assert login.status_code == 303
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/dashboard").status_code == 200  # the cookie reads the page
    refused = client.post("/api/v1/tickets", json={"type": "repair"})  # but never writes
    assert refused.status_code == 401
