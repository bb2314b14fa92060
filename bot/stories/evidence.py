"""How likely two reports tell of the same meeting: evidence features and a learned weighting.

No single fact vetoes a match (outlets disagree and extractors err): every piece of evidence,
for or against, is a feature, and a logistic model fitted on labelled events
(``benchmarks/stories.py train``) weighs them. The weights ship in ``model.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from bot.stories.facts import same_person
from bot.stories.similarity import fold, names, similarity

if TYPE_CHECKING:
    from bot.core.stories import StoryFacts
    from bot.stories.cluster import Report

SERIES_PREFIX = "series:"
FEATURES = (
    "bias",
    "text",
    "names",
    "names_common",
    "series_same",
    "series_other",
    "people",
    "people_disjoint",
    "city_same",
    "city_other",
    "country_same",
    "country_other",
    "dates_overlap",
    "dates_apart",
    "gap",
    "gap_far",
    "published_in_dates",
    "city_stated_other",
    "dates_near",
    "headline",
    "countries",
    "pair_same",
    "counterpart_other",
    "headline_apart",
)
_DAY_TOLERANCE = timedelta(days=2)
_NEAR_DAYS = 14.0
_DISTINCT_IDF = 4.0  # a name rarer than this in a headline says which meeting it is
_APART_SCALE = math.log1p(20.0)


def _place(value: str | None) -> str | None:
    """A comparable place name: "Washington, D.C." is Washington, "Da Nang" is "Danang"."""
    if not value:
        return None
    head = value.split(",")[0].casefold()
    return "".join(char for char in head if char.isalnum()) or None


def _compare(left: str | None, right: str | None) -> tuple[float, float]:
    a, b = _place(left), _place(right)
    if a is None or b is None:
        return 0.0, 0.0
    return (1.0, 0.0) if a == b else (0.0, 1.0)


def _people(a: StoryFacts, b: StoryFacts) -> tuple[float, float]:
    if not a.participants or not b.participants:
        return 0.0, 0.0
    common = sum(any(same_person(p.name, q.name) for q in b.participants) for p in a.participants)
    smaller = min(len(a.participants), len(b.participants))
    return common / smaller, float(common == 0)


def _partners(a: StoryFacts, b: StoryFacts) -> tuple[float, float]:
    """Two shared leaders (a meeting's pair), and one shared leader meeting different others.

    The second tells a host's readouts apart: "Biden meets Sisi" and "Biden meets Hun Sen"
    share Biden and a template, not a meeting.
    """
    left = [p.name for p in a.participants]
    right = [p.name for p in b.participants]
    only_left = [n for n in left if not any(same_person(n, m) for m in right)]
    only_right = [n for n in right if not any(same_person(n, m) for m in left)]
    shared = len(left) - len(only_left)
    return float(shared >= 2), float(shared >= 1 and bool(only_left) and bool(only_right))


def _span(facts: StoryFacts) -> tuple[date, date] | None:
    if facts.start_date is None:
        return None
    return facts.start_date, facts.end_date or facts.start_date


def _dates(a: StoryFacts, b: StoryFacts) -> tuple[float, float]:
    left, right = _span(a), _span(b)
    if left is None or right is None:
        return 0.0, 0.0
    close = left[0] <= right[1] + _DAY_TOLERANCE and right[0] <= left[1] + _DAY_TOLERANCE
    return (1.0, 0.0) if close else (0.0, 1.0)


def _near(a: StoryFacts, b: StoryFacts) -> float:
    """How close the two meetings' start dates are: 1 on the day, 0 a fortnight apart or more."""
    if a.start_date is None or b.start_date is None:
        return 0.0
    return max(0.0, 1.0 - abs((a.start_date - b.start_date).days) / _NEAR_DAYS)


def stated_city(report: Report) -> str | None:
    """The extracted city when the headline or lead names it too, else None.

    A city the text itself states is trusted; one the extractor inferred from the body (an
    earlier summit mentioned in passing) is not.
    """
    city = _place(report.facts.city)
    if city is None:
        return None
    shown = "".join(char for char in fold(f"{report.title} {report.summary}") if char.isalnum())
    return city if city in shown else None


def _countries(a: StoryFacts, b: StoryFacts) -> float:
    """Agreement of the participants' countries: shared over the smaller set."""
    left = {p.country for p in a.participants if p.country}
    right = {p.country for p in b.participants if p.country}
    if not left or not right:
        return 0.0
    return len(left & right) / min(len(left), len(right))


def _within(day: date, facts: StoryFacts) -> bool:
    span = _span(facts)
    return span is not None and span[0] - _DAY_TOLERANCE <= day <= span[1] + _DAY_TOLERANCE


def _gap_days(a: datetime, b: datetime) -> float:
    return abs((a - b).total_seconds()) / 86400


def _weighted(
    common: AbstractSet[str],
    union: AbstractSet[str],
    idf: Mapping[str, float],
    rare: float,
    floor: float = 0.0,
) -> float:
    """The IDF mass of the shared terms over that of all terms (at least ``floor``)."""
    total = max(sum(idf.get(term, rare) for term in union), floor)
    return sum(idf.get(term, rare) for term in common) / total if total else 0.0


def _unexplained(
    headline: frozenset[str], other: AbstractSet[str], idf: Mapping[str, float], rare: float
) -> float:
    """How much of a headline's rare names the other report never mentions, by IDF mass."""
    return sum(
        weight for term in headline - other if (weight := idf.get(term, rare)) >= _DISTINCT_IDF
    )


def _mentions(report: Report, text_names: AbstractSet[str]) -> AbstractSet[str]:
    """The names a report's text mentions, and those of the facts extracted from it."""
    facts = report.facts
    stated = [facts.city, facts.country, facts.venue, *(p.name for p in facts.participants)]
    return text_names | names(" ".join(part for part in stated if part))


def _headlines_apart(
    a: tuple[frozenset[str], AbstractSet[str]],
    b: tuple[frozenset[str], AbstractSet[str]],
    idf: Mapping[str, float],
    rare: float,
) -> float:
    """Both headlines name someone or somewhere the other report never does.

    "Biden meets Abbas" and "Biden meets King Hamad" share a template and a host, but each
    headline's rare name is missing from the other; one side alone (a vague headline) is
    no evidence, hence the smaller of the two.
    """
    apart = min(_unexplained(a[0], b[1], idf, rare), _unexplained(b[0], a[1], idf, rare))
    return math.log1p(apart) / _APART_SCALE


def features(a: Report, b: Report, model: Model | None = None) -> tuple[float, ...]:
    """The evidence that ``a`` and ``b`` tell of one meeting, in ``FEATURES`` order.

    Shared names count by rarity (``model.idf``): "Biarritz" says more than "Trump".
    """
    idf, rare = (model.idf, model.rare_idf) if model is not None else ({}, 1.0)
    series_a = {t for t in a.terms if t.startswith(SERIES_PREFIX)}
    series_b = {t for t in b.terms if t.startswith(SERIES_PREFIX)}
    names_a, names_b = a.terms - series_a, b.terms - series_b
    people, people_disjoint = _people(a.facts, b.facts)
    city_same, city_other = _compare(a.facts.city, b.facts.city)
    country_same, country_other = _compare(a.facts.country, b.facts.country)
    overlap, apart = _dates(a.facts, b.facts)
    gap = _gap_days(a.published, b.published)
    in_dates = _within(a.published.date(), b.facts) or _within(b.published.date(), a.facts)
    city_a, city_b = stated_city(a), stated_city(b)
    head_a, head_b = names(a.title), names(b.title)
    pair_same, counterpart_other = _partners(a.facts, b.facts)
    return (
        1.0,
        similarity(a.signature, b.signature),
        _weighted(names_a & names_b, names_a | names_b, idf, rare),
        min(sum(idf.get(t, rare) for t in names_a & names_b), 30.0) / 30,
        float(bool(series_a & series_b)),
        float(bool(series_a and series_b and not series_a & series_b)),
        people,
        people_disjoint,
        city_same,
        city_other,
        country_same,
        country_other,
        overlap,
        apart,
        math.log1p(gap) / math.log1p(30),
        float(gap > 21),
        float(in_dates),
        float(city_a is not None and city_b is not None and city_a != city_b),
        _near(a.facts, b.facts),
        # Two headlines naming only "Trump" share little: their overlap is weighed against
        # at least one unseen name's IDF, not against "Trump" alone.
        _weighted(head_a & head_b, head_a | head_b, idf, rare, floor=rare),
        _countries(a.facts, b.facts),
        pair_same,
        counterpart_other,
        _headlines_apart(
            (head_a, _mentions(a, names_a)), (head_b, _mentions(b, names_b)), idf, rare
        ),
    )


@dataclass(frozen=True, slots=True)
class Model:
    """Logistic weights over ``FEATURES`` and the probability at which a report joins a story."""

    version: str
    weights: tuple[float, ...]
    threshold: float
    idf: Mapping[str, float] = field(default_factory=dict)
    rare_idf: float = 1.0

    def probability(self, values: tuple[float, ...]) -> float:
        """P(same meeting) for one feature vector."""
        z = sum(w * x for w, x in zip(self.weights, values, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict[str, Any]:
        """The shape of ``model.json``."""
        return {
            "version": self.version,
            "features": list(FEATURES),
            "weights": [round(w, 6) for w in self.weights],
            "threshold": round(self.threshold, 4),
            "rare_idf": round(self.rare_idf, 4),
            "idf": {term: round(value, 3) for term, value in sorted(self.idf.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        """A model from ``model.json``; its features must be today's."""
        if list(data["features"]) != list(FEATURES):
            raise ValueError("model.json was fitted on other features: re-run the training")
        return cls(
            str(data["version"]),
            tuple(map(float, data["weights"])),
            float(data["threshold"]),
            {str(term): float(value) for term, value in data.get("idf", {}).items()},
            float(data.get("rare_idf", 1.0)),
        )


@cache
def shipped_model() -> Model:
    """The model fitted by ``benchmarks/stories.py train`` and shipped with the package."""
    text = resources.files("bot.stories").joinpath("model.json").read_text(encoding="utf-8")
    return Model.from_json(json.loads(text))


def explain(model: Model, values: tuple[float, ...], top: int = 4) -> tuple[str, ...]:
    """The strongest pieces of evidence, for and against, as short log lines."""
    parts = [
        (w * x, name)
        for name, w, x in zip(FEATURES, model.weights, values, strict=True)
        if name != "bias" and x
    ]
    parts.sort(key=lambda part: abs(part[0]), reverse=True)
    return tuple(f"{name} {value:+.2f}" for value, name in parts[:top])
