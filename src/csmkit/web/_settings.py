"""What a served desk lets in: API keys mapped to workflow roles, the intake endpoints'
secrets, limits. Nothing is open unless it is configured here."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from csmkit.errors import CsmkitError

__all__ = ["ApiKey", "WebConfigError", "WebSettings"]

_KEY_PREFIX = "csk_"


class WebConfigError(CsmkitError, ValueError):
    """The web settings are wrong (the message names the key and the file)."""


def _roles(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, (Sequence, frozenset, set)):
        raise WebConfigError(f"roles must be a list of role names, got {value!r}")
    roles = frozenset(value)
    if not all(isinstance(r, str) and r for r in roles):
        raise WebConfigError(f"roles must be non-empty strings, got {sorted(map(str, roles))}")
    return roles


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@attrs.frozen
class ApiKey:
    """One API key: who uses it (the actor written on events) and the workflow roles it
    holds, the same roles [`Workflow.check()`][csmkit.workflow.Workflow.check] reads.

    Only the SHA-256 of the key is kept, so a settings file does not hold the keys.

    Attributes:
        name: A label for logs and rate limits (``"kf-desk"``).
        sha256: Hex SHA-256 of the key text.
        actor: The actor id operations record (``"s1"``).
        roles: Workflow roles of that actor (``{"agent", "supervisor"}``).
        write: Whether the key may change tickets (``False``: read-only, e.g. a wallboard).

    Examples:
        >>> key, text = ApiKey.generate("kf", actor="s1", roles=["agent"])
        >>> key.matches(text), key.matches(text + "x")
        (True, False)
    """

    name: str
    sha256: str
    actor: str
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=_roles)
    write: bool = True

    def __attrs_post_init__(self) -> None:
        for attr in ("name", "actor"):
            value = getattr(self, attr)
            if not isinstance(value, str) or not value:
                raise WebConfigError(f"api key {attr} must be a non-empty string, got {value!r}")
        digest = self.sha256
        if not (
            isinstance(digest, str)
            and len(digest) == 64
            and all(c in "0123456789abcdef" for c in digest)
        ):
            raise WebConfigError(f"api key {self.name!r}: sha256 must be 64 lower-case hex digits")

    @classmethod
    def generate(
        cls, name: str, *, actor: str, roles: Sequence[str] = (), write: bool = True
    ) -> tuple[ApiKey, str]:
        """A new random key: the entry to keep and the key text to hand out once."""
        text = _KEY_PREFIX + secrets.token_urlsafe(32)
        return cls(name, _digest(text), actor, frozenset(roles), write), text

    def matches(self, presented: str) -> bool:
        """Whether ``presented`` is this key (constant-time comparison)."""
        return hmac.compare_digest(_digest(presented), self.sha256)

    def to_dict(self) -> dict[str, Any]:
        """Plain data; [`from_dict()`][csmkit.web.ApiKey.from_dict] rebuilds an equal key."""
        return {
            "name": self.name,
            "sha256": self.sha256,
            "actor": self.actor,
            "roles": sorted(self.roles),
            "write": self.write,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ApiKey:
        """Build from [`to_dict()`][csmkit.web.ApiKey.to_dict]'s form.

        Raises:
            WebConfigError: a missing or unknown key, or a wrong value.
        """
        _only(data, {"name", "sha256", "actor", "roles", "write"}, "api key")
        try:
            return cls(
                data["name"], data["sha256"], data["actor"], data.get("roles", ()),
                bool(data.get("write", True)),
            )  # fmt: skip
        except KeyError as exc:
            raise WebConfigError(f"api key: missing {exc.args[0]!r}") from None


def _only(data: object, allowed: set[str], where: str) -> None:
    if not isinstance(data, Mapping):
        raise WebConfigError(f"{where} must be a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise WebConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _positive(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WebConfigError(f"{where} must be an integer >= 1, got {value!r}")
    return value


def _mapping(value: object) -> Mapping[str, Any] | None:
    return None if value is None else dict(value)  # type: ignore[call-overload]


def _keys(value: Iterable[ApiKey]) -> tuple[ApiKey, ...]:
    keys = tuple(value)
    if not all(isinstance(k, ApiKey) for k in keys):
        raise WebConfigError("api_keys must be ApiKey values")
    return keys


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise WebConfigError(f"expected a list of strings, got the string {value!r}")
    items = tuple(value)
    if not all(isinstance(v, str) and v for v in items):
        raise WebConfigError(f"expected non-empty strings, got {list(items)!r}")
    return items


def _hooks(value: object) -> Mapping[str, Mapping[str, Any]]:
    if not isinstance(value, Mapping):
        raise WebConfigError(f"hooks must be a mapping of name to receiver, got {value!r}")
    for name, spec in value.items():
        if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
            raise WebConfigError(f"hooks: {name!r} is not a name of letters, digits, - and _")
        _only(spec, {"signature", "mapping", "secrets", "max_text_chars", "replay_seconds"},
              f"hooks.{name}")  # fmt: skip
        if not spec.get("secrets"):
            raise WebConfigError(f"hooks.{name}: secrets are required (signatures are the auth)")
    return {str(k): dict(v) for k, v in value.items()}


@attrs.frozen
class WebSettings:
    """Everything [`create_app()`][csmkit.web.create_app] lets in. The defaults open nothing:
    no key, no intake endpoint, no CORS.

    Attributes:
        api_keys: The agents' API keys ([`ApiKey`][csmkit.web.ApiKey]); none: the API and the
            dashboard answer 401 to everyone.
        wechat: ``{"token": ..., "app_id": ..., "encoding_aes_key": ...}`` (the last two for
            safe mode) to open ``/intake/wechat``.
        webhook_secrets: Standard Webhooks secrets (``whsec_...``) to open
            ``/intake/webhook`` (the generic message JSON, ``docs/channels.md``).
        hooks: Named receivers ``{"signature": {...}, "mapping": {...}, "secrets": [...]}``
            (any [`WebhookSignature`][csmkit.channels.WebhookSignature] preset and
            [`PayloadMapping`][csmkit.channels.PayloadMapping]) at ``/intake/hooks/{name}``.
        email: ``{"signature": {...}, "secrets": [...]}`` to open ``/intake/email`` (raw
            RFC 5322 posted by an inbound-mail service, signed by it).
        max_body_bytes: Largest request body (413 beyond).
        rate_per_minute: Requests per API key per minute (429 beyond).
        cors_origins: Origins allowed to call the API from a browser (none: CORS off).
        threads: Worker threads for the desk's blocking work (``None``: sized to the store).
    """

    api_keys: tuple[ApiKey, ...] = attrs.field(default=(), converter=_keys)
    wechat: Mapping[str, Any] | None = attrs.field(default=None, converter=_mapping)
    webhook_secrets: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    hooks: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict, converter=_hooks)
    email: Mapping[str, Any] | None = attrs.field(default=None, converter=_mapping)
    max_body_bytes: int = 1024 * 1024
    rate_per_minute: int = 600
    cors_origins: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    threads: int | None = None

    def __attrs_post_init__(self) -> None:
        _positive(self.max_body_bytes, "max_body_bytes")
        _positive(self.rate_per_minute, "rate_per_minute")
        if self.threads is not None:
            _positive(self.threads, "threads")
        names = [k.name for k in self.api_keys]
        if len(set(names)) != len(names):
            raise WebConfigError(f"api_keys: names must be unique, got {names}")
        if self.wechat is not None:
            _only(self.wechat, {"token", "app_id", "encoding_aes_key"}, "wechat")
            if not self.wechat.get("token"):
                raise WebConfigError("wechat.token is required")
        if self.email is not None:
            _only(self.email, {"signature", "secrets"}, "email")
            if not self.email.get("secrets") or not self.email.get("signature"):
                raise WebConfigError("email: signature and secrets are required")
        for origin in self.cors_origins:
            if origin == "*" or not str(origin).startswith(("http://", "https://")):
                raise WebConfigError(f"cors_origins: {origin!r} must be an http(s) origin, not *")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data; [`from_dict()`][csmkit.web.WebSettings.from_dict] rebuilds equal
        settings."""
        return {
            "api_keys": [k.to_dict() for k in self.api_keys],
            "wechat": None if self.wechat is None else dict(self.wechat),
            "webhook_secrets": list(self.webhook_secrets),
            "hooks": {k: dict(v) for k, v in self.hooks.items()},
            "email": None if self.email is None else dict(self.email),
            "max_body_bytes": self.max_body_bytes,
            "rate_per_minute": self.rate_per_minute,
            "cors_origins": list(self.cors_origins),
            "threads": self.threads,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WebSettings:
        """Build from [`to_dict()`][csmkit.web.WebSettings.to_dict]'s form (missing keys:
        the closed defaults).

        Raises:
            WebConfigError: unknown keys or wrong values, naming the key.
        """
        _only(data, {a.name for a in attrs.fields(cls)}, "web settings")
        keys = data.get("api_keys") or []
        if not isinstance(keys, list):
            raise WebConfigError("api_keys must be a list")
        options = {k: v for k, v in data.items() if v is not None and k != "api_keys"}
        api_keys = tuple(ApiKey.from_dict(k) for k in keys)
        return cls(api_keys, **options)

    @classmethod
    def from_file(cls, path: str | Path) -> WebSettings:
        """Read settings from a JSON file.

        Raises:
            WebConfigError: unreadable, not JSON or invalid, naming the file.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls.from_dict(data)
        except (OSError, ValueError) as exc:
            raise WebConfigError(f"{path}: {exc}") from None
