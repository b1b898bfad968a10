"""``csmkit serve FILE``: a desk configuration on the embedded SQLite store, served by
uvicorn, with a credentials file made on first start."""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from csmkit.channels import MAPPING_EXAMPLES
from csmkit.desk import DeskConfig, ServiceDesk
from csmkit.plugins import PluginManager
from csmkit.storage import open_store
from csmkit.web._settings import ApiKey, WebConfigError, WebSettings

__all__ = ["LoggedChannel", "load_credentials", "make_credentials", "serve"]

_log = logging.getLogger("csmkit.web")


class LoggedChannel:
    """Stands in for an outbound channel the configuration leaves to the application
    (``[channels.sms]`` without a plugin): notifications are logged, not sent."""

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, notification: Any) -> None:
        """Log the notification."""
        _log.info("channel %s (not connected): %r", self.name, notification)


def _roles(desk: ServiceDesk) -> list[str]:
    return sorted(
        {r for kind in desk.types.values() for t in kind.workflow.transitions for r in t.roles}
    )


def _whsec() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def make_credentials(desk: ServiceDesk) -> dict[str, Any]:
    """New credentials: one API key holding every workflow role, and secrets for the
    WeChat, Standard Webhooks, GitHub and inbound-mail endpoints."""
    key, text = ApiKey.generate("admin", actor="admin", roles=_roles(desk))
    github = dict(MAPPING_EXAMPLES["github-issues"])
    settings = WebSettings(
        api_keys=(key,),
        wechat={"token": secrets.token_hex(16)},
        webhook_secrets=(_whsec(),),
        hooks={
            "github": {
                "signature": {"scheme": "github"},
                "mapping": github,
                "secrets": [secrets.token_hex(20)],
            }
        },
        email={"signature": {"scheme": "standard-webhooks"},
               "secrets": [_whsec()]},
    )  # fmt: skip
    return {"api_key": text, "settings": settings.to_dict()}


def load_credentials(path: Path) -> tuple[str | None, WebSettings]:
    """The API key text (when the file keeps it) and the settings of a credentials file.

    Raises:
        WebConfigError: unreadable, readable by others, or invalid.
    """
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise WebConfigError(f"{path}: readable by other users; chmod 600 {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WebConfigError(f"{path}: {exc}") from None
    if not isinstance(data, Mapping) or "settings" not in data:
        raise WebConfigError(f"{path}: expected an object with 'settings'")
    try:
        settings = WebSettings.from_dict(data["settings"])
    except WebConfigError as exc:
        raise WebConfigError(f"{path}: {exc}") from None
    key = data.get("api_key")
    return (key if isinstance(key, str) else None), settings


def _write_private(path: Path, data: Mapping[str, Any]) -> None:
    # Created 0600 from the start: the secrets are never readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")


def build_desk(config: Path, store_url: str) -> ServiceDesk:
    """The desk of ``config`` on ``store_url`` with the wall clock; channels the
    configuration leaves to the application are logged."""
    plugins = PluginManager(load_entrypoints=True)
    parsed = DeskConfig.from_file(config, plugins=plugins)
    given = {name: LoggedChannel(name) for name, spec in parsed.channels.items() if not spec.plugin}
    return ServiceDesk.from_config(
        parsed,
        store=open_store(store_url),
        clock=lambda: datetime.now(timezone.utc),
        plugins=plugins,
        channels=given,
    )


def serve(
    config: Path,
    *,
    host: str,
    port: int,
    store_url: str,
    credentials: Path,
    ticker: bool,
    out: TextIO = sys.stdout,
) -> int:
    """Serve a desk configuration with uvicorn until interrupted (blocking), as
    ``csmkit serve`` does.

    On first start it writes an API-key credentials file (created exclusively, mode
    0600) and prints the URLs; an existing credentials file that others can read is
    refused.

    Args:
        config: The desk's TOML or JSON file.
        host: The address to listen on.
        port: The port to listen on.
        store_url: The ticket store, e.g. ``sqlite:///desk.db``.
        credentials: The credentials file (made when missing).
        ticker: Run the desk's ticker in this process (exactly one process should).
        out: Where the start-up lines go.

    Returns:
        The process exit status (0 after an interrupt).

    Raises:
        WebConfigError: the credentials file is unsafe or invalid.
        AutomationError: the configuration is invalid (every problem with its path).
    """
    import uvicorn

    from csmkit.web._app import create_app

    desk = build_desk(config, store_url)
    if not credentials.exists():
        _write_private(credentials, make_credentials(desk))
        out.write(f"created credentials file {credentials} (mode 600)\n")
    key, settings = load_credentials(credentials)
    app = create_app(desk, settings, ticker=ticker)
    base = f"http://{host}:{port}"
    out.write(
        f"serving {config} on {base}  (store {store_url}, ticker {'on' if ticker else 'off'})\n"
        f"  dashboard   {base}/login  then {base}/dashboard\n"
        f"  API         {base}/api/v1/tickets  (Authorization: Bearer <api_key>)\n"
        f"  OpenAPI     {base}/openapi.json\n"
        f"  credentials {credentials}" + ("" if key else " (keys stored hashed only)") + "\n"
    )
    out.flush()
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
    return 0
