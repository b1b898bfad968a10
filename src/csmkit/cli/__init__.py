"""The ``csmkit`` command."""

from __future__ import annotations

from csmkit.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
