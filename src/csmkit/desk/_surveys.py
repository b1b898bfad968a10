"""The desk's survey declarations: which survey a ticket's answer belongs to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from csmkit.desk._types import TicketType
from csmkit.errors import AutomationError, MetricsError
from csmkit.metrics import Survey
from csmkit.timeline import SurveyKind

__all__ = ["DeskSurveys"]


def _by_kind(surveys: Iterable[Survey], where: str) -> dict[SurveyKind, Survey]:
    out: dict[SurveyKind, Survey] = {}
    for survey in surveys:
        if not isinstance(survey, Survey):
            raise AutomationError(f"{where}: expected Survey values, got {survey!r}")
        if survey.kind in out:
            raise AutomationError(
                f"{where}: two {survey.kind.value.upper()} surveys "
                f"({out[survey.kind].name!r}, {survey.name!r}); declare one per kind"
            )
        out[survey.kind] = survey
    return out


class DeskSurveys:
    """Desk-wide surveys and each ticket type's own (a type's survey of a kind wins).

    A scope (the desk, or one ticket type) declares at most one survey per kind, so the
    kind alone (``"csat"``, as the ``send_survey`` action names it) is never ambiguous.
    """

    __slots__ = ("_desk", "_types")

    def __init__(self, types: Iterable[TicketType], surveys: Iterable[Survey] = ()) -> None:
        if isinstance(surveys, (str, bytes, Mapping)) or not isinstance(surveys, Iterable):
            raise AutomationError(f"surveys: expected Survey objects, got {surveys!r}")
        self._desk = _by_kind(surveys, "surveys")
        self._types = {
            kind.name: _by_kind(kind.surveys, f"ticket type {kind.name!r}: surveys")
            for kind in types
        }

    def declared(self) -> tuple[Survey, ...]:
        """Every survey the desk and its ticket types declare."""
        found = {s.name: s for s in self._desk.values()}
        for own in self._types.values():
            found.update((s.name, s) for s in own.values())
        return tuple(found.values())

    def for_type(self, ticket_type: str) -> dict[SurveyKind, Survey]:
        """The surveys that apply to tickets of ``ticket_type``, by kind."""
        return {**self._desk, **self._types.get(ticket_type, {})}

    def resolve(self, ticket_type: str, survey: str) -> tuple[SurveyKind, Survey | None]:
        """The kind and declared survey of an answer to ``survey`` (a kind or a name).

        ``None`` as the survey: the desk declares no survey of that kind (the answer is
        recorded as before, its scale unchecked).

        Raises:
            AutomationError: ``survey`` is neither a kind nor a survey that applies.
        """
        applying = self.for_type(ticket_type)
        for declared in applying.values():
            if declared.name == survey:
                return declared.kind, declared
        try:
            kind = SurveyKind(survey)
        except ValueError:
            names = ", ".join(repr(s.name) for s in applying.values()) or "none"
            raise AutomationError(
                f"unknown survey {survey!r} for ticket type {ticket_type!r}: name csat, nps, "
                f"ces or a declared survey (declared: {names})"
            ) from None
        return kind, applying.get(kind)

    def check_answer(self, ticket_id: str, survey: Survey | None, score: object) -> None:
        """Refuse an answer off the declared survey's scale.

        Raises:
            AutomationError: ``score`` is not an integer on the survey's scale.
        """
        if survey is None:
            return
        try:
            survey.check(score)
        except MetricsError as exc:
            raise AutomationError(f"ticket {ticket_id!r}: {exc}") from None

    def report_surveys(self) -> dict[str, Any]:
        """The ``surveys=`` mapping of [`csmkit.metrics.report()`][csmkit.metrics.report] for this
        desk."""
        out: dict[str, Any] = {name: list(own.values()) for name, own in self._types.items()}
        out["*"] = list(self._desk.values())
        return out
