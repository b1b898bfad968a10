"""Survey definitions: a survey's kind, scale and convention, declared once.

A [`Survey`][csmkit.metrics.Survey] is what a desk declares and what a report reads: CSAT on 1–5 or
on 0–10 are different figures, so the scale travels with every answer (the desk stamps the
survey's name and scale into the ``SurveyAnswered`` event's ``meta``) and a report refuses
to fold answers of two definitions into one figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from csmkit.errors import MetricsError
from csmkit.metrics._inputs import describe_invalid, integer_score, pair
from csmkit.metrics._nps import NpsAccumulator
from csmkit.timeline import SurveyAnswered, SurveyKind

if TYPE_CHECKING:
    from csmkit.metrics._ratings import RatingAccumulator

__all__ = ["Survey", "SurveyChoice", "default_satisfied"]

_DEFAULT_SCALES = {SurveyKind.CSAT: (1, 5), SurveyKind.NPS: (0, 10), SurveyKind.CES: (1, 7)}
_DEFAULT_CONVENTIONS = {SurveyKind.CSAT: "top_box", SurveyKind.NPS: "nps", SurveyKind.CES: "mean"}
_KEYS = frozenset({"name", "kind", "scale", "convention", "satisfied", "higher_is_better"})


def _default_top(points: int, metric: str) -> int:
    # CSAT follows Formbricks: top 1 of 3, top 2 of 4..7, top 3 of 10 (or 0..10).
    csat_table = {2: 1, 3: 1, 4: 2, 5: 2, 6: 2, 7: 2, 10: 3, 11: 3}
    table = {7: 3, 5: 2} if metric == "ces" else csat_table
    if points not in table:
        raise MetricsError(
            f"no default satisfied set for a {points}-point {metric.upper()} scale; "
            "pass satisfied=[...]"
        )
    return table[points]


def default_satisfied(low: int, high: int, metric: str, higher_is_better: bool) -> tuple[int, ...]:
    """The default satisfied (CES: easy) points of a ``low..high`` scale."""
    top = _default_top(high - low + 1, metric)
    points = range(high - top + 1, high + 1) if higher_is_better else range(low, low + top)
    return tuple(points)


def _kind(value: object) -> SurveyKind:
    if isinstance(value, SurveyKind):
        return value
    try:
        return SurveyKind(value)
    except ValueError:
        raise MetricsError(f"survey kind must be csat, nps or ces, got {value!r}") from None


def _scale(value: object) -> tuple[int, int]:
    scale = pair(value)
    if scale is None:
        raise MetricsError(f"a survey scale is [low, high] (two integers), got {value!r}")
    return scale


def _points(value: object) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise MetricsError(f"satisfied must be a list of scale points, got {value!r}")
    points = list(value)
    for point in points:
        if isinstance(point, bool) or not isinstance(point, int):
            raise MetricsError(f"satisfied: {point!r} is not an integer scale point")
    return tuple(sorted(set(points)))


@attrs.frozen
class Survey:
    """A survey as a desk declares it: kind, scale and how its score is computed.

    Defaults by kind: CSAT on 1–5 as a top-box share, NPS on 0–10 (Reichheld's
    promoters minus detractors; the only scale and convention NPS has), CES on 1–7 as a
    mean (CES 2.0). The top box of a CSAT survey defaults to Formbricks' rule, quoted in
    the research notes (``metrics.md`` §1.2): the top 2 points of a 4- to 7-point scale,
    the top 1 of 3 and the top 3 of a 10-point scale (8–10 of 1–10 or of 0–10); pass
    ``satisfied`` for another threshold (``satisfied=range(9, 11)`` counts only 9 and 10).

    Attributes:
        name: The survey's name, as the desk and the ``send_survey`` action name it.
        kind: ``csat``, ``nps`` or ``ces``.
        scale: ``(low, high)``, both included.
        convention: ``"top_box"`` (percent of ``satisfied`` answers, Wilson interval) or
            ``"mean"`` (mean answer, t interval) for CSAT and CES; ``"nps"`` for NPS.
        higher_is_better: Polarity (``False`` for CEB's original 1–5 effort item).
        satisfied: Scale points counted as satisfied (CES: as easy), sorted.

    Raises:
        MetricsError: a scale of fewer than two points, an NPS survey that is not 0–10,
            an unknown convention, satisfied points off the scale.

    Examples:
        >>> survey = Survey("after-repair", "csat", scale=(0, 10), convention="mean")
        >>> survey.satisfied, survey.check(9)
        ((8, 9, 10), 9)
    """

    name: str = attrs.field()
    kind: SurveyKind = attrs.field(converter=_kind)
    scale: tuple[int, int] = attrs.field(converter=_scale)
    convention: str = attrs.field()
    higher_is_better: bool = attrs.field(default=True, kw_only=True)
    satisfied: tuple[int, ...] = attrs.field(converter=_points, kw_only=True)

    @scale.default
    def _default_scale(self) -> tuple[int, int]:
        return _DEFAULT_SCALES[self.kind]

    @convention.default
    def _default_convention(self) -> str:
        return _DEFAULT_CONVENTIONS[self.kind]

    @satisfied.default
    def _default_points(self) -> tuple[int, ...]:
        low, high = self.scale
        if self.kind is SurveyKind.NPS:
            return (9, 10)
        if high - low < 1:
            return ()  # reported by the checks below
        return default_satisfied(low, high, self.kind.value, self.higher_is_better)

    def __attrs_post_init__(self) -> None:
        where = f"survey {self.name!r}"
        if not isinstance(self.name, str) or not self.name.strip():
            raise MetricsError(f"a survey name must be a non-empty string, got {self.name!r}")
        low, high = self.scale
        if high - low < 1:
            raise MetricsError(f"{where}: a scale needs at least two points, got {low}..{high}")
        if not isinstance(self.higher_is_better, bool):
            raise MetricsError(f"{where}: higher_is_better must be a bool")
        if self.kind is SurveyKind.NPS:
            if self.scale != (0, 10) or self.convention != "nps" or self.satisfied != (9, 10):
                raise MetricsError(
                    f"{where}: NPS is asked on 0–10 with convention 'nps' (promoters 9–10); "
                    f"got scale {low}..{high}, convention {self.convention!r}"
                )
            return
        if self.convention not in ("top_box", "mean"):
            raise MetricsError(
                f"{where}: convention must be 'top_box' or 'mean', got {self.convention!r}"
            )
        if not self.satisfied:
            raise MetricsError(f"{where}: satisfied must name at least one scale point")
        outside = [point for point in self.satisfied if not low <= point <= high]
        if outside:
            raise MetricsError(
                f"{where}: satisfied points {outside} are off the scale {low}–{high}"
            )

    @property
    def low(self) -> int:
        """Lowest scale point."""
        return self.scale[0]

    @property
    def high(self) -> int:
        """Highest scale point."""
        return self.scale[1]

    @property
    def definition(self) -> tuple[Any, ...]:
        """What makes two surveys' answers foldable into one figure (the name aside)."""
        return (self.kind, self.scale, self.convention, self.satisfied, self.higher_is_better)

    def check(self, score: object) -> int:
        """``score`` as an integer answer on the scale.

        Raises:
            MetricsError: ``score`` is not an integer from ``low`` to ``high``.
        """
        answer = integer_score(score, self.low, self.high)
        if answer is None:
            raise MetricsError(
                f"survey {self.name!r}: {describe_invalid(score, self.low, self.high)}"
            )
        return answer

    def stamp(self) -> dict[str, Any]:
        """The ``meta`` a recorded answer carries: the survey's name and scale."""
        return {"survey": self.name, "scale": [self.low, self.high]}

    def accumulator(self) -> RatingAccumulator | NpsAccumulator:
        """An empty accumulator for this survey's score."""
        from csmkit.metrics._ratings import RatingAccumulator  # a cycle: _ratings reads Survey

        if self.kind is SurveyKind.NPS:
            return NpsAccumulator()
        return RatingAccumulator(
            "csat" if self.kind is SurveyKind.CSAT else "ces",
            scale=self.scale,
            satisfied=self.satisfied,
            convention="mean" if self.convention == "mean" else "top_box",
            higher_is_better=self.higher_is_better,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form; [`from_dict()`][csmkit.metrics.Survey.from_dict] reads it back."""
        return {
            "name": self.name,
            "kind": self.kind.value,
            "scale": [self.low, self.high],
            "convention": self.convention,
            "higher_is_better": self.higher_is_better,
            "satisfied": list(self.satisfied),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str = "survey") -> Survey:
        """Build a survey from its dict form (only ``name`` and ``kind`` are required).

        Raises:
            MetricsError: unknown or missing keys, invalid values; the message starts
                with ``path``.
        """
        if not isinstance(data, Mapping):
            raise MetricsError(f"{path}: a survey is a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - _KEYS, key=str)
        if unknown:
            raise MetricsError(f"{path}: unknown keys {unknown} (known: {sorted(_KEYS)})")
        missing = [key for key in ("name", "kind") if key not in data]
        if missing:
            raise MetricsError(f"{path}: missing {', '.join(missing)}")
        options = {key: data[key] for key in _KEYS - {"name", "kind"} if key in data}
        try:
            return cls(data["name"], data["kind"], **options)
        except MetricsError as exc:
            raise MetricsError(f"{path}: {exc}") from None
        except TypeError as exc:  # a wrong type attrs could not convert
            raise MetricsError(f"{path}: {exc}") from None


class SurveyChoice:
    """Which survey definition an answer was given under, per ticket type.

    Built from a [`Survey`][csmkit.metrics.Survey], an iterable of surveys (every ticket type), or a
    mapping of ticket type to survey(s) where the key ``"*"`` covers the other types.
    """

    __slots__ = ("_by_type",)

    def __init__(self, surveys: object = None) -> None:
        self._by_type: dict[str, list[Survey]] = {}
        if surveys is None:
            return
        if isinstance(surveys, Mapping):
            for key, value in surveys.items():
                if not isinstance(key, str):
                    raise MetricsError(f"surveys: keys are ticket types or '*', got {key!r}")
                self._by_type[key] = _survey_list(value, f"surveys[{key!r}]")
        else:
            self._by_type["*"] = _survey_list(surveys, "surveys")

    def resolve(self, kind: SurveyKind, ticket_type: str, event: SurveyAnswered) -> Survey | None:
        """The declared survey ``event`` answers, or ``None`` when none is declared.

        Raises:
            MetricsError: several surveys of ``kind`` apply and the answer names none
                of them.
        """
        candidates = [s for s in self._by_type.get(ticket_type, ()) if s.kind is kind]
        if not candidates:
            candidates = [s for s in self._by_type.get("*", ()) if s.kind is kind]
        if not candidates:
            return None
        name = event.meta.get("survey")
        for survey in candidates:
            if survey.name == name:
                return survey
        if len(candidates) == 1:
            return candidates[0]
        names = ", ".join(repr(s.name) for s in candidates)
        raise MetricsError(
            f"ticket {event.ticket_id!r}: {kind.value.upper()} surveys {names} apply to "
            f"type {ticket_type!r} and the answer names none of them (meta survey {name!r})"
        )


def _survey_list(value: object, where: str) -> list[Survey]:
    items = [value] if isinstance(value, Survey) else value
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise MetricsError(f"{where}: expected Survey objects, got {value!r}")
    out = list(items)
    for index, survey in enumerate(out):
        if not isinstance(survey, Survey):
            raise MetricsError(f"{where}[{index}]: expected a Survey, got {survey!r}")
    return out
