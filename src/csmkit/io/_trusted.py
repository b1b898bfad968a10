"""Fast decoding of csmkit's own timeline records (it lives in ``csmkit.timeline._trusted``,
shared with the stores)."""

from __future__ import annotations

from csmkit.timeline._trusted import SHAPES as _SHAPES
from csmkit.timeline._trusted import SORTED_SHAPES as _SORTED_SHAPES
from csmkit.timeline._trusted import decode_timeline

__all__ = ["_SHAPES", "_SORTED_SHAPES", "decode_timeline"]
