"""Story merging on the labelled summit items: fit the evidence model, and score clustering.

    python benchmarks/stories.py train   # seeded; writes bot/stories/model.json
    python benchmarks/stories.py score   # the real replay (SQLite, StorySink) vs event keys

``train`` fits a logistic regression over pair features (bot/stories/evidence.py) and reports
it held out two ways: 5-fold cross-validation grouped by event, and leave-one-file-out (stream,
modern, dev: other outlets and years). The join threshold is chosen by an inner
cross-validation inside each training part, so no held-out figure saw its test items; the
shipped threshold is the same search over all events. CI never retrains: the shipped
model.json is what the bot and the tests use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.models import NewItem
from bot.nlp.extract import Article, Extractor
from bot.stories.cluster import (
    ClusterPolicy,
    Report,
    StoryState,
    assign,
    report_from_item,
    report_terms,
    story_facts,
)
from bot.stories.evidence import FEATURES, Model, features
from bot.stories.replay import ReplayItem, day_clock, in_publication_order, read_items, replay
from bot.stories.scoring import Scores, score
from bot.stories.similarity import lead

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
FILES = ("train/stream.jsonl", "train/modern.jsonl", "dev/dev.jsonl")
MODEL = Path(__file__).resolve().parents[1] / "bot" / "stories" / "model.json"
SEED = 20190828
THRESHOLDS = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
PRIOR_STRENGTH = 5.0  # pull toward the hand-set prior: extracted facts are noisy, data is small
MIN_DF = 8
# What each piece of evidence should weigh before seeing data: agreeing facts for, conflicting
# facts and time apart against. The fit moves these as far as the labelled pairs justify.
PRIOR = {
    "bias": -3.0,
    "text": 4.0,
    "names": 3.0,
    "names_common": 3.0,
    "series_same": 1.0,
    "series_other": -1.5,
    "people": 2.0,
    "people_disjoint": -1.5,
    "city_same": 2.0,
    "city_other": -1.5,
    "country_same": 0.5,
    "country_other": -1.5,
    "dates_overlap": 1.5,
    "dates_apart": -1.0,
    "gap": -2.0,
    "gap_far": -3.0,
    "published_in_dates": 0.5,
    "city_stated_other": -3.0,
    "dates_near": 1.0,
    "headline": 2.0,
    "countries": 0.5,
    "pair_same": 1.0,
    "counterpart_other": -1.0,
    "headline_apart": -2.0,
}


def labelled() -> tuple[list[ReplayItem], dict[str, str], dict[str, str | None]]:
    """Every labelled summit item, its event key and gold city."""
    lines: list[str] = []
    gold: dict[str, str] = {}
    cities: dict[str, str | None] = {}
    for name in FILES:
        path = SHARED / name
        if not path.exists():
            sys.exit(f"{path} is missing: the labelled corpus lives in ../shared/corpus")
        for raw in path.read_text(encoding="utf-8").splitlines():
            data = json.loads(raw)
            if data.get("is_summit"):
                lines.append(raw)
                gold[data["id"]] = data["event"]
                cities[data["id"]] = (data.get("location") or {}).get("city")
    return read_items(lines), gold, cities


def progress(done: int, total: int) -> None:
    print(f"\r  {done}/{total}", end="\n" if done >= total else "", file=sys.stderr)


def analyser() -> Any:
    extractor = Extractor()

    def analyse(articles: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
        return [a.to_json() for a in extractor.analyse([Article(*x) for x in articles])]

    return analyse


def reports(items: list[ReplayItem]) -> list[tuple[str, Report]]:
    """The replay's reports in its order (the same report_from_item the bot uses)."""
    analyse = analyser()
    ordered = in_publication_order(items)
    articles = [(i.id, i.title, i.text, (i.published or c).date()) for i, c in ordered]
    analyses = analyse(articles)
    out = []
    for number, ((item, clock), analysis) in enumerate(zip(ordered, analyses, strict=True), 1):
        new = NewItem(
            id=number,
            feed_id=0,
            feed_title=item.outlet,
            feed_url="replay://",
            link=None,
            title=item.title,
            summary=item.text,
            published=item.published,
            first_seen=day_clock(clock),
            analysis={**analysis, "is_summit": True},
        )
        out.append((item.id, report_from_item(new)))
    return out


def cluster(ordered: list[tuple[str, Report]], model: Model) -> dict[str, object]:
    """The sink's greedy rule in memory (same assign, same horizon) for fast model selection."""
    policy = ClusterPolicy(model=model)
    stories: list[list[Report]] = []
    touched: list[datetime] = []
    result: dict[str, object] = {}
    for item_id, report in ordered:
        since = report.published - policy.horizon
        states = [
            StoryState(k, story_facts(members), tuple(members))
            for k, members in enumerate(stories)
            if touched[k] >= since
        ]
        match = assign(report, states, policy)
        if match is None:
            stories.append([report])
            touched.append(report.published)
            result[item_id] = len(stories) - 1
        else:
            stories[match.story_id].append(report)
            touched[match.story_id] = max(touched[match.story_id], report.published)
            result[item_id] = match.story_id
    return result


def document_frequencies() -> tuple[dict[str, float], float]:
    """IDF of the names in every corpus text (all items, summit or not), frequent ones only."""
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    paths = [*sorted((SHARED / "stream").glob("*.jsonl")), *(SHARED / name for name in FILES)]
    for path in paths:
        for raw in path.read_text(encoding="utf-8").splitlines():
            data = json.loads(raw)
            if data["id"] not in seen:
                seen.add(data["id"])
                counts.update(report_terms(f"{data['title']}\n{lead(data.get('text') or '')}"))
    total = len(seen)
    idf = {t: math.log((total + 1) / (c + 1)) for t, c in counts.items() if c >= MIN_DF}
    return idf, math.log((total + 1) / 2)


def pair_matrix(
    ordered: list[tuple[str, Report]], gold: dict[str, str], model: Model
) -> tuple[Any, ...]:
    """Features, labels, positions and, for same-event pairs, the event of the pairs clustering
    can compare: those published within the horizon.

    Pairs years apart are easy negatives that clustering never sees; fitted on, they teach
    the model that any gap is damning and drown out the evidence among one week's reports.
    """
    horizon = ClusterPolicy(model=model).horizon
    rows, labels, left, right, events = [], [], [], [], []
    for i in range(len(ordered)):
        for j in range(i):
            if abs(ordered[i][1].published - ordered[j][1].published) > horizon:
                continue
            same = gold[ordered[i][0]] == gold[ordered[j][0]]
            rows.append(features(ordered[i][1], ordered[j][1], model))
            labels.append(same)
            left.append(i)
            right.append(j)
            events.append(gold[ordered[i][0]] if same else "")
    matrix = np.array(rows), np.array(labels, dtype=float), np.array(left), np.array(right)
    return (*matrix, np.array(events))


def balanced(events: Any) -> Any:
    """Pair weights: each event's same-event pairs weigh by 1/sqrt(their number).

    Two visits with a dozen reports each give most same-event pairs; unweighted, the fit
    learns those two events, not what makes two reports one meeting. Positives keep their
    total weight; other pairs weigh 1.
    """
    _, index, counts = np.unique(events, return_inverse=True, return_counts=True)
    weight = 1 / np.sqrt(counts[index].astype(float))
    positive = events != ""
    weight[~positive] = 1.0
    if positive.any():
        weight[positive] *= positive.sum() / weight[positive].sum()
    return weight


def fit(x: Any, y: Any, events: Any) -> tuple[float, ...]:
    """Logistic regression with a Gaussian prior at PRIOR, by Newton steps (deterministic)."""
    weight = balanced(events)
    prior = np.array([PRIOR[name] for name in FEATURES])
    w = prior.copy()
    penalty = np.full(x.shape[1], PRIOR_STRENGTH)
    penalty[0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (weight * (p - y)) + penalty * (w - prior)
        hessian = (x * (weight * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-6)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return tuple(float(v) for v in w)


def folds(events: list[str], k: int, seed: int) -> list[set[str]]:
    shuffled = sorted(set(events))
    random.Random(seed).shuffle(shuffled)
    return [set(shuffled[n::k]) for n in range(k)]


def choose(ordered, gold, matrix, train_events, k, seed, idf) -> float:  # type: ignore[no-untyped-def]
    """The threshold that clusters held-out events best, by CV inside ``train_events``."""
    x, y, left, right, events = matrix
    ids = [i for i, _ in ordered]
    totals = dict.fromkeys(THRESHOLDS, 0.0)
    for test in folds(sorted(train_events), k, seed):
        fit_on = {gold[i] for i in ids} & train_events - test
        rows = np.array(
            [
                gold[ids[a]] in fit_on and gold[ids[b]] in fit_on
                for a, b in zip(left, right, strict=True)
            ]
        )
        weights = fit(x[rows], y[rows], events[rows])
        subset = [(i, r) for i, r in ordered if gold[i] in train_events]
        keep = {i for i, _ in subset if gold[i] in test}
        part = {i: gold[i] for i, _ in subset}
        for t in THRESHOLDS:
            s = score(cluster(subset, Model("cv", weights, t, *idf)), part, focus=keep)
            totals[t] += (s.pairwise_f1 + s.b3_f1) / 2
    return max(THRESHOLDS, key=lambda t: (totals[t], -abs(t - 0.5)))


def held_out(
    ordered: list[tuple[str, Report]],
    gold: dict[str, str],
    cities: dict[str, str | None],
    matrix: tuple[Any, ...],
    groups: list[set[str]],
    idf: tuple[dict[str, float], float],
) -> list[tuple[float, Scores]]:
    """Per group of test items: the inner-CV threshold and the scores of its items."""
    x, y, left, right, events = matrix
    ids = [i for i, _ in ordered]
    out = []
    for test in groups:
        train_ids = set(ids) - test
        rows = np.array(
            [ids[a] in train_ids and ids[b] in train_ids for a, b in zip(left, right, strict=True)]
        )
        weights = fit(x[rows], y[rows], events[rows])
        threshold = choose(ordered, gold, matrix, {gold[i] for i in train_ids}, 5, SEED, idf)
        model = Model("cv", weights, threshold, *idf)
        out.append((threshold, score(cluster(ordered, model), gold, cities, test)))
        print(f"  held-out part {len(out)}/{len(groups)} done", file=sys.stderr)
    return out


def summarise(label: str, results: list[tuple[float, Scores]]) -> None:
    """Mean held-out figures, pairwise figures pooled over the parts, and the thresholds.

    A part with a handful of same-event pairs swings the mean of F1s; pooling the pairs
    of all parts weighs each pair once.
    """
    print(f"{label}: thresholds {[t for t, _ in results]}")
    for name in ("pairwise_precision", "pairwise_recall", "pairwise_f1", "b3_f1"):
        values = [getattr(s, name) for _, s in results]
        rounded = [round(v, 3) for v in values]
        print(f"  {name}: mean {sum(values) / len(values):.3f} over parts {rounded}")
    correct = sum(s.pairs_correct for _, s in results)
    precision = correct / max(sum(s.pairs_predicted for _, s in results), 1)
    recall = correct / max(sum(s.pairs_gold for _, s in results), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"  pairwise pooled over parts: P/R/F1 {precision:.3f} / {recall:.3f} / {f1:.3f}")
    print(f"  largest splits {[s.largest_split for _, s in results]}")


def sources() -> dict[str, str]:
    """Which corpus file each labelled summit item comes from."""
    found = {}
    for name in FILES:
        for raw in (SHARED / name).read_text(encoding="utf-8").splitlines():
            data = json.loads(raw)
            if data.get("is_summit"):
                found[data["id"]] = name
    return found


def train() -> None:
    items, gold, cities = labelled()
    started = time.perf_counter()
    print(f"extracting {len(items)} labelled summit items…", file=sys.stderr)
    ordered = reports(items)
    idf = document_frequencies()
    matrix = pair_matrix(ordered, gold, Model("idf", (), 0.5, *idf))
    x, y, _, _, events = matrix
    ids = [i for i, _ in ordered]
    by_event = [{i for i in ids if gold[i] in part} for part in folds(list(gold.values()), 5, SEED)]
    origin = sources()
    by_file = [{i for i in ids if origin[i] == name} for name in FILES]
    event_results = held_out(ordered, gold, cities, matrix, by_event, idf)
    file_results = held_out(ordered, gold, cities, matrix, by_file, idf)
    threshold = choose(ordered, gold, matrix, set(gold.values()), 5, SEED, idf)
    model = Model(f"lr-prior-{datetime.now(UTC):%Y%m%d}", fit(x, y, events), threshold, *idf)
    prior = score(cluster(ordered, Model("prior", tuple(PRIOR.values()), threshold, *idf)), gold)
    in_sample = score(cluster(ordered, model), gold, cities)
    MODEL.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    print(f"pairs {len(y)} (same event {int(y.sum())}); CV threshold over all events {threshold}")
    summarise("held out by event (5 folds)", event_results)
    summarise(f"held out by file ({', '.join(FILES)})", file_results)
    print(in_sample.render(f"in-sample (final model, threshold {threshold})"))
    print(f"prior alone: pairwise F1 {prior.pairwise_f1:.3f}, B³ F1 {prior.b3_f1:.3f}")
    for name, w in zip(FEATURES, model.weights, strict=True):
        print(f"  {name:<20} {w:+.3f}")
    print(f"wrote {MODEL} in {time.perf_counter() - started:.0f} s")


def replay_scores(assume: bool) -> tuple[Scores, list[dict[str, Any]]]:
    items, gold, cities = labelled()
    lines, _ = asyncio.run(replay(items, analyser(), assume_summit=assume, progress=progress))
    predicted = {line["id"]: line["story"] for line in lines}
    return score(predicted, gold, cities), lines


def run_score() -> None:
    started = time.perf_counter()
    end_to_end, lines = replay_scores(False)
    detected = {line["id"] for line in lines if line["story"] is not None}
    merging, _ = replay_scores(True)
    _, gold, cities = labelled()
    detected_gold = {i: gold[i] for i in detected}
    only_detected = score({line["id"]: line["story"] for line in lines}, detected_gold, cities)
    print(end_to_end.render("end to end (extractor's verdict; a missed item is a story alone)"))
    print(only_detected.render(f"items the extractor detected ({len(detected)})"))
    print(merging.render("merging alone (--assume-summit: every labelled item filed)"))
    print(f"took {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("train", "score"))
    args = parser.parse_args()
    train() if args.command == "train" else run_score()


if __name__ == "__main__":
    main()
