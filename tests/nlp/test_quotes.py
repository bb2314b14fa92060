"""find_quotes: direct quotes, attribution patterns, pronouns and canonical speakers."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.language import Language

from bot.nlp.quotes import Quote, find_quotes

LEADERS = ["Donald Trump", "Kim Jong-un", "Theresa May", "Emmanuel Macron"]
SAID = "We want a very productive summit in Hanoi"


def quotes(nlp: Language, text: str, speakers: list[str] = LEADERS) -> list[Quote]:
    return find_quotes(nlp(text), speakers)


def speakers_of(nlp: Language, text: str, speakers: list[str] = LEADERS) -> list[str]:
    return [q.speaker for q in quotes(nlp, text, speakers)]


@pytest.mark.parametrize(
    "text",
    [
        f'"{SAID}," Trump said.',
        f'"{SAID}," said Trump.',
        f'Trump said: "{SAID}."',
        f"“{SAID},” President Trump told reporters.",
        f'President Trump told reporters on Air Force One: "{SAID}."',
        f'"{SAID}," according to Trump.',
        f'"{SAID}," Trump once again said.',
        f'"{SAID}!" Trump tweeted.',
    ],
)
def test_attribution_patterns(nlp: Language, text: str) -> None:
    [quote] = quotes(nlp, text)
    assert quote.speaker == "Donald Trump"
    assert quote.text.rstrip(".!") == SAID


def test_multi_sentence_quote_is_one_quote(nlp: Language) -> None:
    text = '"Heading over to Vietnam. Looking forward to a very productive Summit!" Trump tweeted.'
    assert quotes(nlp, text) == [
        Quote(
            "Donald Trump", "Heading over to Vietnam. Looking forward to a very productive Summit!"
        )
    ]


def test_pronoun_resolves_to_the_subject_of_the_latest_naming_sentence(nlp: Language) -> None:
    text = f'Trump expressed optimism about his upcoming bargaining with Kim.\n\n"{SAID}," he said.'
    assert speakers_of(nlp, text) == ["Donald Trump"]


def test_pronoun_skips_an_opening_phrase(nlp: Language) -> None:
    text = (
        "Speaking a few moments after Trump, May had a completely different message.\n\n"
        '"The UK has a proud history of welcoming people," she said.'
    )
    assert speakers_of(nlp, text) == ["Theresa May"]


def test_names_inside_quotes_are_not_speakers(nlp: Language) -> None:
    text = (
        "Trump boarded Air Force One.\n\n"
        '"Heading over to Vietnam for my meeting with Kim Jong Un," he tweeted.'
    )
    assert speakers_of(nlp, text) == ["Donald Trump"]


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (f'"{SAID}," Kim said.', "Kim Jong-un"),
        (f'"{SAID}," Kim Jong Un said.', "Kim Jong-un"),
        (f'"{SAID}," said Mrs May.', "Theresa May"),
        (f'"{SAID}," French President Emmanuel Macron said.', "Emmanuel Macron"),
    ],
)
def test_names_map_to_the_canonical_speakers(nlp: Language, text: str, speaker: str) -> None:
    assert speakers_of(nlp, text) == [speaker]


def test_unknown_speaker_takes_the_fullest_name_in_the_story(nlp: Language) -> None:
    text = (
        "Secretary of State Rex Tillerson briefed reporters in Beijing.\n\n"
        '"We had a frank exchange on maritime security issues," Tillerson said.'
    )
    assert speakers_of(nlp, text) == ["Rex Tillerson"]


def test_a_following_quote_continues_after_a_finished_attribution(nlp: Language) -> None:
    text = (
        '"European countries have benefited hugely from the market," Macron said. '
        '"What we are now talking about is a market in services."'
    )
    assert speakers_of(nlp, text) == ["Emmanuel Macron", "Emmanuel Macron"]


def test_a_new_introduction_is_not_a_continuation(nlp: Language) -> None:
    text = (
        '"Nobody can justify the rebate any longer," Macron said. But a British official '
        'responded: "Even with the rebate, the UK pays two and a half times more."'
    )
    assert speakers_of(nlp, text) == ["Emmanuel Macron"]


@pytest.mark.parametrize(
    "text",
    [
        'Experts call it a "top-down" diplomatic process, Trump said.',
        'They agreed to work for "complete denuclearization," Trump said.',
        'Trump wrote in his 2004 book "How to Get Rich." It sold well.',
        '"We want a very productive summit in Hanoi." The statement was unsigned.',
    ],
)
def test_scare_quotes_titles_and_unattributed_quotes_are_skipped(nlp: Language, text: str) -> None:
    assert quotes(nlp, text) == []


def test_seed_story_quotes_are_trumps(nlp: Language, shared_dir: Path) -> None:
    text = (shared_dir / "corpus" / "seed-yonhap-hanoi.txt").read_text()
    found = quotes(nlp, text, ["Kim Jong-un", "Donald Trump"])
    assert len(found) == 2
    assert {q.speaker for q in found} == {"Donald Trump"}
    assert found[0].text.startswith("Heading over to Vietnam")
    assert found[1].text.startswith("We want denuclearization")
