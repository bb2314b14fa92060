"""The summit model: features from our own short stories, JSON round trip, reasons in words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.nlp.extract import Article, evidence
from bot.nlp.pipeline import load_pipeline
from bot.nlp.summit import SummitModel, decide, features, load_model

HANOI_TITLE = "Kim and Trump to hold talks in Hanoi"
HANOI_BODY = (
    "North Korean leader Kim Jong-un and US President Donald Trump will hold talks in Hanoi "
    "on Wednesday, officials said. The two leaders are expected to discuss sanctions."
)
CHART_TITLE = "Singer returns to the summit of the charts"
CHART_BODY = "The album climbed back to the summit of the charts this week, selling 50,000 copies."


def story(title: str, body: str) -> Article:
    return Article("t", title, body, None)


def found(title: str, body: str) -> dict[str, float]:
    nlp = load_pipeline()
    ev = evidence(story(title, body), nlp(title), nlp(body))
    return {name: f.value for name, f in features(ev).items()}


def tiny_model(**coef: float) -> SummitModel:
    names = tuple(coef)
    return SummitModel(
        names, (0.0,) * len(names), (1.0,) * len(names), tuple(coef.values()), -1.0, 0.5, {}
    )


def test_leaders_meeting_without_the_word_summit() -> None:
    f = found(HANOI_TITLE, HANOI_BODY)
    assert f["summit_title"] == 0.0
    assert f["leaders_meet_lede"] == 1.0
    assert f["two_leaders_lede"] == 1.0
    assert f["cue_talks_title"] == 1.0


def test_a_chart_summit_is_a_lookalike() -> None:
    f = found(CHART_TITLE, CHART_BODY)
    assert f["leaders_meet_lede"] == 0.0
    assert f["cue_chart_title"] == 1.0
    assert f["no_leader_anywhere"] == 1.0


def test_every_story_has_the_same_feature_names() -> None:
    assert set(found(HANOI_TITLE, HANOI_BODY)) == set(found(CHART_TITLE, CHART_BODY))


def test_reasons_are_words_and_quote_each_sentence_once() -> None:
    nlp = load_pipeline()
    article = story(HANOI_TITLE, HANOI_BODY)
    ev = evidence(article, nlp(HANOI_TITLE), nlp(HANOI_BODY))
    model = tiny_model(cue_talks_title=2.0, cue_meet_title=1.0, leaders_meet_lede=2.0)
    got = decide(ev, model)
    assert got.is_summit
    assert got.reasons
    text = "\n".join(got.reasons)
    assert text.count(HANOI_TITLE) == 1
    assert not re.search(r"[a-z]+_[a-z_]+|[+-]\d\.\d", text)
    assert "leaders meeting" in text


def test_a_negative_verdict_names_the_evidence_against() -> None:
    nlp = load_pipeline()
    ev = evidence(story(CHART_TITLE, CHART_BODY), nlp(CHART_TITLE), nlp(CHART_BODY))
    got = decide(ev, tiny_model(summit_title=1.0, cue_chart_title=-4.0))
    assert not got.is_summit
    assert any("chart" in r for r in got.reasons)


def test_json_round_trip(tmp_path: Path) -> None:
    model = tiny_model(summit_title=1.5, timeline=-2.0)
    path = tmp_path / "summit.json"
    path.write_text(json.dumps(model.to_json()), encoding="utf-8")
    assert load_model(path) == model


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "summit.json"
    path.write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a summit model"):
        load_model(path)
    with pytest.raises(ConfigError, match="newsbot train"):
        load_model(tmp_path / "missing.json")


def test_the_shipped_model_reads_features_the_code_computes() -> None:
    model = load_model()
    assert set(model.names) == set(found(HANOI_TITLE, HANOI_BODY))
    assert 0.0 < model.threshold < 1.0
    assert model.meta["trained_on"] > 100


READOUT_TITLE = "Readout of President Biden's Meeting with Prime Minister Shmyhal of Ukraine"
READOUT_BODY = (
    "President Biden met with Prime Minister Denys Shmyhal of Ukraine at the White House."
)
VIRTUAL_TITLE = "Readout of President Biden's Virtual Meeting with Prime Minister Kishida of Japan"
VIRTUAL_BODY = "President Biden met virtually today with Prime Minister Kishida of Japan."
DOMESTIC_TITLE = "Trump to meet congressional leaders on spending"
DOMESTIC_BODY = (
    "President Donald Trump will meet congressional leaders at the White House on Thursday."
)


def test_a_foreign_guest_is_told_from_a_meeting_at_home() -> None:
    abroad = found(READOUT_TITLE, READOUT_BODY)
    assert abroad["foreign_meeting_head"] == 1.0
    assert abroad["head_people_2"] == 1.0
    assert abroad["domestic_meeting_head"] == 0.0
    home = found(DOMESTIC_TITLE, DOMESTIC_BODY)
    assert home["domestic_meeting_head"] == 1.0
    assert home["foreign_meeting_head"] == 0.0
    assert home["head_people_2"] == 0.0


def test_a_video_meeting_is_not_leaders_meeting_in_person() -> None:
    f = found(VIRTUAL_TITLE, VIRTUAL_BODY)
    assert f["remote_meeting_head"] == 1.0
    assert f["phone_lede"] == 1.0  # video counts with the phone: not in person
    assert f["leaders_meet_lede"] == 0.0
    assert found(READOUT_TITLE, READOUT_BODY)["leaders_meet_lede"] == 1.0


def test_a_prime_minister_is_not_a_minister() -> None:
    assert found(READOUT_TITLE, READOUT_BODY)["minister_only_head"] == 0.0
    ministers = found("Foreign ministers meet in Paris", "The ministers met on Monday.")
    assert ministers["minister_only_head"] == 1.0
