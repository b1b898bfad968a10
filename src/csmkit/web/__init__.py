"""Serving a desk over HTTP (extra ``web``: Starlette + uvicorn).

[`create_app()`][csmkit.web.create_app] returns an ASGI app: intake endpoints (WeChat,
Standard Webhooks, named webhook receivers such as GitHub, inbound mail), the agents'
JSON API, an OpenAPI document, health checks and a KPI dashboard. Nothing is open
without [`WebSettings`][csmkit.web.WebSettings]: agents authenticate with
[`ApiKey`][csmkit.web.ApiKey]s mapped to workflow roles, webhooks with their provider's
signature. See ``docs/web.md``.
"""

from __future__ import annotations

from csmkit.web._app import create_app
from csmkit.web._dashboard import Dashboard
from csmkit.web._serve import serve
from csmkit.web._settings import ApiKey, WebConfigError, WebSettings

__all__ = ["ApiKey", "Dashboard", "WebConfigError", "WebSettings", "create_app", "serve"]
