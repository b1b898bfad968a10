"""Who may do what: API keys (bearer or ``X-API-Key``; a cookie for the dashboard's
pages only), per-key rate limits, body size limits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from starlette.requests import Request

from csmkit.web._problems import HttpProblem
from csmkit.web._settings import ApiKey

__all__ = ["COOKIE", "Guard", "RateLimiter", "read_body"]

COOKIE = "csmkit_key"


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests a minute, bursts up to that many.

    Args:
        per_minute: Sustained requests per minute (and the burst size).
        clock: Monotonic seconds (injected in tests).
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token of ``key``; return 0, or the seconds to wait when none is left."""
        rate = self.per_minute / 60.0
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / rate
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0


class Guard:
    """Authenticates agents' requests against the configured API keys.

    Args:
        keys: The keys ([`ApiKey`][csmkit.web.ApiKey]).
        limiter: The per-key rate limiter.
    """

    def __init__(self, keys: tuple[ApiKey, ...], limiter: RateLimiter) -> None:
        self.keys = keys
        self.limiter = limiter

    def _presented(self, request: Request, *, cookie: bool) -> str | None:
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            return header[7:].strip() or None
        api_key = request.headers.get("x-api-key")
        if api_key:
            return api_key.strip()
        if cookie and request.method in ("GET", "HEAD"):
            # The cookie only reads pages (SameSite=Strict, never a write): no CSRF.
            return request.cookies.get(COOKIE) or None
        return None

    def lookup(self, presented: str) -> ApiKey | None:
        """The key ``presented`` is, or ``None`` (every key is compared)."""
        found = None
        for key in self.keys:
            if key.matches(presented) and found is None:
                found = key
        return found

    def check(self, request: Request, *, write: bool, cookie: bool = False) -> ApiKey:
        """The caller's key, after the rate limit.

        Raises:
            HttpProblem: 401 without a valid key (also when none is configured), 403 for
                a read-only key that writes, 429 over the rate limit.
        """
        presented = self._presented(request, cookie=cookie)
        key = None if presented is None or len(presented) > 256 else self.lookup(presented)
        if key is None:
            raise HttpProblem(
                401,
                "unauthorized",
                "a valid API key is required (Authorization: Bearer <key>)",
                headers={"WWW-Authenticate": 'Bearer realm="csmkit"'},
            )
        wait = self.limiter.take(key.name)
        if wait > 0:
            raise HttpProblem(
                429,
                "rate-limited",
                f"rate limit of {self.limiter.per_minute} requests a minute reached",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        if write and not key.write:
            raise HttpProblem(403, "read-only-key", f"key {key.name!r} is read-only")
        return key


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is over ``limit`` bytes (before
    reading it when ``Content-Length`` says so).

    Raises:
        HttpProblem: 413 over the limit, 400 for a malformed ``Content-Length``.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HttpProblem(400, "bad-request", "Content-Length is not a number")
        if int(declared) > limit:
            raise HttpProblem(413, "too-large", f"the body is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpProblem(413, "too-large", f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
