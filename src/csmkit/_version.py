"""The single place where csmkit's version is defined."""

from __future__ import annotations

__version__ = "0.1.0.dev0"
