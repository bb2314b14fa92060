"""summarise: lead sentences, no title repeat, no chrome, about 300 characters."""

from __future__ import annotations

from pathlib import Path

from spacy.language import Language

from bot.nlp.summary import MAX_CHARS, summarise

TITLE = "Kim Jong-un arrives in Vietnam for summit with Trump"


def test_first_two_lead_sentences(nlp: Language) -> None:
    text = (
        "Kim arrived in Vietnam on Tuesday for a summit with Trump. "
        "The two leaders meet in Hanoi on Wednesday. "
        "Pompeo is already there."
    )
    assert summarise(TITLE, nlp(text)) == (
        "Kim arrived in Vietnam on Tuesday for a summit with Trump. "
        "The two leaders meet in Hanoi on Wednesday."
    )


def test_title_and_page_chrome_are_not_repeated(nlp: Language) -> None:
    text = (
        f"Back To Top\n\n{TITLE}\n\nJUST WATCHED Kim's train Replay More Videos\n\n"
        "North Korean leader Kim Jong-un arrived in Vietnam on Tuesday for a second summit "
        "with US President Donald Trump."
    )
    assert summarise(TITLE, nlp(text)) == (
        "North Korean leader Kim Jong-un arrived in Vietnam on Tuesday for a second summit "
        "with US President Donald Trump."
    )


def test_datelines_and_headings_are_dropped(nlp: Language) -> None:
    text = (
        "Massive protests\n\n"
        "London (CNN) President Donald Trump wrapped up the official portion of his visit Friday."
    )
    assert summarise("Trump in the UK", nlp(text)) == (
        "President Donald Trump wrapped up the official portion of his visit Friday."
    )
    wire = "BEIJING (Reuters) - The United States and China had a frank exchange of views."
    assert summarise("US-China", nlp(wire)) == (
        "The United States and China had a frank exchange of views."
    )


def test_a_long_lead_stands_alone_and_is_trimmed_cleanly(nlp: Language) -> None:
    lead = "Leaders " + "discussed trade, climate and security at length, " * 12 + "then left."
    text = lead + " A second sentence follows here."
    summary = summarise("Summit", nlp(text))
    assert len(summary) <= MAX_CHARS
    assert summary.endswith("…")
    assert "second sentence" not in summary
    assert not summary[:-1].endswith((" ", ","))


def test_no_text_no_summary(nlp: Language) -> None:
    assert summarise(TITLE, nlp("")) == ""
    assert summarise(TITLE, nlp(TITLE)) == ""


def test_seed_story(nlp: Language, shared_dir: Path) -> None:
    doc = nlp((shared_dir / "corpus" / "seed-yonhap-hanoi.txt").read_text())
    summary = summarise(TITLE, doc)
    assert summary.startswith("North Korean leader Kim Jong-un arrived in Vietnam on Tuesday")
    assert TITLE not in summary
    assert "Back To Top" not in summary
    assert len(summary) <= MAX_CHARS
