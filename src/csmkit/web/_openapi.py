"""The OpenAPI 3.1 document of the served routes (only those configured)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Route

from csmkit._version import __version__

__all__ = ["openapi_document"]

_BEARER: list[dict[str, list[str]]] = [{"apiKey": []}]
_DOCS: dict[tuple[str, str], tuple[str, str, bool]] = {
    # (path, method): (summary, tag, needs an API key)
    ("/healthz", "GET"): ("Liveness: the process answers", "health", False),
    ("/readyz", "GET"): ("Readiness: the ticket store answers", "health", False),
    ("/openapi.json", "GET"): ("This document", "health", False),
    ("/dashboard", "GET"): ("KPI dashboard (HTML, ?lang=zh|en)", "dashboard", True),
    ("/login", "GET"): ("Dashboard sign-in form", "dashboard", False),
    ("/login", "POST"): ("Sign in with an API key (sets a SameSite cookie)", "dashboard", False),
    ("/static/dashboard.css", "GET"): ("Dashboard stylesheet", "dashboard", False),
    ("/intake/wechat", "GET"): ("WeChat server URL check (echostr)", "intake", False),
    ("/intake/wechat", "POST"): ("WeChat callback (plain or safe mode)", "intake", False),
    ("/intake/webhook", "POST"): ("Standard Webhooks, generic message JSON", "intake", False),
    ("/intake/hooks/{name}", "POST"): ("A named webhook receiver (GitHub ...)", "intake", False),
    ("/intake/email", "POST"): ("Inbound mail (raw RFC 5322), signed", "intake", False),
    ("/api/v1/tickets", "GET"): ("List and filter tickets", "tickets", True),
    ("/api/v1/tickets", "POST"): ("Create a ticket", "tickets", True),
    ("/api/v1/tickets/{ticket_id}", "GET"): ("A ticket with its SLA report", "tickets", True),
    ("/api/v1/tickets/{ticket_id}/fields", "PATCH"): ("Update form fields", "tickets", True),
    ("/api/v1/tickets/{ticket_id}/reply", "POST"): ("Reply (from a template)", "tickets", True),
    ("/api/v1/tickets/{ticket_id}/transitions/{name}", "POST"): (
        "Fire a workflow transition (role-checked)", "tickets", True),
    ("/api/v1/tickets/{ticket_id}/assign", "POST"): (
        "Assign to an agent or group, or let the router choose", "tickets", True),
    ("/api/v1/tickets/{ticket_id}/explain", "GET"): (
        "Why the router chose (full explanation)", "tickets", True),
    ("/api/v1/queue", "GET"): ("Unassigned unresolved tickets", "queues", True),
    ("/api/v1/sla/due", "GET"): ("SLA cycles due soon", "queues", True),
}  # fmt: skip
_PROBLEM = {"description": "Problem details (RFC 9457)",
            "content": {"application/problem+json": {"schema": {"type": "object"}}}}  # fmt: skip


def openapi_document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """OpenAPI 3.1 for ``routes`` (what this app was configured to serve)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            summary, tag, secured = _DOCS.get(
                (route.path, method), (route.name or route.path, "other", True)
            )
            params = [
                {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
                for part in route.path.split("/")
                if part.startswith("{")
            ]
            operation: dict[str, Any] = {
                "summary": summary,
                "tags": [tag],
                "responses": {"200": {"description": "OK"}, "default": _PROBLEM},
            }
            if params:
                operation["parameters"] = params
            if secured:
                operation["security"] = _BEARER
            paths.setdefault(route.path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "csmkit desk", "version": __version__},
        "paths": paths,
        "components": {"securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}}},
    }
