"""Training and cross-validation on a small labelled set of our own (real pipeline, no corpus)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.nlp import learn
from bot.nlp.summit import load_model

LEADERS = [
    ("President Anna Berg", "Prime Minister Carl Dahl", "Oslo"),
    ("President Lee Min", "Prime Minister Ito Ken", "Busan"),
    ("Chancellor Eva Roth", "President Paul Marc", "Berlin"),
    ("King Omar Hadi", "President Luis Vega", "Madrid"),
    ("Prime Minister Rui Sato", "President Ada Kova", "Hanoi"),
    ("President Ivan Petrov", "Prime Minister Jan Nowak", "Warsaw"),
]
OTHER = [
    ("Singer tops the summit of the charts", "The album climbed to the summit of the charts."),
    ("Climbers reach the summit", "The team reached the summit of the mountain on Monday."),
    ("Finance ministers meet", "Finance ministers met in Rome to discuss budgets and taxes."),
    ("Tech summit opens", "Hundreds of developers gathered at the Web Summit conference."),
    ("Council approves budget", "The city council approved the school budget on Tuesday."),
    ("Storm hits coast", "A storm brought heavy rain to the coast, officials said."),
]


def labelled() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n, (a, b, city) in enumerate(LEADERS):
        rows.append(
            {
                "id": f"s{n}",
                "source": "CNN" if n % 2 else "BBC",
                "title": f"{a.split()[-1]} and {b.split()[-1]} hold summit in {city}",
                "text": f"{a} met {b} for a summit in {city} on Monday. The leaders held talks.",
                "published": "2019-02-26",
                "is_summit": True,
                "participants": [" ".join(a.split()[-2:]), " ".join(b.split()[-2:])],
                "location": {"city": city, "country": None, "venue": None},
                "status": "concluded",
            }
        )
    for n, (title, text) in enumerate(OTHER):
        rows.append(
            {
                "id": f"n{n}",
                "source": "CNN" if n % 2 else "BBC",
                "title": title,
                "text": text,
                "published": "2019-02-26",
                "is_summit": False,
                "hard": True,
            }
        )
    return rows


@pytest.fixture(scope="module")
def parsed() -> list[learn.Parsed]:
    return learn.parse_rows(labelled(), cache_dir=None)


def test_a_cached_parse_gives_the_same_features(tmp_path: Path, parsed: list[learn.Parsed]) -> None:
    rows = labelled()
    first = learn.parse_rows(rows, cache_dir=tmp_path)
    assert list(tmp_path.glob("*.spacy"))
    again = learn.parse_rows(rows, cache_dir=tmp_path)
    names, fresh = learn.feature_matrix(rows, parsed)
    for docs in (first, again):
        assert learn.feature_matrix(rows, docs) == (names, pytest.approx(fresh))
    changed = [dict(rows[0], text="A different story."), *rows[1:]]
    learn.parse_rows(changed, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.spacy"))) == 2  # other texts, other key


def test_training_is_seeded_and_separates_the_fixture(parsed: list[learn.Parsed]) -> None:
    rows = labelled()
    one = learn.train_summit(rows, parsed, seed=5)
    assert one == learn.train_summit(rows, parsed, seed=5)
    model = learn.SummitModel.from_json(one)
    names, x = learn.feature_matrix(rows, parsed)
    assert list(model.names) == names
    z = model.intercept + ((x - np.array(model.mean)) / np.array(model.scale)) @ np.array(
        model.coef
    )
    assert ((z > 0) == np.array([r["is_summit"] for r in rows])).all()


def test_training_needs_both_classes(parsed: list[learn.Parsed]) -> None:
    rows = labelled()[:6]
    with pytest.raises(ValueError, match="both"):
        learn.train_summit(rows, parsed[:6])


def test_cross_validation_tables(parsed: list[learn.Parsed]) -> None:
    rows = labelled()
    results = learn.cross_validate(rows, parsed, schemes=("source",))
    assert [r.name for r in results] == ["without CNN", "without BBC"]
    assert all(r.all_items.items == 6 for r in results)
    table = learn.render_results(results)
    assert "leave one source out — all items" in table
    assert "without borderline" in table
    assert "hardFP" in table


def test_newsbot_train_writes_a_loadable_model(tmp_path: Path) -> None:
    data = tmp_path / "labelled.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in labelled()) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["train", str(data), "--out", str(tmp_path / "models"), "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    model = load_model(tmp_path / "models" / "summit.json")
    assert model.meta["trained_on"] == sum(learn.gate_passes(r) for r in labelled())


def test_newsbot_train_explains_a_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", str(tmp_path / "nope.jsonl"), "--no-cache"])
    assert result.exit_code != 0
    assert "not found" in result.output


def test_features_are_centred_not_scaled(parsed: list[learn.Parsed]) -> None:
    # A feature seen in a few training rows must not weigh more on new data for being rare.
    model = learn.SummitModel.from_json(learn.train_summit(labelled(), parsed, seed=5))
    assert set(model.scale) == {1.0}
    assert model.meta["C"] in learn._C_GRID
