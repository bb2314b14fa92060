"""Clustering scores: pairwise and B³ on a hand-checked example, splits and cross-city merges."""

from __future__ import annotations

import pytest

from bot.stories.scoring import score

GOLD = {"a": "e1", "b": "e1", "c": "e1", "d": "e2", "e": "e3"}
CITIES = {"a": "Hanoi", "b": "Hanoi", "c": None, "d": "Singapore", "e": "Manila"}


def test_perfect_clustering_scores_one() -> None:
    result = score({"a": 1, "b": 1, "c": 1, "d": 2, "e": None}, GOLD, CITIES)
    assert (result.pairwise_f1, result.b3_f1, result.largest_split) == (1.0, 1.0, 1)
    assert result.cross_city_merges == ()


def test_split_and_merge_by_hand() -> None:
    # {a, b} {c, d} {e}: pairs predicted ab, cd; gold ab, ac, bc -> P 1/2, R 1/3.
    result = score({"a": 1, "b": 1, "c": 2, "d": 2, "e": 3}, GOLD, CITIES)
    assert result.pairwise_precision == pytest.approx(0.5)
    assert result.pairwise_recall == pytest.approx(1 / 3)
    # B³ precision: a 1, b 1, c 1/2, d 1/2, e 1 -> 4/5; recall: a 2/3, b 2/3, c 1/3, d 1, e 1.
    assert result.b3_precision == pytest.approx(0.8)
    assert result.b3_recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)
    assert result.largest_split == 2
    assert result.split_event == "e1"
    assert result.cross_city_merges == ()  # c has no city
    assert (result.pairs_correct, result.pairs_predicted, result.pairs_gold) == (1, 2, 3)


def test_a_story_with_two_cities_of_two_events_is_a_cross_city_merge() -> None:
    result = score({"a": 1, "b": 1, "c": 1, "d": 1, "e": None}, GOLD, CITIES)
    assert result.cross_city_merges == (("e1", "e2"),)


def test_unknown_items_are_stories_of_their_own() -> None:
    result = score({}, GOLD)
    assert result.stories == 5
    assert result.pairwise_recall == 0.0
