"""The learned fact readers: the learner, the model file, and facts read from our own sentences."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from spacy.language import Language

from bot.nlp.evaluate import name_key
from bot.nlp.extract import Article, split_title, trim
from bot.nlp.facts import (
    MODEL_PATH,
    VERSION,
    FactModel,
    Facts,
    fit_logit,
    load_model,
    read_facts,
    train_facts,
)


def _read(nlp: Language, title: str, text: str, published: date | None) -> Facts:
    article = Article("t", title, text, published)
    return read_facts(article, nlp(title), nlp(trim(text)), load_model())


def test_logit_learns_a_separable_rule_and_round_trips() -> None:
    samples = [{"a": float(i % 2), "b": 0.3} for i in range(40)]
    labels = [bool(i % 2) for i in range(40)]
    model = fit_logit(samples, labels, l2=0.1)
    assert model.prob({"a": 1.0, "b": 0.3}) > 0.9 > 0.1 > model.prob({"a": 0.0, "b": 0.3})
    again = type(model).from_json(json.loads(json.dumps(model.to_json())))
    assert again.prob({"a": 1.0}) == pytest.approx(model.prob({"a": 1.0}), abs=1e-4)


def test_shipped_model_loads_offline_and_is_versioned() -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert data["version"] == VERSION
    assert MODEL_PATH.stat().st_size < 100_000
    model = FactModel.from_json(data)
    assert model.to_json() == FactModel.from_json(model.to_json()).to_json()
    with pytest.raises(ValueError, match="version"):
        FactModel.from_json({**data, "version": VERSION + 1})


def test_readout_of_the_day_is_concluded_at_the_white_house(nlp: Language) -> None:
    facts = _read(
        nlp,
        "Readout of President Joe Biden's Meeting with Prime Minister Anthony Albanese",
        "Today, President Joe Biden met with Prime Minister Anthony Albanese of Australia at the "
        "White House. The two leaders discussed trade and security in the Pacific.",
        date(2023, 3, 13),
    )
    assert {name_key(p.name) for p in facts.participants} == {"joe biden", "anthony albanese"}
    assert (facts.location.city, facts.location.country) == ("Washington", "United States")
    assert facts.location.venue == "White House"
    assert (facts.start_date, facts.end_date) == (date(2023, 3, 13), date(2023, 3, 13))
    assert facts.status == "concluded"


def test_preview_with_dateline_and_weekday(nlp: Language) -> None:
    facts = _read(
        nlp,
        "Merkel to host Macron in Berlin next week",
        "BERLIN (Reuters) - German Chancellor Angela Merkel will host French President Emmanuel "
        "Macron for talks in Berlin on Thursday, her spokesman said on Monday.",
        date(2018, 6, 4),
    )
    assert {p.name for p in facts.participants} == {"Angela Merkel", "Emmanuel Macron"}
    assert facts.location.city == "Berlin"
    assert facts.start_date == date(2018, 6, 7) == facts.end_date
    assert facts.status == "upcoming"


def test_odd_input_gives_empty_facts_not_an_error(nlp: Language) -> None:
    facts = _read(nlp, "", "", None)
    assert facts == Facts()


def test_training_is_seeded_and_reproducible(nlp: Language) -> None:
    texts = [
        ("Putin hosts Erdogan in Sochi", "Russian President Vladimir Putin met Turkish President "
         "Recep Tayyip Erdogan in Sochi on Monday, the Kremlin said.", "Sochi", "Russia"),
        ("Abe visits Modi in Delhi", "Japanese Prime Minister Shinzo Abe held talks with Indian "
         "Prime Minister Narendra Modi in New Delhi on Tuesday.", "New Delhi", "India"),
        ("Macron meets Trudeau in Paris", "French President Emmanuel Macron welcomed Canadian "
         "Prime Minister Justin Trudeau in Paris on Friday for talks on trade.", "Paris", "France"),
    ]  # fmt: skip
    rows = [
        {"id": f"r{i}", "is_summit": True, "title": t, "text": x, "published": "2018-06-06",
         "participants": [], "location": {"city": c, "country": k, "venue": None},
         "start_date": None, "end_date": None, "status": "concluded"}
        for i, (t, x, c, k) in enumerate(texts)
    ]  # fmt: skip
    parsed = [(nlp(r["title"]), nlp(trim(r["text"]))) for r in rows]
    first = train_facts(rows, parsed, seed=3).to_json()
    assert first == train_facts(rows, parsed, seed=3).to_json()
    assert first["trained_on"] == 3


def test_seed_story_through_the_learned_readers(shared_dir: Path, nlp: Language) -> None:
    raw = (shared_dir / "corpus" / "seed-yonhap-hanoi.txt").read_text(encoding="utf-8")
    title, body = split_title(raw)
    facts = _read(nlp, title, body, date(2019, 2, 26))
    assert [(p.name, p.country) for p in facts.participants] == [
        ("Kim Jong-un", "North Korea"),
        ("Donald Trump", "United States"),
    ]
    assert (facts.location.city, facts.location.country) == ("Hanoi", "Vietnam")
    assert (facts.start_date, facts.end_date) == (date(2019, 2, 27), date(2019, 2, 28))
