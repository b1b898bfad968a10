"""The key orders of the event records ``csmkit.io``'s fast paths read, and the fast
timeline decoder (public in [`csmkit.timeline.trusted`][csmkit.timeline.trusted])."""

from __future__ import annotations

import attrs

from csmkit.timeline import EVENT_TYPES
from csmkit.timeline.trusted import decode_timeline

__all__ = ["FAST_KINDS", "SHAPES", "SORTED_SHAPES", "decode_timeline"]

FAST_KINDS: tuple[str, ...] = ("created", "message_added", "status_changed", "assigned")
"""The event kinds the report's fast fold (``csmkit.io._fast``) measures itself; it sends
a record with any other kind (except survey answers, which it decodes) down the full
path. Kept here, not taken from the timeline's decoders, so that a kind added there can
never reach a fold that does not know it."""

# The one key order Event.to_dict() writes each kind in: "kind", then the fields in
# declaration order.
SHAPES: dict[str, tuple[str, ...]] = {
    kind: ("kind", *(field.name for field in attrs.fields(EVENT_TYPES[kind])))
    for kind in FAST_KINDS
}
SORTED_SHAPES: dict[str, tuple[str, ...]] = {
    kind: tuple(sorted(shape)) for kind, shape in SHAPES.items()
}
