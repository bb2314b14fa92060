"""Which story a report joins (pure): people, place, time and near-duplicate text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from bot.stories.cluster import (
    Report,
    StoryState,
    assign,
    closer_half,
    draft,
    report_terms,
    score_match,
    story_facts,
)
from bot.stories.evidence import shipped_model
from bot.stories.facts import facts_from_analysis
from bot.stories.similarity import signature, similarity
from tests.stories.helpers import KIM, MOON, PUTIN, TRUMP, analysis, day

_ids = iter(range(1, 10_000))


def report(data: dict[str, Any], published: datetime, title: str = "", summary: str = "") -> Report:
    title = title or f"report {next(_ids)}"
    return Report(
        item_id=next(_ids),
        title=title,
        link=None,
        outlet=None,
        published=published,
        facts=facts_from_analysis(data),
        score=float(data["score"]),
        summary=summary,
        signature=signature(title),
        terms=report_terms(title),
    )


def story(story_id: int, *reports: Report) -> StoryState:
    return StoryState(story_id, story_facts(list(reports)), reports)


HANOI = analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27", end="2019-02-28")
SINGAPORE = analysis(TRUMP, KIM, city="Singapore", country="Singapore", start="2018-06-12")


def test_same_summit_from_another_outlet_a_day_later_joins() -> None:
    hanoi = story(1, report(HANOI, day("2019-02-25"), "Trump and Kim to meet in Hanoi"))
    later = report(
        analysis({"name": "Kim Jong Un"}, {"name": "Trump"}, city="Hanoi"),
        day("2019-02-26"),
        "North Korean leader arrives in Vietnam by train",
    )
    match = assign(later, [hanoi])
    assert match is not None
    assert match.story_id == 1
    assert match.reasons[0].startswith("p=")
    assert any(reason.startswith("city_same") for reason in match.reasons)


def test_same_leaders_other_place_and_time_is_another_story() -> None:
    singapore = story(1, report(SINGAPORE, day("2018-06-10")))
    assert assign(report(HANOI, day("2019-02-25")), [singapore]) is None


def test_same_leaders_and_place_after_the_meeting_concluded_is_another_story() -> None:
    first = analysis(MOON, KIM, city="Panmunjom", start="2018-04-27", status="concluded")
    second = analysis(MOON, KIM, city="Panmunjom", start="2018-05-26")
    assert (
        assign(report(second, day("2018-05-26")), [story(1, report(first, day("2018-04-27")))])
        is None
    )


def test_dates_moved_before_the_meeting_stay_in_the_story() -> None:
    planned = story(1, report(HANOI, day("2019-02-20"), "Trump and Kim to meet in Hanoi"))
    moved = report(
        analysis(TRUMP, KIM, city="Hanoi", start="2019-03-05"),
        day("2019-02-22"),
        "Trump-Kim summit in Hanoi moved to March",
    )
    match = assign(moved, [planned])
    assert match is not None
    assert match.story_id == 1


def test_one_shared_leader_with_different_partners_is_another_story() -> None:
    kim = story(1, report(analysis(TRUMP, KIM, start="2018-07-16"), day("2018-07-10")))
    putin = report(analysis(TRUMP, PUTIN, start="2018-07-16"), day("2018-07-11"))
    assert assign(putin, [kim]) is None


def test_best_candidate_wins() -> None:
    singapore = story(1, report(SINGAPORE, day("2019-02-20")))
    hanoi = story(2, report(HANOI, day("2019-02-20")))
    assert assign(report(HANOI, day("2019-02-21")), [singapore, hanoi]).story_id == 2  # type: ignore[union-attr]


def test_near_duplicate_text_joins_even_without_facts() -> None:
    text = "Leaders gather for the second summit in the Vietnamese capital on Wednesday"
    first = story(1, report(analysis(), day("2019-02-25"), text))
    copy = report(analysis(), day("2019-02-25"), text + ", officials said")
    assert similarity(first.reports[0].signature, copy.signature) >= 0.8
    match = assign(copy, [first])
    assert match is not None
    assert match.score >= 0.5


def test_draft_keeps_the_opening_headline_and_the_strongest_reasons() -> None:
    a = report(HANOI, day("2019-02-25"), "Trump and Kim to meet in Hanoi")
    b = report(analysis(TRUMP, KIM, venue="Metropole", score=0.95), day("2019-02-26"), "Venue set")
    result = draft([b, a])
    assert result.title == "Trump and Kim to meet in Hanoi"
    assert result.facts.venue == "Metropole"
    assert result.score == 0.95
    assert "hanoi" in result.search_text
    assert "kim jong-un" in result.search_text


def test_closer_half_averages_the_better_half_of_the_pair_scores() -> None:
    assert closer_half([0.9]) == 0.9
    assert closer_half([0.1, 0.9]) == 0.9
    assert closer_half([0.1, 0.8, 0.9]) == pytest.approx(0.85)
    assert closer_half([0.2, 0.9, 0.1, 0.8]) == pytest.approx(0.85)


def test_one_look_alike_report_does_not_chain_a_leaders_next_stop_into_the_story() -> None:
    beijing = analysis(TRUMP, {"name": "Xi Jinping"}, city="Beijing", start="2017-11-08")
    tour = "Trump leaves Beijing for Vietnam on his Asia tour"
    talks = story(
        1,
        report(beijing, day("2017-11-08"), "Trump and Xi hold talks in Beijing"),
        report(beijing, day("2017-11-09"), "Xi and Trump sign deals in Beijing"),
        report(beijing, day("2017-11-10"), tour),
    )
    danang = report(analysis(TRUMP, city="Da Nang"), day("2017-11-10"), tour + " for APEC")
    single = max(score_match(danang, story(1, r), shipped_model()).score for r in talks.reports)
    assert score_match(danang, talks, shipped_model()).score < single
