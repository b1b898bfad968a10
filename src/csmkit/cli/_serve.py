"""``csmkit serve FILE``: serve a desk configuration over HTTP (extra ``web``)."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from typing import Any

from csmkit.errors import AutomationError

__all__ = ["add_serve_parser", "run_serve"]


def run_serve(args: argparse.Namespace) -> int:
    """Serve the desk until interrupted."""
    config = Path(args.file)
    if not config.is_file():
        raise AutomationError(f"{config}: no such file")
    for module in ("starlette", "uvicorn"):
        if importlib.util.find_spec(module) is None:
            raise AutomationError(f"csmkit serve needs {module}: pip install 'csmkit[web]'")
    from csmkit.web import serve

    store = args.store or f"sqlite:///{config.stem}.db"
    credentials = Path(args.credentials or f"{config.stem}.credentials.json")
    return serve(
        config, host=args.host, port=args.port, store_url=store,
        credentials=credentials, ticker=not args.no_ticker,
    )  # fmt: skip


def add_serve_parser(commands: Any) -> None:
    """Add ``serve`` to the ``csmkit`` subcommands."""
    parser = commands.add_parser(
        "serve", help="serve a desk configuration over HTTP (intake, API, dashboard)"
    )
    parser.add_argument("file", metavar="FILE", help="the desk configuration (.toml or .json)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument(
        "--store", help="store URL (default: sqlite:///FILESTEM.db in the current directory)"
    )
    parser.add_argument(
        "--credentials",
        help="credentials file; created (mode 600) when missing "
        "(default: FILESTEM.credentials.json in the current directory)",
    )
    parser.add_argument(
        "--no-ticker",
        action="store_true",
        help="do not run desk.tick() here (another process is the desk's one ticker)",
    )
    parser.set_defaults(handler=run_serve)
