"""Location: the meeting's city resolved offline, venue with its certainty."""

from __future__ import annotations

from bot.nlp.location import CONFIRMED, EXPECTED, SPECULATED, certainty, dateline_city
from tests.nlp.helpers import evidence


def test_city_where_the_summit_is() -> None:
    _, where = evidence(
        "Leaders meet",
        "President Anna Berg flew from Berlin to meet Prime Minister Carl Dahl. "
        "The two leaders will hold a summit in Hanoi on Wednesday.",
    )
    assert (where.city, where.country) == ("Hanoi", "Vietnam")


def test_wire_dateline_counts() -> None:
    assert dateline_city("MANILA (Reuters) - Leaders from across Asia gathered.") == (
        "Manila",
        "Philippines",
    )
    _, where = evidence(
        "Trump and Abe meet",
        "TOKYO (Reuters) - U.S. President Donald Trump and Japanese Prime Minister Shinzo Abe "
        "did not discuss trade at their summit meeting on Monday.",
    )
    assert (where.city, where.country) == ("Tokyo", "Japan")


def test_venue_and_certainty() -> None:
    _, where = evidence(
        "Summit venue",
        "President Anna Berg and Prime Minister Carl Dahl will meet in Hanoi for a summit. "
        "There is speculation that the summit will be held at the Grand Lakeside Hotel.",
    )
    assert where.venue == "Grand Lakeside Hotel"
    assert where.certainty == SPECULATED


def test_certainty_words() -> None:
    assert certainty(" the summit will be held at the palace ") == EXPECTED
    assert certainty(" the leaders met at the palace ") == CONFIRMED
    assert certainty(" the palace is reportedly the venue ") == SPECULATED


def test_no_place_gives_nulls() -> None:
    _, where = evidence("Leaders talk", "President Anna Berg and Prime Minister Carl Dahl met.")
    assert (where.city, where.country, where.venue) == (None, None, None)


def test_city_named_with_its_country() -> None:
    _, where = evidence(
        "Leaders meet",
        "As a venue for the summit, Helsinki, Finland, has a lot to offer. "
        "President Anna Berg and Prime Minister Carl Dahl held talks there.",
    )
    assert (where.city, where.country) == ("Helsinki", "Finland")


def test_country_when_the_town_is_too_small_to_know() -> None:
    _, where = evidence(
        "G8 leaders meet",
        "Leaders of the G8 opened their summit in Gleneagles, Scotland, on Wednesday.",
    )
    assert (where.city, where.country) == (None, "United Kingdom")


def test_where_officials_spoke_is_not_where_leaders_meet() -> None:
    _, where = evidence(
        "Ishiba to travel to Busan for talks with Lee",
        "Japanese Prime Minister Shigeru Ishiba will travel to Busan for a summit with South "
        "Korean President Lee Jae-myung on Friday, officials in Tokyo said on Tuesday.",
    )
    assert (where.city, where.country) == ("Busan", "South Korea")


def test_a_city_the_model_took_for_a_person_is_still_a_place() -> None:
    _, where = evidence(
        "Leaders to meet",
        "President Anna Berg will travel to Busan for a summit with Prime Minister Carl Dahl.",
    )
    assert where.city == "Busan"


def test_place_candidates_know_the_white_house_and_a_dateline() -> None:
    from bot.nlp.extract import Article, evidence
    from bot.nlp.location import place_candidates
    from bot.nlp.pipeline import load_pipeline

    nlp = load_pipeline()
    title = "Leaders meet at the White House"
    text = "MOSCOW (Reuters) - The two presidents held talks at the White House on Monday."
    ev = evidence(Article("t", title, text), nlp(title), nlp(text))
    cities, _countries = place_candidates([*ev.title, *ev.body], text)
    by_city = {c.city: c for c in cities}
    assert by_city["Washington"].venue == "White House"
    assert by_city["Washington"].features["venue_n"] > 0
    assert by_city["Moscow"].features["dateline"] == 1.0
