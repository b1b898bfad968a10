"""The value objects a workflow definition is made of: states, transitions, rules, actors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, Literal

import attrs

from csmkit._duration import format_duration, parse_duration
from csmkit._jsonvalue import EMPTY, JsonValue, freeze_mapping, thaw
from csmkit.conditions import Condition
from csmkit.errors import ConditionSyntaxError, DurationError, WorkflowError
from csmkit.timeline import StatusCategory

__all__ = [
    "ANY_SOURCE",
    "Actor",
    "SeparationOfDuty",
    "State",
    "TimedTransition",
    "Transition",
    "format_duration",
    "label_of",
    "parse_duration",
    "to_labels",
]

ANY_SOURCE = "*"
"""The ``sources`` value meaning "from every non-terminal state except the target"."""

Labels = Mapping[str, Mapping[str, str]]

_EMPTY_LABELS: Labels = EMPTY


def _fail(owner: str, message: str) -> WorkflowError:
    return WorkflowError(f"{owner}: {message}", problems=(f"{owner}: {message}",))


def _name(value: object, owner: str, what: str = "name") -> str:
    if not isinstance(value, str) or not value or value != value.strip():
        raise _fail(
            owner, f"{what} must be a non-empty string without surrounding spaces, got {value!r}"
        )
    return value


def to_labels(value: object, owner: str = "labels") -> Labels:
    """Normalise ``{audience: {language: text}}`` into a read-only nested mapping.

    Raises:
        WorkflowError: ``value`` is not of that shape.
    """
    if value is None:
        return _EMPTY_LABELS
    if not isinstance(value, Mapping):
        raise _fail(owner, f"labels must be {{audience: {{language: text}}}}, got {value!r}")
    out: dict[str, Mapping[str, str]] = {}
    for audience, texts in value.items():
        if not isinstance(audience, str) or not audience:
            raise _fail(owner, f"audience {audience!r} must be a non-empty string")
        if not isinstance(texts, Mapping):
            raise _fail(f"{owner}.{audience}", f"expected {{language: text}}, got {texts!r}")
        for lang, text in texts.items():
            if not isinstance(lang, str) or not lang:
                raise _fail(f"{owner}.{audience}", f"language {lang!r} must be a non-empty string")
            if not isinstance(text, str) or not text:
                raise _fail(
                    f"{owner}.{audience}.{lang}", f"label must be non-empty text, got {text!r}"
                )
        out[audience] = freeze_mapping(dict(texts), f"{owner}.{audience}")
    return freeze_mapping(out, owner) if out else _EMPTY_LABELS


def label_of(labels: Labels, fallback: str, lang: str, audience: str) -> str:
    """Pick a label: the audience (else ``agent``), the language (else ``en``), else fallback."""
    for aud in (audience, "agent"):
        texts = labels.get(aud)
        if texts:
            for key in (lang, "en"):
                if key in texts:
                    return texts[key]
    return fallback


def _labels_to_dict(labels: Labels) -> dict[str, dict[str, str]]:
    return {aud: dict(texts) for aud, texts in labels.items()}


def _str_tuple(value: object, owner: str, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise _fail(owner, f"{what} must be a list of names, got {value!r}")
    items = tuple(value)
    for item in items:
        _name(item, owner, f"each of {what}")
    return items


def _meta(value: object, owner: str) -> Mapping[str, JsonValue]:
    try:
        return freeze_mapping(value if value is not None else {}, f"{owner}.metadata")
    except ValueError as exc:
        raise _fail(owner, str(exc)) from None


# --------------------------------------------------------------------------- actor
def _roles(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        value = (value,)
    roles = frozenset(value)
    for role in roles:
        if not isinstance(role, str) or not role:
            raise WorkflowError(f"Actor.roles: each role must be a non-empty string, got {role!r}")
    return roles


@attrs.frozen
class Actor:
    """Who fires a transition: an id (as written to events) and the roles they hold.

    Attributes:
        id: The actor id recorded on the events (``"li.wei"``, ``"customer:42"``,
            ``"system"``).
        roles: The roles held now (``{"agent", "engineer"}``); a transition that lists
            roles needs at least one of them.

    Examples:
        >>> Actor("li.wei", {"agent", "engineer"}).has_any(frozenset({"engineer"}))
        True
    """

    id: str = attrs.field()
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=_roles)

    @id.validator
    def _check_id(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or not value:
            raise WorkflowError(f"Actor.id must be a non-empty string, got {value!r}")

    @classmethod
    def system(cls) -> Actor:
        """The actor timed transitions and automation use: id and role ``system``."""
        return _SYSTEM

    def has_any(self, roles: frozenset[str]) -> bool:
        """Whether the actor holds at least one of ``roles`` (always true when empty)."""
        return not roles or not roles.isdisjoint(self.roles)

    def to_dict(self) -> dict[str, Any]:
        """``{"id": ..., "roles": [sorted roles]}`` (the form conditions see as ``actor``)."""
        return {"id": self.id, "roles": sorted(self.roles)}


_SYSTEM = Actor("system", frozenset({"system"}))


# --------------------------------------------------------------------------- states
def _category(value: object) -> StatusCategory:
    if isinstance(value, StatusCategory):
        return value
    try:
        return StatusCategory(value)
    except ValueError:
        allowed = ", ".join(c.value for c in StatusCategory)
        raise WorkflowError(
            f"unknown status category {value!r}; expected one of {allowed}"
        ) from None


@attrs.frozen(kw_only=True)
class State:
    """A workflow state: its name, status category, labels and description.

    Attributes:
        name: The state name stored on tickets (``"on_site"``).
        category: The [`StatusCategory`][csmkit.timeline.StatusCategory] the rest of csmkit reads.
            States of category ``closed`` are terminal: no transition leaves them.
        labels: ``{audience: {language: text}}``, e.g.
            ``{"agent": {"en": "On site", "zh": "上门中"}, "customer": {...}}``.
        description: Free text for people editing the workflow.
        initial: Whether new tickets start here (exactly one state must say so).
    """

    name: str = attrs.field()
    category: StatusCategory = attrs.field(converter=_category)
    labels: Labels = attrs.field(default=_EMPTY_LABELS, converter=to_labels)
    description: str = attrs.field(default="")
    initial: bool = attrs.field(default=False)

    @name.validator
    def _check_name(self, attribute: attrs.Attribute[Any], value: object) -> None:
        _name(value, "State", "name")

    @property
    def terminal(self) -> bool:
        """Whether this is a final state (category ``closed``)."""
        return self.category is StatusCategory.CLOSED

    def label(self, lang: str = "en", audience: str = "agent") -> str:
        """The label for ``audience`` in ``lang``, falling back to ``agent``, ``en``, the name."""
        return label_of(self.labels, self.name, lang, audience)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict form; optional keys are left out when at their default."""
        out: dict[str, Any] = {"name": self.name, "category": self.category.value}
        if self.initial:
            out["initial"] = True
        if self.labels:
            out["labels"] = _labels_to_dict(self.labels)
        if self.description:
            out["description"] = self.description
        return out


# --------------------------------------------------------------------------- transitions
def _not_actor_of(value: object) -> tuple[str, ...]:
    return _str_tuple(value, "SeparationOfDuty", "not_actor_of")


@attrs.frozen(kw_only=True)
class SeparationOfDuty:
    """ "The actor who did X may not do this": a separation-of-duty rule on a transition.

    It needs the ticket's history, so a transition carrying one can be checked only
    against a [`Timeline`][csmkit.timeline.Timeline] (checked against a bare ticket it is
    not allowed, with reason ``history_needed``).

    Attributes:
        not_actor_of: Transition names; the actor of (the latest, or any) firing of one
            of them may not fire the transition carrying this rule.
        scope: ``"last"`` compares with the actor of the latest firing of each named
            transition; ``"any"`` with every actor who ever fired one of them.
    """

    not_actor_of: tuple[str, ...] = attrs.field(converter=_not_actor_of)
    scope: Literal["last", "any"] = attrs.field(default="last")

    @scope.validator
    def _check_scope(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in ("last", "any"):
            raise _fail("SeparationOfDuty", f"scope must be 'last' or 'any', got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """``{"not_actor_of": [...], "scope": ...}`` (scope left out when ``"last"``)."""
        out: dict[str, Any] = {"not_actor_of": list(self.not_actor_of)}
        if self.scope != "last":
            out["scope"] = self.scope
        return out


def _sources(value: object) -> tuple[str, ...]:
    return _str_tuple(value, "Transition", "sources")


def _required(value: object) -> tuple[str, ...]:
    return _str_tuple(value, "Transition", "required")


def _transition_meta(value: object) -> Mapping[str, JsonValue]:
    return _meta(value, "Transition")


def _condition(value: object) -> Condition | None:
    if value is None or isinstance(value, Condition):
        return value
    try:
        return Condition.coerce(value)  # type: ignore[arg-type]
    except ConditionSyntaxError as exc:
        where = f" at position {exc.position}" if exc.position is not None else ""
        where += f" at {exc.path}" if exc.path else ""
        raise _fail("condition", f"{value!r}: {exc.message}{where}") from None


def _separation(value: object) -> tuple[SeparationOfDuty, ...]:
    items = value if isinstance(value, (list, tuple)) else (value,)
    out = []
    for item in items:
        if isinstance(item, SeparationOfDuty):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(SeparationOfDuty(**dict(item)))
        else:
            raise _fail("Transition.separation", f"expected a rule, got {item!r}")
    return tuple(out)


@attrs.frozen(kw_only=True)
class Transition:
    """A named move to ``target`` from one, several or any (``"*"``) source states.

    Attributes:
        name: Unique within the workflow (``"dispatch"``).
        sources: Source state names, or ``("*",)`` for every non-terminal state except
            the target.
        target: The state entered.
        labels: ``{audience: {language: text}}`` for buttons.
        roles: Roles allowed to fire it; empty means any actor.
        condition: A [`Condition`][csmkit.conditions.Condition] over ``ticket``, ``fields``,
            ``data`` and ``actor`` that must hold.
        required: Field names that must be present (not ``None`` nor empty) in the
            ticket's fields or in the transition's data.
        separation: Separation-of-duty rules.
        metadata: Free JSON-safe data for applications (colours, icons, post actions).
    """

    name: str = attrs.field()
    sources: tuple[str, ...] = attrs.field(converter=_sources)
    target: str = attrs.field()
    labels: Labels = attrs.field(default=_EMPTY_LABELS, converter=to_labels)
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=_roles)
    condition: Condition | None = attrs.field(default=None, converter=_condition)
    required: tuple[str, ...] = attrs.field(default=(), converter=_required)
    separation: tuple[SeparationOfDuty, ...] = attrs.field(default=(), converter=_separation)
    metadata: Mapping[str, JsonValue] = attrs.field(default=EMPTY, converter=_transition_meta)

    @name.validator
    def _check_name(self, attribute: attrs.Attribute[Any], value: object) -> None:
        _name(value, "Transition", "name")

    @target.validator
    def _check_target(self, attribute: attrs.Attribute[Any], value: object) -> None:
        _name(value, f"Transition {self.name!r}", "target")

    @property
    def from_any(self) -> bool:
        """Whether the sources are ``"*"``."""
        return self.sources == (ANY_SOURCE,)

    def label(self, lang: str = "en", audience: str = "agent") -> str:
        """The label for ``audience`` in ``lang``, falling back to ``agent``, ``en``, the name."""
        return label_of(self.labels, self.name, lang, audience)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict form; optional keys are left out when empty."""
        out: dict[str, Any] = {
            "name": self.name,
            "sources": ANY_SOURCE if self.from_any else list(self.sources),
            "target": self.target,
        }
        if self.labels:
            out["labels"] = _labels_to_dict(self.labels)
        if self.roles:
            out["roles"] = sorted(self.roles)
        if self.condition is not None:
            out["condition"] = str(self.condition)
        if self.required:
            out["required"] = list(self.required)
        if self.separation:
            out["separation"] = [rule.to_dict() for rule in self.separation]
        if self.metadata:
            out["metadata"] = thaw(self.metadata)
        return out


def _delta(value: object) -> timedelta:
    try:
        return parse_duration(value, "TimedTransition.after")
    except DurationError as exc:
        raise WorkflowError(str(exc), problems=(str(exc),)) from None


def _timed_data(value: object) -> Mapping[str, JsonValue]:
    if value is None:
        return EMPTY
    if not isinstance(value, Mapping):
        raise _fail("TimedTransition.data", f"must be a mapping of field values, got {value!r}")
    for key in value:
        if not isinstance(key, str) or not key:
            raise _fail("TimedTransition.data", f"key {key!r} is not a field name")
    try:
        return freeze_mapping(value, "data")
    except ValueError as exc:
        raise _fail("TimedTransition", str(exc)) from None


@attrs.frozen(kw_only=True)
class TimedTransition:
    """Fire ``transition`` once a ticket has stayed in ``state`` for ``after``.

    Evaluated by [`Workflow.due_transitions()`][csmkit.workflow.Workflow.due_transitions]; nothing
    runs by itself.

    Attributes:
        state: The state the ticket must be in.
        transition: The transition to fire (it must leave ``state``); it is fired by
            [`Actor.system()`][csmkit.workflow.Actor.system], so its roles must be empty or include
            ``system``.
        after: How long (a positive ``timedelta``; ``"P7D"`` or ``"7d"`` in dict form,
            hours only with the business clock, e.g. ``"PT48H"``).
        clock: ``"calendar"`` (wall-clock time) or ``"business"`` (counted with a
            business calendar passed to ``due_transitions``).
        since: ``"entered"`` (when the ticket entered ``state``) or ``"updated"`` (its
            latest event: an inactivity timer).
        data: Field values the transition is fired with (JSON-safe), e.g.
            ``{"cancel_reason": "no response from customer"}`` for a transition that
            requires ``cancel_reason``;
            [`Workflow.due_transitions()`][csmkit.workflow.Workflow.due_transitions] hands them on
            in `Due.data`.
    """

    state: str = attrs.field()
    transition: str = attrs.field()
    after: timedelta = attrs.field(converter=_delta)
    clock: Literal["calendar", "business"] = attrs.field(default="calendar")
    since: Literal["entered", "updated"] = attrs.field(default="entered")
    data: Mapping[str, JsonValue] = attrs.field(default=EMPTY, converter=_timed_data)

    @state.validator
    def _check_state(self, attribute: attrs.Attribute[Any], value: object) -> None:
        _name(value, "TimedTransition", "state")

    @transition.validator
    def _check_transition(self, attribute: attrs.Attribute[Any], value: object) -> None:
        _name(value, "TimedTransition", "transition")

    @clock.validator
    def _check_clock(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in ("calendar", "business"):
            raise _fail("TimedTransition", f"clock must be 'calendar' or 'business', got {value!r}")

    @since.validator
    def _check_since(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in ("entered", "updated"):
            raise _fail("TimedTransition", f"since must be 'entered' or 'updated', got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict form (``after`` as ISO 8601, e.g. ``"P7D"``; ``"PT48H"``
        with the business clock)."""
        out: dict[str, Any] = {
            "state": self.state,
            "transition": self.transition,
            "after": format_duration(self.after, days=self.clock != "business", iso=True),
        }
        if self.clock != "calendar":
            out["clock"] = self.clock
        if self.since != "entered":
            out["since"] = self.since
        if self.data:
            out["data"] = thaw(self.data)
        return out
