"""Weighed evidence: no single conflicting fact vetoes a match; the shipped model is sane."""

from __future__ import annotations

import pytest

from bot.stories.cluster import Report, assign, best_match
from bot.stories.evidence import FEATURES, Model, features, shipped_model, stated_city
from tests.stories.helpers import KIM, MOON, PUTIN, TRUMP, analysis, day
from tests.stories.test_cluster import report, story

BIDEN = {"name": "Joe Biden", "country": "United States"}
ABBAS = {"name": "Mahmoud Abbas"}
HAMAD = {"name": "Hamad bin Isa Al Khalifa", "country": "Bahrain"}
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


def _value(a: Report, b: Report, name: str) -> float:
    return features(a, b)[FEATURES.index(name)]


def test_a_city_counts_as_stated_only_when_the_headline_or_lead_names_it() -> None:
    named = report(analysis(city="Hanoi"), day("2019-02-25"), "Trump lands in Hanoi")
    in_lead = report(analysis(city="Da Nang"), day("2019-02-25"), "Trump lands", "He is in Danang.")
    inferred = report(analysis(city="Singapore"), day("2019-02-25"), PREVIEW)
    assert stated_city(named) == "hanoi"
    assert stated_city(in_lead) == "danang"
    assert stated_city(inferred) is None
    assert _value(named, in_lead, "city_stated_other") == 1.0
    assert _value(named, inferred, "city_stated_other") == 0.0


def test_meeting_dates_count_by_how_close_they_are() -> None:
    first = report(analysis(start="2019-02-27"), day("2019-02-20"))
    same = report(analysis(start="2019-02-27"), day("2019-02-21"))
    week = report(analysis(start="2019-03-06"), day("2019-02-21"))
    month = report(analysis(start="2019-03-30"), day("2019-02-21"))
    undated = report(analysis(), day("2019-02-21"))
    assert _value(first, same, "dates_near") == 1.0
    assert _value(first, week, "dates_near") == pytest.approx(0.5)
    assert _value(first, month, "dates_near") == 0.0
    assert _value(first, undated, "dates_near") == 0.0


def test_headline_names_and_participant_countries_are_compared() -> None:
    a = report(analysis(TRUMP, KIM), day("2019-02-25"), "Kim arrives in Hanoi")
    b = report(analysis(KIM, MOON), day("2019-02-25"), "Kim leaves Hanoi")
    c = report(analysis(PUTIN), day("2019-02-25"), "Putin in Moscow")
    assert _value(a, b, "headline") == 1.0
    assert _value(a, c, "headline") == 0.0
    assert _value(a, b, "countries") == 0.5
    assert _value(a, c, "countries") == 0.0


def test_a_name_shared_by_every_headline_is_little_agreement() -> None:
    model = shipped_model()
    a = report(analysis(TRUMP), day("2019-06-05"), "Trump turns sour")
    b = report(analysis(TRUMP), day("2019-06-05"), "Why young royals snubbed Trump")
    shared = features(a, b, model)[FEATURES.index("headline")]
    assert 0.0 < shared < 0.5, "Trump alone is common: it cannot make two headlines one"


def test_headlines_naming_different_counterparts_are_apart() -> None:
    model = shipped_model()
    abbas = report(
        analysis(BIDEN, ABBAS), day("2022-07-15"), "Readout of President Biden's Meeting with Abbas"
    )
    hamad = report(
        analysis(BIDEN, HAMAD), day("2022-07-16"), "Readout of President Biden's Meeting with Hamad"
    )
    vague = report(analysis(BIDEN), day("2022-07-16"), "Readout of President Biden's Meeting")
    assert features(abbas, hamad, model)[FEATURES.index("headline_apart")] > 0.5
    assert features(abbas, vague, model)[FEATURES.index("headline_apart")] == 0.0


def test_a_headline_name_the_other_report_states_as_a_fact_is_explained() -> None:
    model = shipped_model()
    preview = report(analysis(TRUMP, KIM, city="Hanoi"), day("2019-02-25"), "Kim to meet in Hanoi")
    arrival = report(
        analysis(KIM, TRUMP, city="Hanoi"),
        day("2019-02-26"),
        "North Korean leader arrives by train",
    )
    assert features(preview, arrival, model)[FEATURES.index("headline_apart")] == 0.0
