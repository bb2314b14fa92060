"""The keyword gate: cheap, whole-body, and strict enough to skip ordinary news."""

from __future__ import annotations

from bot.nlp.gate import check, passes


def test_summit_anywhere_in_the_body_passes() -> None:
    body = "A long story about budgets. " * 40 + "Later this month the summit opens."
    assert passes("Budget plans unveiled", body)


def test_series_passes() -> None:
    assert passes("G7 opens", "Leaders gather.")


def test_meeting_word_near_a_title_passes() -> None:
    result = check("Visit", "The president will meet his counterpart on Monday.")
    assert result.passed
    assert "president" in result.keywords


def test_meeting_word_far_from_a_title_does_not_pass() -> None:
    body = "The president spoke about schools. " + "Filler words here. " * 20 + "They met."
    assert not passes("Schools", body)


def test_whole_words_only() -> None:
    assert not passes("Summitville mining news", "Metals prices rose; metallurgy improved.")


def test_ordinary_news_is_skipped() -> None:
    assert not passes("Cinema tickets up", "Box office sales rose by 4% last year.")
