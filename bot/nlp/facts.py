"""A story's facts read by learned scorers over rule-proposed candidates.

Rules and NER propose candidates with high recall (people, places, date expressions, status
cues); small logistic models trained on the labelled corpora rank them, and each fact abstains
below a threshold chosen on held-out parts of the training data, because a wrong city or leader
is worse than none. The model is a few hundred numbers in ``models/facts.json``.
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from spacy.tokens import Doc

from bot.nlp import cues
from bot.nlp.dates import DateCandidate, date_candidates, end_of, resolve_dates
from bot.nlp.location import Location, PlaceCandidate, find_location, find_venue, place_candidates
from bot.nlp.participants import (
    Participant,
    Person,
    canonical_name,
    participant_features,
    participants,
    people,
    possessive_leaders,
    same_leader,
)
from bot.nlp.status import STATUS_CLASSES, Status, classify_status, status_features

log = logging.getLogger(__name__)
T = TypeVar("T")

VERSION = 1
MODEL_PATH = Path(__file__).resolve().parent / "models" / "facts.json"
Row = Mapping[str, Any]
Features = Mapping[str, float]
_FOLDS = 3
_L2 = 8.0


@dataclass(frozen=True)
class Facts:
    """Who meets, where, when and in what state; unknown facts are empty."""

    participants: tuple[Participant, ...] = ()
    location: Location = field(default_factory=Location)
    start_date: date | None = None
    end_date: date | None = None
    status: Status | None = None


@dataclass(frozen=True)
class Logit:
    """L2-regularised logistic regression over named features, standardised."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def prob(self, features: Features) -> float:
        """The probability that a candidate with these features is the right one."""
        z = self.bias
        for name, mu, sd, w in zip(self.names, self.mean, self.scale, self.weights, strict=True):
            z += w * (features.get(name, 0.0) - mu) / sd
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict[str, Any]:
        """Weights by feature name, rounded: the file stays small and diffs stay readable."""
        return {
            "bias": round(self.bias, 6),
            "features": {
                n: [round(m, 6), round(s, 6), round(w, 6)]
                for n, m, s, w in zip(self.names, self.mean, self.scale, self.weights, strict=True)
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Logit:
        """The model ``to_json`` wrote."""
        feats: dict[str, list[float]] = dict(data["features"])
        names = tuple(feats)
        return cls(
            names,
            tuple(float(feats[n][0]) for n in names),
            tuple(float(feats[n][1]) for n in names),
            tuple(float(feats[n][2]) for n in names),
            float(data["bias"]),
        )


def fit_logit(samples: Sequence[Features], labels: Sequence[bool], l2: float = _L2) -> Logit:
    """Newton's method on the penalised log-likelihood: deterministic, a few iterations."""
    names = tuple(sorted({n for s in samples for n in s}))
    x = np.array([[s.get(n, 0.0) for n in names] for s in samples], dtype=float)
    y = np.array(labels, dtype=float)
    if not names or not len(samples):
        return Logit(names, (0.0,) * len(names), (1.0,) * len(names), (0.0,) * len(names), -3.0)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 1e-6
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -30, 30)))
        grad = z.T @ (p - y) + penalty * beta
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return Logit(
        names,
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in beta[1:]),
        float(beta[0]),
    )


@dataclass(frozen=True)
class FactModel:
    """The learned scorers of every fact and their abstain thresholds."""

    participant: Logit
    participant_threshold: float
    city: Logit
    city_threshold: float
    country: Logit
    country_threshold: float
    start: Logit
    start_threshold: float
    status: dict[str, Logit]
    start_falls_back: bool = False
    version: int = VERSION
    trained_on: int = 0

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: loadable with nothing but this module."""
        return {
            "version": self.version,
            "trained_on": self.trained_on,
            "participant": self.participant.to_json(),
            "participant_threshold": round(self.participant_threshold, 6),
            "city": self.city.to_json(),
            "city_threshold": round(self.city_threshold, 6),
            "country": self.country.to_json(),
            "country_threshold": round(self.country_threshold, 6),
            "start": self.start.to_json(),
            "start_threshold": round(self.start_threshold, 6),
            "start_falls_back": self.start_falls_back,
            "status": {k: v.to_json() for k, v in sorted(self.status.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FactModel:
        """The model ``to_json`` wrote; ValueError for another version."""
        if data.get("version") != VERSION:
            raise ValueError(f"fact model version {data.get('version')!r}, expected {VERSION}")
        return cls(
            participant=Logit.from_json(data["participant"]),
            participant_threshold=float(data["participant_threshold"]),
            city=Logit.from_json(data["city"]),
            city_threshold=float(data["city_threshold"]),
            country=Logit.from_json(data["country"]),
            country_threshold=float(data["country_threshold"]),
            start=Logit.from_json(data["start"]),
            start_threshold=float(data["start_threshold"]),
            start_falls_back=bool(data["start_falls_back"]),
            status={k: Logit.from_json(v) for k, v in data["status"].items()},
            trained_on=int(data.get("trained_on", 0)),
        )

    def save(self, path: Path) -> None:
        """Write the model as indented, key-sorted JSON (reproducible bytes)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n", "utf-8")


def load_model(path: Path = MODEL_PATH) -> FactModel:
    """The shipped model (or another file ``FactModel.save`` wrote)."""
    return FactModel.from_json(json.loads(path.read_text(encoding="utf-8")))


# --- candidates of one article -------------------------------------------------------------


@dataclass(frozen=True)
class _Candidates:
    """Everything the scorers choose from in one article, computed once."""

    persons: list[tuple[Person, dict[str, float]]]
    cities: list[PlaceCandidate]
    countries: list[PlaceCandidate]
    dates: list[DateCandidate]
    status: dict[str, float]
    published: date | None
    doc: Doc
    sents: list[cues.Sentence]


def _candidates(article: Any, title_doc: Doc, doc: Doc) -> _Candidates:
    title_doc.user_data["newsbot_is_title"] = True
    sents = [*cues.sentences(title_doc, in_title=True), *cues.sentences(doc)]
    persons = people(doc, title_doc, article.published)
    possessive_leaders(persons)
    cities, countries = place_candidates(sents, article.text, persons)
    found_dates = date_candidates(doc, article.published) if article.published else []
    # Today's rules are evidence too: each candidate knows whether the rules would pick it.
    where = find_location(sents, article.text)
    for c in cities:
        c.features["rule_pick"] = float(c.city == where.city)
    for c in countries:
        c.features["rule_pick"] = float(c.country == where.country)
    ruled = {p.name for p in participants(persons, sents, where.city, where.country)}
    scored = participant_features(persons, sents, article.published)
    for p, feats in scored:
        feats["rule_pick"] = float(p.name in ruled)
    rule_start, rule_end = resolve_dates(doc, article.published)
    for d in found_dates:
        d.features["rule_pick"] = float(d.start == rule_start)
    # The rules' start date, in training as at reading, so the classifier sees one kind of date.
    status = _with_start(
        status_features(doc, title_doc, article.published), rule_start, article.published
    )
    status[f"rule_{classify_status(doc, article.published, rule_start, rule_end)}"] = 1.0
    return _Candidates(
        persons=scored,
        cities=cities,
        countries=countries,
        dates=found_dates,
        status=status,
        published=article.published,
        doc=doc,
        sents=sents,
    )


def _with_start(
    feats: Mapping[str, float], start: date | None, published: date | None
) -> dict[str, float]:
    out = dict(feats)
    if start is not None and published is not None:
        days = (start - published).days
        out["start_future"] = float(days > 0)
        out["start_past"] = float(days < 0)
        out["start_today"] = float(days == 0)
        out["start_days"] = max(-10.0, min(10.0, float(days)))
    else:
        out["start_unknown"] = 1.0
    return out


def _pick(model: Logit, threshold: float, options: Sequence[tuple[T, Features]]) -> T | None:
    best: tuple[float, T] | None = None
    for value, feats in options:
        p = model.prob(feats)
        if best is None or p > best[0]:
            best = (p, value)
    return best[1] if best is not None and best[0] >= threshold else None


def read_facts(article: Any, title_doc: Doc, doc: Doc, model: FactModel) -> Facts:
    """The facts of one summit story; a fact that fails is left empty and logged."""
    found = _safe(article, "candidates", None, _candidates, article, title_doc, doc)
    if found is None:
        return Facts()
    chosen = _chosen(found, model)
    location = _safe(article, "location", Location(), _location, found, model)
    start = _pick(model.start, model.start_threshold, [(c, c.features) for c in found.dates])
    if start is None and model.start_falls_back:
        start = next((c for c in found.dates if c.features.get("rule_pick")), None)
    start_date = start.start if start else None
    end_date = _safe(article, "end date", None, end_of, start) if start else None
    status = _safe(article, "status", None, _status, found, model)
    return Facts(tuple(chosen), location, start_date, end_date, status)


def _chosen(found: _Candidates, model: FactModel) -> list[Participant]:
    """Persons above the cut in order of first mention, canonically spelt, each once."""
    out: list[Participant] = []
    for person, feats in found.persons:
        if model.participant.prob(feats) < model.participant_threshold:
            continue
        name = canonical_name(person.name, found.published)
        same = [o for o in out if _name_key(name) == _name_key(o.name) or same_leader(name, o.name)]
        if same:
            # A cut-off name ("Luiz Inácio Lula da") joins its full form.
            if len(name) > len(same[0].name):
                out[out.index(same[0])] = Participant(name, person.title, person.country)
            continue
        out.append(Participant(name, person.title, person.country))
    return out


def _location(found: _Candidates, model: FactModel) -> Location:
    city = _pick(model.city, model.city_threshold, [(c, c.features) for c in found.cities])
    if city is not None:
        venue, sure = find_venue(found.sents, city.city)
        venue = venue or city.venue
        venue = venue[4:] if venue and venue.lower().startswith("the ") else venue
        return Location(city.city, city.country, venue, sure)
    country = _pick(
        model.country, model.country_threshold, [(c, c.features) for c in found.countries]
    )
    return Location(None, country.country, None, None) if country else Location()


def _status(found: _Candidates, model: FactModel) -> Status | None:
    feats = found.status
    for forced in ("cancelled", "postponed"):
        if feats.get(forced):
            return forced
    evidence = any(v for k, v in feats.items() if k.startswith(("cue_", "lead_", "title_")))
    if not evidence and feats.get("start_unknown"):
        return None  # nothing says when: a reader cannot tell either
    return max(STATUS_CLASSES, key=lambda k: model.status[k].prob(feats))


def _safe(article: Any, name: str, empty: T, read: Callable[..., T], *args: Any) -> T:
    try:
        return read(*args)
    except Exception:  # one bad fact must not cost the others
        log.exception("reading %s failed for article %r", name, getattr(article, "id", "?"))
        return empty


def rule_facts(article: Any, title_doc: Doc, doc: Doc) -> Facts:
    """Today's hand-written rules, for comparison with the learned readers."""
    title_doc.user_data["newsbot_is_title"] = True
    sents = [*cues.sentences(title_doc, in_title=True), *cues.sentences(doc)]
    persons = people(doc, title_doc, article.published)
    possessive_leaders(persons)
    where = find_location(sents, article.text)
    leaders = participants(persons, sents, where.city, where.country)
    start, end = resolve_dates(doc, article.published)
    status = classify_status(doc, article.published, start, end)
    return Facts(tuple(leaders), where, start, end, status)


# --- training ------------------------------------------------------------------------------


def gold_city(row: Row) -> str | None:
    """The gold city, the part before a comma ("Washington, D.C." is Washington)."""
    city = (row.get("location") or {}).get("city")
    return str(city).split(",")[0].strip() if city else None


def _name_key(name: str) -> str:
    return " ".join(name.replace("-", " ").replace(".", " ").lower().split())


@dataclass
class _Example:
    """One gold summit row's candidates with their labels."""

    persons: list[tuple[dict[str, float], bool]]
    cities: list[tuple[dict[str, float], bool]]
    countries: list[tuple[dict[str, float], bool]]
    dates: list[tuple[dict[str, float], bool]]
    status_feats: dict[str, float]
    status: str | None
    gold_city: str | None
    gold_country: str | None
    gold_start: bool
    gold_names: int


# Candidates of a parse, kept while that parse lives: cross-validation trains on each row often.
_SEEN: dict[int, tuple[Doc, str, _Example]] = {}


def _example(row: Row, title_doc: Doc, doc: Doc) -> _Example:
    key = json.dumps([row.get(k) for k in ("id", "published", "participants", "location",
                                            "start_date", "status")], sort_keys=True)  # fmt: skip
    seen = _SEEN.get(id(doc))
    if seen is not None and seen[0] is doc and seen[1] == key:
        return seen[2]
    example = _build_example(row, title_doc, doc)
    _SEEN[id(doc)] = (doc, key, example)
    return example


def _build_example(row: Row, title_doc: Doc, doc: Doc) -> _Example:
    # evaluate imports the extractor, which may import this module: import at call time.
    from bot.nlp.evaluate import article_of  # noqa: PLC0415

    article = article_of(dict(row))
    found = _candidates(article, title_doc, doc)
    names = {_name_key(n) for n in row.get("participants") or []}
    city = gold_city(row)
    country = (row.get("location") or {}).get("country") or None
    start = row.get("start_date") or None
    start_day = date.fromisoformat(start) if start else None
    return _Example(
        persons=[
            (f, _name_key(canonical_name(p.name, article.published)) in names)
            for p, f in found.persons
        ],
        cities=[(c.features, c.city == city) for c in found.cities],
        countries=[(c.features, c.country == country) for c in found.countries],
        dates=[(c.features, c.start == start_day) for c in found.dates],
        status_feats=found.status,
        status=row.get("status") or None,
        gold_city=city,
        gold_country=country,
        gold_start=start is not None,
        gold_names=len(names),
    )


def _fit(lists: Sequence[list[tuple[dict[str, float], bool]]]) -> Logit:
    return fit_logit([f for c in lists for f, _ in c], [y for c in lists for _, y in c])


def _pick_threshold(scored: Sequence[tuple[list[tuple[float, bool]], bool]]) -> float:
    """The cut that maximises accuracy of "best candidate, or nothing" over held-out articles.

    Each item is (candidates' probabilities and correctness, whether gold has a value).
    """
    best_cut, best_right = 0.5, -1
    for cut in [i / 100 for i in range(5, 96)]:
        right = 0
        for cands, has_gold in scored:
            top = max(cands, default=None)
            if top is None or top[0] < cut:
                right += not has_gold
            else:
                right += top[1]
        if right > best_right:
            best_cut, best_right = cut, right
    return best_cut


def _falls_back(scored: Sequence[tuple[list[tuple[float, bool, bool]], bool]], cut: float) -> bool:
    """Whether, below the cut, the rules' own pick beats abstaining on held-out articles."""
    gain = 0
    for cands, has_gold in scored:
        top = max(cands, default=None)
        if top is None or top[0] >= cut:
            continue
        ruled = [right for _, right, pick in cands if pick]
        if ruled:
            gain += int(ruled[0]) - int(not has_gold)
    return gain > 0


def _pick_set_threshold(scored: Sequence[tuple[list[tuple[float, bool]], int]]) -> float:
    """The cut that maximises micro F1 of the chosen sets over held-out articles."""
    best_cut, best_f1 = 0.5, -1.0
    for cut in [i / 100 for i in range(5, 96)]:
        tp = fp = fn = 0
        for cands, gold_n in scored:
            hits = sum(y for p, y in cands if p >= cut)
            tp += hits
            fp += sum(not y for p, y in cands if p >= cut)
            fn += gold_n - hits
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best_f1:
            best_cut, best_f1 = cut, f1
    return best_cut


def train_facts(
    rows: Sequence[Row], parsed: Sequence[tuple[Doc, Doc]], seed: int = 13
) -> FactModel:
    """Fit every scorer on the gold summit rows; thresholds come from inner held-out folds."""
    examples = [
        _example(row, title_doc, doc)
        for row, (title_doc, doc) in zip(rows, parsed, strict=True)
        if row.get("is_summit")
    ]
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    folds = [order[k::_FOLDS] for k in range(_FOLDS)]
    held: dict[str, list[Any]] = {"person": [], "city": [], "country": [], "start": []}
    for fold in folds:
        inside = set(fold)
        train = [e for i, e in enumerate(examples) if i not in inside]
        test = [examples[i] for i in fold]
        models = {
            "person": _fit([e.persons for e in train]),
            "city": _fit([e.cities for e in train]),
            "country": _fit([e.countries for e in train]),
            "start": _fit([e.dates for e in train]),
        }
        for e in test:
            held["person"].append(
                ([(models["person"].prob(f), y) for f, y in e.persons], e.gold_names)
            )
            held["city"].append(
                ([(models["city"].prob(f), y) for f, y in e.cities], e.gold_city is not None)
            )
            # Country is asked only when no city was chosen; train its cut on city-less gold too.
            held["country"].append(
                (
                    [(models["country"].prob(f), y) for f, y in e.countries],
                    e.gold_country is not None,
                )
            )
            held["start"].append(
                (
                    [(models["start"].prob(f), y, bool(f.get("rule_pick"))) for f, y in e.dates],
                    e.gold_start,
                )
            )
    statuses = [e for e in examples if e.status in STATUS_CLASSES]
    start_cut = _pick_threshold([([(p, y) for p, y, _ in c], g) for c, g in held["start"]])
    return FactModel(
        participant=_fit([e.persons for e in examples]),
        participant_threshold=_pick_set_threshold(held["person"]),
        city=_fit([e.cities for e in examples]),
        city_threshold=_pick_threshold(held["city"]),
        country=_fit([e.countries for e in examples]),
        country_threshold=_pick_threshold(held["country"]),
        start=_fit([e.dates for e in examples]),
        start_threshold=start_cut,
        start_falls_back=_falls_back(held["start"], start_cut),
        status={
            k: fit_logit([e.status_feats for e in statuses], [e.status == k for e in statuses])
            for k in STATUS_CLASSES
        },
        trained_on=len(examples),
    )
