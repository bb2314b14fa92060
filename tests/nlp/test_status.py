"""classify_status: cancellations, dates against publication, and tense cues."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from spacy.language import Language

from bot.nlp.status import classify_status

TUESDAY = date(2019, 2, 26)


def status(
    nlp: Language,
    text: str,
    published: date | None = TUESDAY,
    start: date | None = None,
    end: date | None = None,
) -> str:
    return classify_status(nlp(text), published, start, end)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The White House called off the summit with Kim on Thursday.", "cancelled"),
        ("The planned summit in Singapore was cancelled.", "cancelled"),
        ("Trump scrapped his meeting with Putin at the G20.", "cancelled"),
        ("The EU summit has been postponed until March.", "postponed"),
        ("The talks were delayed by a week after a row over the agenda.", "postponed"),
        ("The summit was rescheduled for next month.", "postponed"),
    ],
)
def test_cancellation_and_postponement_win(nlp: Language, text: str, expected: str) -> None:
    assert status(nlp, text, start=date(2019, 2, 28)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Trump's long-delayed visit to Britain begins after the NATO summit.",
        "The summit opens in Brussels. Separately, a flight was cancelled by a strike at an "
        "airport far away from where anybody was gathering.",
    ],
)
def test_cues_not_said_of_the_meeting_do_not_cancel(nlp: Language, text: str) -> None:
    assert status(nlp, text, start=date(2019, 2, 28)) == "upcoming"


def test_future_dates_are_upcoming(nlp: Language) -> None:
    assert status(nlp, "The summit opens in Hanoi.", start=date(2019, 3, 1)) == "upcoming"


def test_past_dates_are_concluded(nlp: Language) -> None:
    text = "The summit in Hanoi drew crowds."
    assert status(nlp, text, start=date(2019, 2, 20), end=date(2019, 2, 21)) == "concluded"


def test_today_is_ongoing(nlp: Language) -> None:
    text = "Leaders gathered in Hanoi for the summit, the second in eight months."
    assert status(nlp, text, start=TUESDAY) == "ongoing"
    assert status(nlp, text, start=date(2019, 2, 25), end=date(2019, 2, 27)) == "ongoing"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Merkel spoke in Berlin ahead of a critical EU summit.", "upcoming"),
        ("Trump wrapped up the official portion of his visit with talks at Chequers.", "concluded"),
        ("Officials spoke to reporters after the meeting between the two leaders.", "concluded"),
        ("Trump told Xi during talks in Beijing that he backs the one China policy.", "ongoing"),
    ],
)
def test_lead_decides_on_the_publication_day(nlp: Language, text: str, expected: str) -> None:
    assert status(nlp, text, start=TUESDAY, end=TUESDAY) == expected


def test_next_day_in_a_preview_is_upcoming(nlp: Language) -> None:
    text = "Kim Jong-un arrives in Vietnam for a summit with Trump."
    assert status(nlp, text, start=date(2019, 2, 27)) == "upcoming"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Trump will meet Kim at a summit in Hanoi.", "upcoming"),
        ("The rebate is not negotiable at next week's European Council summit.", "upcoming"),
        ("Leaders from NATO are gathering for a summit in Warsaw.", "ongoing"),
        ("G7 summit in Biarritz: live updates. Trump skipped a session on climate.", "ongoing"),
        ("Blair held talks with Sharon and Abbas in the Middle East.", "concluded"),
        ("Speaking after a summit meeting, Chirac said the rebate was unjustified.", "concluded"),
        (
            "Blair has arrived back from his peace mission and talks in the Middle East.",
            "concluded",
        ),
        ("Trudeau is in Manila for a summit of regional leaders.", "ongoing"),
        (
            "Two days of talks on the island's future begin later on Wednesday. "
            "Officials at the two-day summit will plan a new forum.",
            "upcoming",
        ),
    ],
)
def test_cues_without_dates(nlp: Language, text: str, expected: str) -> None:
    assert status(nlp, text, published=None) == expected


def test_a_summit_at_another_time_is_not_now(nlp: Language) -> None:
    text = (
        "Speaking after a summit meeting, Chirac said the rebate was unjustified. "
        "The presidency hopes to strike a deal at a June summit."
    )
    assert status(nlp, text, published=None) == "concluded"


def test_this_weekend_on_a_weekend_is_ongoing(nlp: Language) -> None:
    text = "May spoke ahead of the G20 summit this weekend in Hangzhou."
    assert status(nlp, text, published=date(2016, 9, 4)) == "ongoing"
    assert status(nlp, text, published=date(2016, 9, 1)) == "upcoming"


def test_seed_story_is_upcoming(nlp: Language, shared_dir: Path) -> None:
    text = (shared_dir / "corpus" / "seed-yonhap-hanoi.txt").read_text()
    published = date(2019, 2, 26)
    assert status(nlp, text, published, date(2019, 2, 27), date(2019, 2, 28)) == "upcoming"


def test_met_today_is_concluded_and_next_week_upcoming(nlp: Language) -> None:
    from bot.nlp.status import status_features

    today = date(2023, 3, 13)
    met = nlp("Today, President Biden met with Prime Minister Albanese for talks.")
    assert classify_status(met, today, today, today) == "concluded"
    assert status_features(met, None, today)["done_today"] == 1.0
    ahead = nlp("The two leaders hold a summit next week in Geneva.")
    assert classify_status(ahead, today, None, None) == "upcoming"
    assert status_features(ahead, nlp("Summit next week"), today)["soon"] == 1.0
    moved = nlp("The summit was pushed back to March, officials said.")
    assert status_features(moved, None, today)["postponed"] == 1.0
