"""Clustering scores against labelled event keys: pairwise P/R/F1, B³, splits, cross-city merges."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True, slots=True)
class Scores:
    """How well predicted stories match gold events over the same items."""

    items: int
    events: int
    stories: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    b3_precision: float
    b3_recall: float
    b3_f1: float
    largest_split: int
    split_event: str | None
    cross_city_merges: tuple[tuple[str, str], ...]
    pairs_correct: int
    pairs_predicted: int
    pairs_gold: int

    def render(self, label: str) -> str:
        """A few readable lines."""
        merges = ", ".join(f"{a} + {b}" for a, b in self.cross_city_merges) or "none"
        return (
            f"{label}: {self.items} items, {self.events} events, {self.stories} stories\n"
            f"  pairwise P/R/F1 {self.pairwise_precision:.3f} / {self.pairwise_recall:.3f} / "
            f"{self.pairwise_f1:.3f}   B³ P/R/F1 {self.b3_precision:.3f} / {self.b3_recall:.3f} / "
            f"{self.b3_f1:.3f}\n"
            f"  largest split {self.largest_split} ({self.split_event or '-'}); "
            f"cross-city merges: {merges}"
        )


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _city(value: str | None) -> str | None:
    return value.split(",")[0].strip().casefold() if value else None


def score(
    predicted: Mapping[str, object],
    gold: Mapping[str, str],
    cities: Mapping[str, str | None] | None = None,
    focus: Collection[str] | None = None,
) -> Scores:
    """Scores of ``predicted`` (item → story; None is a story of its own) against ``gold``.

    Only items in ``gold`` count. ``cities`` (item → gold city) finds stories that merged
    events held in different cities. With ``focus`` (held-out items), only pairs with a
    focus item and the focus items' B³ count, so merges with other items still cost.
    """
    ids = sorted(gold)
    chosen = set(ids if focus is None else focus)
    story = {i: predicted.get(i) if predicted.get(i) is not None else ("alone", i) for i in ids}
    clusters: dict[object, set[str]] = defaultdict(set)
    events: dict[str, set[str]] = defaultdict(set)
    for i in ids:
        clusters[story[i]].add(i)
        events[gold[i]].add(i)
    same_story = {
        frozenset(p)
        for c in clusters.values()
        for p in combinations(sorted(c), 2)
        if chosen.intersection(p)
    }
    same_event = {
        frozenset(p)
        for e in events.values()
        for p in combinations(sorted(e), 2)
        if chosen.intersection(p)
    }
    both = len(same_story & same_event)
    precision = both / len(same_story) if same_story else 1.0
    recall = both / len(same_event) if same_event else 1.0
    focus_ids = [i for i in ids if i in chosen]
    b3p = sum(
        len(clusters[story[i]] & events[gold[i]]) / len(clusters[story[i]]) for i in focus_ids
    )
    b3r = sum(len(clusters[story[i]] & events[gold[i]]) / len(events[gold[i]]) for i in focus_ids)
    b3p, b3r = b3p / max(len(focus_ids), 1), b3r / max(len(focus_ids), 1)
    split, split_event = 0, None
    for event, members in sorted(events.items()):
        parts = len({story[i] for i in members})
        if parts > split:
            split, split_event = parts, event
    merges: set[tuple[str, str]] = set()
    for members in clusters.values():
        by_city: dict[str, str] = {}
        for i in sorted(members):
            city = _city((cities or {}).get(i))
            if city is None:
                continue
            for other_city, other_event in by_city.items():
                if other_city != city and other_event != gold[i]:
                    merges.add(tuple(sorted((other_event, gold[i]))))  # type: ignore[arg-type]
            by_city.setdefault(city, gold[i])
    return Scores(
        items=len(ids),
        events=len(events),
        stories=len(clusters),
        pairwise_precision=precision,
        pairwise_recall=recall,
        pairwise_f1=_f1(precision, recall),
        b3_precision=b3p,
        b3_recall=b3r,
        b3_f1=_f1(b3p, b3r),
        largest_split=split,
        split_event=split_event,
        cross_city_merges=tuple(sorted(merges)),
        pairs_correct=both,
        pairs_predicted=len(same_story),
        pairs_gold=len(same_event),
    )
