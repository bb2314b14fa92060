"""find_agenda: canonical topics from synonyms, in order of first mention."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.language import Language

from bot.nlp.agenda import find_agenda


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("The North must commit to denuclearisation.", "denuclearization"),
        ("Pyongyang wants to denuclearize only step by step.", "denuclearization"),
        ("Kim seeks sanctions relief from Washington.", "sanctions"),
        ("The oil embargo stays in place.", "sanctions"),
        ("They discussed tariffs on steel.", "trade"),
        ("Abe and Trump did not discuss a bilateral FTA.", "trade"),
        ("Leaders spoke about climate change and emissions.", "climate"),
        ("The peace regime would end the Korean War.", "peace process"),
        ("A ceasefire was agreed.", "peace process"),
        ("Trump raised human rights abuses.", "human rights"),
        ("The summit was dominated by migration.", "migration"),
        ("Asylum seekers arrive by boat.", "migration"),
        ("They agreed on counter-terrorism cooperation.", "terrorism"),
        ("The war in Ukraine dominated the talks.", "Ukraine war"),
        ("They spoke about the North's nuclear weapons program.", "nuclear weapons"),
        ("Talks covered freedom of navigation in the South China Sea.", "maritime disputes"),
        ("Trump pressed Xi on fentanyl.", "drugs"),
        ("The leaders discussed economic cooperation.", "economy"),
        ("Gas pipelines were on the table.", "energy"),
        ("Allies must raise defence spending.", "defence"),
    ],
)
def test_synonyms_map_to_canonical_topics(nlp: Language, text: str, topic: str) -> None:
    assert topic in find_agenda(nlp(text))


def test_order_of_first_mention_without_duplicates(nlp: Language) -> None:
    text = (
        "Trump and Kim will discuss sanctions and denuclearization. "
        "Kim wants sanctions eased; trade may follow denuclearisation."
    )
    assert find_agenda(nlp(text)) == ["sanctions", "denuclearization", "trade"]


@pytest.mark.parametrize(
    "text",
    [
        "Leaders met at the Asia-Pacific Economic Cooperation summit.",
        "National Security Adviser Susan Rice was blocked at the airport.",
        "The fta was mentioned in lower case, which is not the acronym.",
    ],
)
def test_names_and_lower_case_acronyms_are_not_topics(nlp: Language, text: str) -> None:
    assert find_agenda(nlp(text)) == []


def test_nothing_found(nlp: Language) -> None:
    assert find_agenda(nlp("The two leaders shook hands and smiled for the cameras.")) == []


def test_seed_story(nlp: Language, shared_dir: Path) -> None:
    agenda = find_agenda(nlp((shared_dir / "corpus" / "seed-yonhap-hanoi.txt").read_text()))
    assert {"denuclearization", "sanctions"} <= set(agenda)
    assert agenda[0] == "denuclearization"
