"""Each named signal on a short text of our own, and the verdict it leads to."""

from __future__ import annotations

from datetime import date

from bot.nlp.detect import reasons
from tests.nlp.helpers import detection, fired

SUMMIT = (
    "Ruritanian President Anna Berg and Freedonian Prime Minister Carl Dahl met in Oslo on "
    "Monday for a two-day summit. The two leaders held talks on trade and security. "
    "Berg said the summit was a success."
)


def test_summit_story_scores_high_with_reasons() -> None:
    found = detection("Berg and Dahl meet for summit in Oslo", SUMMIT, date(2024, 5, 6))
    assert found.is_summit
    assert found.score > 0.9
    names = {s.name for s in found.signals}
    assert {"summit_in_title", "summit_noun", "heads_of_state", "leaders_meet"} <= names
    assert "host_city" in names
    text = found.reasons()
    assert len(text) == 3
    assert all("“" in r for r in text)


def test_summit_series_and_gathering() -> None:
    got = fired(
        "Leaders gather",
        "World leaders gathered in Rome for the G20 summit on Saturday. "
        "The G20 leaders met to discuss climate.",
    )
    assert got["summit_series"] > 0
    assert got["leaders_gathering"] > 0


def test_mountain_summit() -> None:
    got = fired(
        "Climbers reach the top",
        "The climbers reached the summit of the mountain at dawn after a hard ascent. "
        "The summit is 4,000 metres high.",
    )
    assert got["mountain"] < 0
    assert not detection(
        "Climbers reach the top", "They reached the summit of Mount Kenya."
    ).is_summit


def test_place_name() -> None:
    got = fired(
        "Summit County approves budget",
        "Summit County commissioners approved a new budget for roads on Tuesday.",
    )
    assert got["place_name"] < 0


def test_conference() -> None:
    text = (
        "The Web Summit opened in Lisbon with 70,000 attendees, startups and investors. "
        "Speakers at the tech summit discussed AI."
    )
    got = fired("Web Summit opens", text)
    assert got["conference"] < 0
    assert not detection("Web Summit opens", text).is_summit


def test_sport() -> None:
    text = (
        "England sat on rugby's summit after the Grand Slam win, and the coach praised the players."
    )
    assert fired("England win", text)["sport"] < 0
    assert not detection("England win", text).is_summit


def test_ministers_only() -> None:
    text = (
        "G7 finance ministers met in London for what the chancellor called a debt relief summit. "
        "The ministers agreed to cancel debts."
    )
    assert fired("Debt deal", text)["ministers_only"] < 0
    assert not detection("Debt deal", text).is_summit


def test_phone_call() -> None:
    text = (
        "Ruritanian President Anna Berg spoke by phone with Freedonian Prime Minister Carl Dahl "
        "on Monday. The two leaders discussed trade in a phone call."
    )
    assert fired("Leaders talk", text)["phone_call"] < 0
    assert not detection("Leaders talk", text).is_summit


def test_passing_mention() -> None:
    text = (
        "The city council voted to expand the bus network on Tuesday. "
        "Councillors said fares would stay the same. "
        "The new routes open in spring. "
        "Residents welcomed the plan. "
        "Separately, officials noted that last year's summit had closed some roads for a day."
    )
    got = fired("Council expands buses", text)
    assert got["passing_mention"] < 0
    assert not detection("Council expands buses", text).is_summit


def test_reasons_are_strongest_first() -> None:
    found = detection("Berg and Dahl meet for summit in Oslo", SUMMIT)
    ranked = reasons(found.signals, limit=10)
    values = [
        abs(s.contribution) for s in sorted(found.signals, key=lambda s: -abs(s.contribution))
    ]
    assert len(ranked) == len(values)
    assert ranked[0].startswith(max(found.signals, key=lambda s: abs(s.contribution)).name)


def test_series_in_title() -> None:
    got = fired("G20 leaders open talks", "Leaders arrived on Friday.")
    assert got["series_in_title"] > 0


def test_timeline_is_not_a_report() -> None:
    entries = "\n\n".join(
        f"{year} - Something happened in the country that year." for year in range(1990, 2000)
    )
    text = (
        "Here is a look at the country.\n\n" + entries + "\n\n2001 - The G8 summit is held there."
    )
    got = fired("Country Fast Facts", text)
    assert got["timeline"] < 0
    assert not detection("Country Fast Facts", text).is_summit


def test_congress_leaders_are_not_heads_of_state() -> None:
    text = (
        "President Anna Berg held a meeting with Democratic and Republican leaders of Congress "
        "on Thursday to discuss the budget."
    )
    got = fired("Budget talks", text)
    assert "leaders_gathering" not in got
    assert not detection("Budget talks", text).is_summit


def test_church_summit_is_a_lookalike() -> None:
    text = "Catholic bishops from around the world attended a summit in Rome on abuse."
    assert fired("Bishops meet", text)["conference"] < 0


def test_premier_league_is_sport_not_a_premier() -> None:
    text = "Liverpool moved to the summit of the Premier League table with a 2-0 win over Arsenal."
    assert fired("Liverpool go top", text)["sport"] < 0
    assert not detection("Liverpool go top", text).is_summit


def test_uk_chancellor_is_a_minister() -> None:
    text = (
        "G7 finance ministers backed a debt plan. UK Chancellor Gordon Brown said the London "
        "meeting would be remembered as the debt relief summit."
    )
    assert not detection("G7 backs debt plan", text).is_summit


def test_host_and_guest_leaders_meeting() -> None:
    found = detection(
        "Berg hosts Dahl",
        "Ruritanian President Anna Berg hosted Freedonian Prime Minister Carl Dahl in Oslo on "
        "Tuesday for talks. The two leaders held a joint news conference.",
    )
    assert found.is_summit
