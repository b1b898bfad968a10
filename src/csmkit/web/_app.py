"""``create_app(desk)``: the ASGI application serving a desk."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import parse_qs

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from csmkit.desk import ServiceDesk
from csmkit.errors import CsmkitError
from csmkit.storage import MemoryStore, SqliteStore
from csmkit.web._api import api_routes
from csmkit.web._dashboard import Dashboard, render_dashboard
from csmkit.web._guard import COOKIE, Guard, RateLimiter, read_body
from csmkit.web._intake import intake_routes
from csmkit.web._openapi import openapi_document
from csmkit.web._problems import HttpProblem, problem_for, problem_response
from csmkit.web._settings import WebSettings

__all__ = ["create_app"]

_log = logging.getLogger("csmkit.web")
_T = TypeVar("_T")
_LOGIN = """<!doctype html><html><head><meta charset="utf-8"><title>csmkit</title>
<link rel="stylesheet" href="static/dashboard.css"></head><body><main><section>
<h2>API key / 访问密钥</h2><form method="post" action="login">
<input name="key" type="password" autocomplete="off" size="50" required>
<button type="submit">OK</button></form></section></main></body></html>"""


def _threads(desk: ServiceDesk, configured: int | None) -> int:
    """Worker threads: the configured number, else what the store can use at once."""
    if configured is not None:
        return configured
    if isinstance(desk.store, MemoryStore):
        return 1  # one in-process dict: more threads only queue on its lock
    if isinstance(desk.store, SqliteStore):
        return 4  # one writer at a time (WAL), readers alongside
    return 8


async def _ticker(desk: ServiceDesk, every: float, offload: Callable[..., Any]) -> None:
    while True:
        try:
            result = await offload(desk.tick)
            if result.events:
                _log.info("tick: %d event(s)", result.events)
        except Exception:  # one failed tick must not stop the clock
            _log.exception("tick failed; trying again in %.0f s", every)
        await anyio.sleep(every)


def _static(name: str) -> bytes:
    return resources.files("csmkit.web").joinpath("_static").joinpath(name).read_bytes()


def create_app(
    desk: ServiceDesk,
    settings: WebSettings | None = None,
    *,
    ticker: bool = False,
    tick_seconds: float = 30.0,
    dashboard: Dashboard | None = None,
) -> Starlette:
    """An ASGI app serving ``desk``: intake endpoints, the agents' API, the dashboard.

    Mount it in FastAPI or Starlette (``app.mount("/desk", create_app(desk, ...))``) or
    serve it with any ASGI server. Nothing is open without ``settings``: no API key
    means 401 everywhere, no secret means no intake endpoint.

    Args:
        desk: The desk (thread-safe; its blocking work runs in worker threads sized by
            ``settings.threads``, else to the store).
        settings: Keys, secrets and limits ([`WebSettings`][csmkit.web.WebSettings]).
        ticker: Run ``desk.tick()`` every ``tick_seconds`` as one background task.
            Turn it on in exactly **one** process of a deployment.
        tick_seconds: Seconds between ticks.
        dashboard: What the dashboard shows ([`Dashboard`][csmkit.web.Dashboard]).

    Returns:
        A Starlette application; ``app.state.desk`` is the desk.
    """
    settings = settings or WebSettings()
    options = dashboard or Dashboard()
    limiter = anyio.CapacityLimiter(_threads(desk, settings.threads))
    guard = Guard(settings.api_keys, RateLimiter(settings.rate_per_minute))

    async def offload(function: Callable[..., _T], *args: Any) -> _T:
        return await anyio.to_thread.run_sync(functools.partial(function, *args), limiter=limiter)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            await offload(desk.store.position)
        except Exception:
            _log.exception("readiness: the store does not answer")
            raise HttpProblem(503, "unavailable", "the ticket store is unavailable") from None
        return JSONResponse({"status": "ready"})

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document(app.routes))

    async def dashboard_page(request: Request) -> Response:
        guard.check(request, write=False, cookie=True)
        lang = request.query_params.get("lang", "zh")
        if lang not in ("zh", "en"):
            raise HttpProblem(400, "bad-request", "lang must be zh or en")
        page = await offload(render_dashboard, desk, options, lang)
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return HTMLResponse(_LOGIN)
        body = await read_body(request, 4096)
        values = parse_qs(body.decode("utf-8", "replace")).get("key") or [""]
        presented = values[0].strip()
        if not presented or len(presented) > 256 or guard.lookup(presented) is None:
            raise HttpProblem(401, "unauthorized", "unknown API key")
        response = Response(status_code=303, headers={"Location": "dashboard"})
        response.set_cookie(
            COOKIE, presented, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", path="/",
        )  # fmt: skip
        return response

    async def stylesheet(request: Request) -> Response:
        return Response(
            _static("dashboard.css"),
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    async def on_error(request: Request, exc: Exception) -> Response:
        return problem_response(problem_for(exc), request.url.path)

    async def on_http(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        detail = "no such endpoint" if status == 404 else "request refused"
        return problem_response(HttpProblem(status, "http", detail), request.url.path)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            if ticker:
                tasks.start_soon(_ticker, desk, tick_seconds, offload)
                _log.info("ticker on: desk.tick() every %.0f s in this process", tick_seconds)
            yield
            tasks.cancel_scope.cancel()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/dashboard", dashboard_page, methods=["GET"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/static/dashboard.css", stylesheet, methods=["GET"]),
        *intake_routes(desk, settings, offload),
        *api_routes(desk, guard, offload, settings.max_body_bytes),
    ]
    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "PATCH"],
                allow_headers=["Authorization", "Content-Type", "X-API-Key"],
            )
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            HTTPException: on_http,
            HttpProblem: on_error,
            CsmkitError: on_error,
            Exception: on_error,
        },
        lifespan=lifespan,
    )
    app.state.desk = desk
    return app
