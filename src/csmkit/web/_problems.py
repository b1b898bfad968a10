"""Errors as RFC 9457 problem details: a type, a status and a message meant for the
client; never a traceback, a path on the server or an exception's internals."""

from __future__ import annotations

import logging
from typing import Any

from starlette.responses import JSONResponse

from csmkit.errors import (
    ConcurrencyError,
    CsmkitError,
    MessageFormatError,
    NotFoundError,
    StorageError,
    TransitionNotAllowed,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookTooLargeError,
    WebhookVerificationError,
)

__all__ = ["HttpProblem", "problem_for", "problem_response"]

_log = logging.getLogger("csmkit.web")
_TYPE = "https://csmkit.dev/problems/"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class HttpProblem(Exception):
    """A request the app refuses, with what the client may be told.

    Args:
        status: The HTTP status.
        slug: The problem type's last path segment (``"unauthorized"``).
        detail: A message for the client (no internals).
        headers: Extra response headers (``WWW-Authenticate``, ``Retry-After``).
        extra: Extension members (``problems``).
    """

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}


def problem_response(problem: HttpProblem, instance: str) -> JSONResponse:
    """The ``application/problem+json`` response of ``problem``."""
    body: dict[str, Any] = {
        "type": _TYPE + problem.slug,
        "title": _TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
        "instance": instance,
        **problem.extra,
    }
    return JSONResponse(
        body,
        status_code=problem.status,
        headers=problem.headers,
        media_type="application/problem+json",
    )


def _signature_problem(exc: WebhookVerificationError) -> HttpProblem:
    # An attacker learns nothing from the reason beyond its kind.
    if isinstance(exc, WebhookTooLargeError):
        return HttpProblem(413, "too-large", "the request body is over the size limit")
    if isinstance(exc, WebhookTimestampError):
        return HttpProblem(401, "stale-signature", "the signed timestamp is outside the tolerance")
    if isinstance(exc, WebhookSignatureError):
        return HttpProblem(401, "bad-signature", "the request signature does not verify")
    return HttpProblem(400, "bad-webhook", "the webhook request is malformed")


def problem_for(exc: BaseException) -> HttpProblem:
    """The problem to answer for ``exc``.

    csmkit's domain errors (a refused transition, a form problem, an unknown ticket)
    are written for the people using the desk and are shown; a storage failure, a bug
    or any other exception becomes a bare 500 whose text is only logged.
    """
    if isinstance(exc, HttpProblem):
        return exc
    if isinstance(exc, WebhookVerificationError):
        return _signature_problem(exc)
    if isinstance(exc, NotFoundError):
        return HttpProblem(404, "not-found", str(exc))
    if isinstance(exc, ConcurrencyError):
        return HttpProblem(409, "conflict", "the ticket changed meanwhile; try again")
    if isinstance(exc, StorageError):
        _log.error("storage failure: %s", exc)
        return HttpProblem(503, "unavailable", "the ticket store is unavailable")
    if isinstance(exc, TransitionNotAllowed):
        return HttpProblem(403, "transition-not-allowed", str(exc))
    if isinstance(exc, MessageFormatError):
        return HttpProblem(422, "unreadable-message", "the message could not be read")
    if isinstance(exc, CsmkitError):
        problems = getattr(exc, "problems", None)
        extra = {"problems": [str(p) for p in problems]} if problems else None
        return HttpProblem(422, "rejected", str(exc), extra=extra)
    _log.exception("unexpected error while serving a request", exc_info=exc)
    return HttpProblem(500, "internal", "an internal error occurred; it has been logged")
