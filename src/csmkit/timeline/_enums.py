"""The small closed vocabularies every part of csmkit shares."""

from __future__ import annotations

import enum
from typing import Any

from csmkit.errors import TimelineError

__all__ = ["Direction", "Priority", "StatusCategory", "SurveyKind", "parse_enum"]


class _StrEnum(str, enum.Enum):
    """A str-valued enum whose members compare equal to, and print as, their value."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)


class StatusCategory(_StrEnum):
    """The category every workflow state belongs to.

    Workflows name their own states (``dispatched``, ``on_site`` …); SLA pause rules and
    metrics read only the category, so they work with any workflow.
    """

    NEW = "new"
    """Created, nobody has worked on it yet."""
    OPEN = "open"
    """Being worked on by the desk."""
    PENDING = "pending"
    """Waiting on the customer."""
    ON_HOLD = "on_hold"
    """Waiting on a third party (a supplier, a spare part, another team)."""
    SOLVED = "solved"
    """The desk considers it solved; the customer may still reopen it."""
    CLOSED = "closed"
    """Final; a new request needs a new ticket."""

    @property
    def is_active(self) -> bool:
        """Whether the desk still owes work (``new`` or ``open``)."""
        return self in _ACTIVE

    @property
    def is_done(self) -> bool:
        """Whether the ticket is ``solved`` or ``closed``."""
        return self in _DONE


# Sets of members (a member hashes by its name): read by the properties above, which
# a member is asked on every event an SLA clock folds.
_ACTIVE = frozenset({StatusCategory.NEW, StatusCategory.OPEN})
_DONE = frozenset({StatusCategory.SOLVED, StatusCategory.CLOSED})

_PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


class Priority(_StrEnum):
    """Ticket priority, ordered ``low < normal < high < urgent``.

    Members compare by rank with each other *and* with their string values, so
    ``Priority.HIGH > "normal"`` is true (plain string order would be wrong:
    ``"high" < "low"``). Comparing with an unknown string raises
    [`TimelineError`][csmkit.errors.TimelineError].

    Examples:
        >>> Priority.URGENT > Priority.HIGH > "normal"
        True
        >>> sorted(["urgent", "low", "high"], key=Priority.parse)
        ['low', 'high', 'urgent']
    """

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for ``low`` up to 3 for ``urgent``."""
        return _PRIORITY_RANK[self.value]

    @classmethod
    def parse(cls, value: object) -> Priority:
        """Return the member for ``value`` (a member or its string value)."""
        member: Priority = parse_enum(cls, value, "priority")
        return member

    def _other_rank(self, other: object) -> int | None:
        if isinstance(other, Priority):
            return other.rank
        if isinstance(other, str):
            return Priority.parse(other).rank
        return None

    def __lt__(self, other: object) -> bool:
        rank = self._other_rank(other)
        if rank is None:
            return NotImplemented
        return self.rank < rank

    def __le__(self, other: object) -> bool:
        rank = self._other_rank(other)
        if rank is None:
            return NotImplemented
        return self.rank <= rank

    def __gt__(self, other: object) -> bool:
        rank = self._other_rank(other)
        if rank is None:
            return NotImplemented
        return self.rank > rank

    def __ge__(self, other: object) -> bool:
        rank = self._other_rank(other)
        if rank is None:
            return NotImplemented
        return self.rank >= rank

    # Equality and hashing stay those of ``str`` so ``Priority.HIGH == "high"``.
    __eq__ = str.__eq__
    __hash__ = str.__hash__


class Direction(_StrEnum):
    """Who a message in a ticket's conversation is from, and who can see it."""

    INBOUND = "inbound"
    """From the customer."""
    OUTBOUND = "outbound"
    """A public reply from the desk to the customer."""
    INTERNAL = "internal"
    """A note only agents see."""


class SurveyKind(_StrEnum):
    """Kinds of satisfaction survey a customer can answer."""

    CSAT = "csat"
    """Customer satisfaction rating (e.g. 1 to 5)."""
    NPS = "nps"
    """Net Promoter Score question, 0 to 10."""
    CES = "ces"
    """Customer effort score (e.g. 1 to 7)."""


def parse_enum(cls: type[Any], value: object, what: str, path: str = "") -> Any:
    """Return the member of ``cls`` for ``value`` or raise a
    [`TimelineError`][csmkit.errors.TimelineError]."""
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        try:
            return cls(value)
        except ValueError:
            pass
    allowed = ", ".join(repr(m.value) for m in cls)
    raise TimelineError(f"unknown {what} {value!r}; expected one of {allowed}", path=path)
