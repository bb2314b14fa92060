"""Weighed evidence: no single conflicting fact vetoes a match; the shipped model is sane."""

from __future__ import annotations

import pytest

from bot.stories.cluster import assign, best_match
from bot.stories.evidence import FEATURES, Model, features, shipped_model
from tests.stories.helpers import KIM, TRUMP, analysis, day
from tests.stories.test_cluster import report, story

PREVIEW = "Trump and Kim Jong-un to hold second summit in Hanoi, Vietnam on Wednesday"


def test_a_wrong_city_alone_does_not_split_a_near_duplicate_report() -> None:
    first = story(
        1,
        report(analysis(TRUMP, KIM, city="Hanoi", start="2019-02-27"), day("2019-02-25"), PREVIEW),
    )
    wrong = report(
        analysis(TRUMP, KIM, city="Singapore", start="2019-02-27"),
        day("2019-02-25T06:00"),
        PREVIEW + ", officials said",
    )
    assert features(wrong, first.reports[0])[FEATURES.index("city_other")] == 1.0
    match = assign(wrong, [first])
    assert match is not None, "the conflicting city is weighed, not a veto"


def test_the_same_leaders_a_year_apart_elsewhere_stay_apart() -> None:
    singapore = story(
        1,
        report(
            analysis(TRUMP, KIM, city="Singapore", start="2018-06-12"),
            day("2018-06-10"),
            "Trump and Kim to meet in Singapore",
        ),
    )
    hanoi = report(
        analysis(TRUMP, KIM, city="Hanoi", start="2019-02-27"), day("2019-02-25"), PREVIEW
    )
    assert assign(hanoi, [singapore]) is None
    near = best_match(hanoi, [singapore])
    assert near is not None
    assert near.reasons[0].startswith("p=")


def test_each_feature_moves_the_probability_the_way_its_sign_says() -> None:
    model = shipped_model()
    base = features(report(analysis(), day("2019-02-25")), report(analysis(), day("2019-02-25")))
    p = model.probability(base)
    for index, name in enumerate(FEATURES[1:], 1):
        raised = list(base)
        raised[index] += 1.0
        moved = model.probability(tuple(raised))
        assert (moved > p) == (model.weights[index] > 0), name


def test_a_model_fitted_on_other_features_is_refused() -> None:
    data = shipped_model().to_json()
    data["features"] = [*data["features"][:-1], "something_else"]
    with pytest.raises(ValueError, match="re-run the training"):
        Model.from_json(data)


def test_the_shipped_model_round_trips_with_its_name_rarities() -> None:
    model = shipped_model()
    assert model.idf, "model.json carries the names' IDF"
    assert model.idf["trump"] < model.rare_idf
    assert Model.from_json(model.to_json()).idf == {k: round(v, 3) for k, v in model.idf.items()}
