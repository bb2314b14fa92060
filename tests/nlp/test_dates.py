"""resolve_dates: weekdays by tense, ranges, month-name dates, relative days, and None."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from spacy.language import Language

from bot.nlp.dates import resolve_dates

TUESDAY = date(2019, 2, 26)
D = date


def dates(nlp: Language, text: str, published: date | None = TUESDAY) -> tuple[date | None, ...]:
    return resolve_dates(nlp(text), published)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        # Future and neutral weekdays look ahead from a Tuesday story.
        ("The two leaders will meet on Wednesday in Hanoi.", D(2019, 2, 27), None),
        ("Kim is scheduled to hold a summit with Trump on Wednesday and Thursday.",
         D(2019, 2, 27), D(2019, 2, 28)),
        ("EU leaders are meeting in Brussels on Thursday and Friday.",
         D(2019, 2, 28), D(2019, 3, 1)),
        ("The summit opens on Friday.", D(2019, 3, 1), None),
        # A passive after a modal or "to" is still ahead; after "was" it is done.
        ("The summit will now be held in Busan on Saturday.", D(2019, 3, 2), None),
        ("The summit was held in Busan on Saturday.", D(2019, 2, 23), None),
        # Attribution after the date says when it was reported, not when the summit is.
        ("The two presidents will hold a summit in Busan on Friday, the office said on Tuesday.",
         D(2019, 3, 1), None),
        ("Leaders gather for the summit on Tuesday.", TUESDAY, TUESDAY),
        # Past tense looks back; "last" always does.
        ("The leaders held talks on Wednesday in Hanoi.", D(2019, 2, 20), None),
        ("Trump and Xi met at their summit meeting on Monday.", D(2019, 2, 25), D(2019, 2, 25)),
        ("The summit last Wednesday ended without a deal.", D(2019, 2, 20), D(2019, 2, 20)),
        ("Tuesday's summit was cut short.", TUESDAY, TUESDAY),
        # Month names, with and without a year, ranges either way round.
        ("The summit will be held on Feb 27-28 in Hanoi.", D(2019, 2, 27), D(2019, 2, 28)),
        ("The summit will take place from 27 to 28 February.", D(2019, 2, 27), D(2019, 2, 28)),
        ("The G20 summit runs from February 28 to March 1.", D(2019, 2, 28), D(2019, 3, 1)),
        ("The leaders will meet on March 5 in Paris.", D(2019, 3, 5), None),
        ("The summit is set for 5 March 2020 in Paris.", D(2020, 3, 5), None),
        ("Leaders meet at a summit on Wednesday, Feb. 27.", D(2019, 2, 27), D(2019, 2, 27)),
        # Days relative to publication.
        ("The summit begins today in Hanoi.", TUESDAY, None),
        ("The summit begins tomorrow in Hanoi.", D(2019, 2, 27), None),
        ("The leaders met yesterday for talks.", D(2019, 2, 25), None),
        ("Leaders will hold summit meetings in Manila over the next two days.",
         D(2019, 2, 27), D(2019, 2, 28)),
        # A stated duration gives the end; "a second day" moves the start back.
        ("The two-day summit begins on Wednesday.", D(2019, 2, 27), D(2019, 2, 28)),
    ],
)  # fmt: skip
def test_resolves(nlp: Language, text: str, start: date, end: date | None) -> None:
    assert dates(nlp, text) == (start, end)


def test_second_day_moves_the_start_back(nlp: Language) -> None:
    thursday = date(2018, 6, 28)
    text = (
        "EU leaders struck a deal at the summit on Thursday. "
        "The leaders were meeting Friday for a second day to discuss Brexit."
    )
    assert dates(nlp, text, thursday)[0] == thursday


def test_past_next_day_when_the_story_was_written_after_its_day(nlp: Language) -> None:
    # Published Thursday by the publisher's clock, but Thursday is already told as done.
    thursday = date(2018, 6, 28)
    text = "The meeting was dominated Thursday by migration. The leaders were meeting Friday."
    assert dates(nlp, text, thursday)[0] == date(2018, 6, 29)


def test_year_is_inferred_near_publication(nlp: Language) -> None:
    text = "The leaders held a summit on Dec. 30 in Tokyo."
    assert dates(nlp, text, date(2019, 1, 2))[0] == date(2018, 12, 30)


def test_prefers_the_date_attached_to_the_summit(nlp: Language) -> None:
    text = (
        "North Korean leader Kim Jong-un arrived in Vietnam on Tuesday for a second summit "
        "with US President Donald Trump. Kim is scheduled to hold a summit with Trump on "
        "Wednesday and Thursday."
    )
    assert dates(nlp, text) == (date(2019, 2, 27), date(2019, 2, 28))


def test_lead_date_with_two_leaders_counts(nlp: Language) -> None:
    thursday = date(2017, 11, 9)
    text = (
        "U.S. President Donald Trump said on Thursday that he and Chinese President Xi Jinping "
        "would focus on the opioid crisis."
    )
    assert dates(nlp, text, thursday)[0] == thursday


@pytest.mark.parametrize(
    "text",
    [
        "The summit will be held in Hanoi.",
        "Leaders will meet at next week's summit in Brussels.",
        "The G20 summit this weekend will discuss trade.",
        "The election was held on Monday and turnout was high.",
        "The summit location remains unannounced.",
    ],
)
def test_none_when_the_text_does_not_say(nlp: Language, text: str) -> None:
    assert dates(nlp, text) == (None, None)


@pytest.mark.parametrize(
    "text",
    [
        "The two leaders will meet on Wednesday in Hanoi.",
        "The summit begins tomorrow in Hanoi.",
        "The two-day summit in Brussels begins on 16 December.",
    ],
)
def test_relative_or_yearless_dates_need_a_publication_date(nlp: Language, text: str) -> None:
    assert dates(nlp, text, None) == (None, None)


def test_explicit_year_needs_no_publication_date(nlp: Language) -> None:
    text = "The summit in Brussels opens on 16 December 2004."
    assert dates(nlp, text, None)[0] == date(2004, 12, 16)


def test_seed_story(nlp: Language, shared_dir: Path) -> None:
    text = (shared_dir / "corpus" / "seed-yonhap-hanoi.txt").read_text()
    assert dates(nlp, text, date(2019, 2, 26)) == (date(2019, 2, 27), date(2019, 2, 28))


def test_date_candidates_and_one_day_end(nlp: Language) -> None:
    from bot.nlp.dates import date_candidates, end_of

    doc = nlp("The leaders will meet in Oslo on Thursday. Last year they met on March 3.")
    found = {c.start: c for c in date_candidates(doc, date(2019, 6, 4))}
    thursday = found[date(2019, 6, 6)]
    assert thursday.features["attached"] == 1.0
    assert thursday.features["future"] == 1.0
    assert end_of(thursday) == date(2019, 6, 6)  # a one-day meeting ends the day it starts
    assert found[date(2019, 3, 3)].features["earlier"] == 1.0
    two_day = {
        c.start: c
        for c in date_candidates(nlp("A two-day summit opens on June 10."), date(2019, 6, 4))
    }
    assert end_of(two_day[date(2019, 6, 10)]) == date(2019, 6, 11)
