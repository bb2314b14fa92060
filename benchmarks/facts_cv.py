"""Cross-validated scores of the learned fact readers against today's rules.

Usage: python benchmarks/facts_cv.py [--corpus DIR] [--cache DIR] [--write-model] [--misses]

Parses the labelled items (train/*.jsonl and dev/dev.jsonl) once with the extractor's own
pipeline (title and ``extract.trim(text)``) and caches the parses outside the repository. Then,
for 5 folds grouped by meeting, every leave-one-source-out split and old → modern, trains
``train_facts`` on the train part only and scores ``read_facts`` on the test part's gold summit
items with ``evaluate.score_rows`` (all items, then without ``borderline`` ones). Today's rules
are scored on the same items. Both sides read facts as if the story were detected, so the table
measures the facts alone. ``--write-model`` rebuilds ``bot/nlp/models/facts.json`` from every
labelled item (seeded). Progress goes to stderr, tables to stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from spacy.tokens import Doc, DocBin

from bot.nlp import corpus, lexicon
from bot.nlp.evaluate import EvalReport, article_of, score_rows
from bot.nlp.extract import Analysis, trim
from bot.nlp.facts import (
    MODEL_PATH,
    Facts,
    gold_city,
    read_facts,
    rule_facts,
    train_facts,
)
from bot.nlp.pipeline import DEFAULT_MODEL, load_pipeline

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT_CACHE = Path.home() / ".cache" / "newsbot" / "facts_cv"
Parsed = tuple[Doc, Doc]


def labelled_paths(base: Path) -> list[Path]:
    """The labelled files: train/*.jsonl, then dev/dev.jsonl."""
    return [*sorted((base / "train").glob("*.jsonl")), base / "dev" / "dev.jsonl"]


def _fingerprint(rows: Sequence[corpus.Row]) -> str:
    digest = hashlib.sha256(DEFAULT_MODEL.encode())
    for name in ("components.py", "lexicon.py", "pipeline.py", "extract.py"):
        digest.update((ROOT / "bot" / "nlp" / name).read_bytes())
    for row in rows:
        digest.update(str(row.get("id")).encode())
        digest.update(str(row.get("title")).encode())
        digest.update(str(row.get("text")).encode())
    return digest.hexdigest()[:16]


def parse(rows: Sequence[corpus.Row], cache: Path) -> list[Parsed]:
    """(title doc, trimmed body doc) per row, from the cache when the inputs are unchanged."""
    nlp = load_pipeline()
    path = cache / f"docs-{_fingerprint(rows)}.spacy"
    if path.exists():
        print(f"parses from {path}", file=sys.stderr)
        docs = list(DocBin().from_disk(path).get_docs(nlp.vocab))
    else:
        texts = [t for row in rows for t in (str(row.get("title") or ""), trim(row["text"]))]
        docs = []
        began = time.perf_counter()
        for doc in nlp.pipe(texts, batch_size=32):
            docs.append(doc)
            if len(docs) % 100 == 0:
                rate = len(docs) / (time.perf_counter() - began)
                print(f"  parsed {len(docs)}/{len(texts)} ({rate:.0f} docs/s)", file=sys.stderr)
        cache.mkdir(parents=True, exist_ok=True)
        DocBin(store_user_data=True, docs=docs).to_disk(path)
        print(f"parses cached in {path}", file=sys.stderr)
    return [(docs[2 * i], docs[2 * i + 1]) for i in range(len(rows))]


def _fold_city(row: corpus.Row) -> corpus.Row:
    """The corpus README's city rule, which score_rows lacks: "Washington, D.C." is Washington."""
    loc = row.get("location")
    if isinstance(loc, dict) and loc.get("city"):
        row = {**row, "location": {**loc, "city": gold_city(row)}}
    return row


def _analysis(row: corpus.Row, facts: Facts) -> Analysis:
    return Analysis(
        id=str(row.get("id")),
        is_summit=True,
        score=1.0,
        participants=facts.participants,
        location=facts.location,
        start_date=facts.start_date,
        end_date=facts.end_date,
        status=facts.status,
    )


def _score(rows: Sequence[corpus.Row], facts: Sequence[Facts], idx: Sequence[int]) -> EvalReport:
    return score_rows([rows[i] for i in idx], [_analysis(rows[i], facts[i]) for i in idx])


COLUMNS = ("participants F1", "city", "country", "start", "end", "status")


def _figures(report: EvalReport) -> tuple[float, ...]:
    return (
        report.participant_f1,
        report.city_accuracy,
        report.country_accuracy,
        report.start_accuracy,
        report.end_accuracy,
        report.status_accuracy,
    )


def _line(name: str, n: int, before: EvalReport, after: EvalReport) -> str:
    pairs = zip(_figures(before), _figures(after), strict=True)
    cells = "  ".join(f"{b:5.3f} → {a:5.3f}" for b, a in pairs)
    return f"{name:<22} {n:>4}  {cells}"


def _header() -> str:
    cells = "  ".join(f"{c[:13]:^13}" for c in COLUMNS)
    return f"{'split (rules → learned)':<22} {'n':>4}  {cells}"


def run(base: Path, cache: Path, show_misses: bool) -> None:
    """Print the before/after tables for every split."""
    rows = [_fold_city(row) for row in corpus.load_rows(labelled_paths(base))]
    print(f"{len(rows)} labelled items, {sum(bool(r.get('is_summit')) for r in rows)} summits",
          file=sys.stderr)  # fmt: skip
    parsed = parse(rows, cache)
    lexicon.warm()
    summit = [i for i, r in enumerate(rows) if r.get("is_summit")]
    rules: list[Facts] = [Facts()] * len(rows)
    for i in summit:
        title_doc, doc = parsed[i]
        rules[i] = rule_facts(article_of(rows[i]), title_doc, doc)
    splits = [s for scheme in corpus.SCHEMES for s in corpus.splits(rows, scheme)]
    for borderline in (True, False):
        print(f"\n{'with' if borderline else 'without'} borderline items")
        print(_header())
        for split in splits:
            began = time.perf_counter()
            model = train_facts([rows[i] for i in split.train], [parsed[i] for i in split.train])
            test = [i for i in split.test if rows[i].get("is_summit")]
            if not borderline:
                test = list(corpus.without_borderline(rows, test))
            learned: list[Facts] = [Facts()] * len(rows)
            for i in test:
                learned[i] = read_facts(article_of(rows[i]), *parsed[i], model)
            after = _score(rows, learned, test)
            print(_line(split.name, len(test), _score(rows, rules, test), after), flush=True)
            print(f"  {split.name}: {time.perf_counter() - began:.1f} s", file=sys.stderr)
            if show_misses and borderline:
                for miss in after.misses:
                    print(f"    {miss.id}: {miss.field} {miss.gold!r} → {miss.got!r}")


def write_model(base: Path, cache: Path) -> None:
    """Rebuild the shipped model from every labelled item."""
    rows = corpus.load_rows(labelled_paths(base))
    model = train_facts(rows, parse(rows, cache))
    model.save(MODEL_PATH)
    print(f"wrote {MODEL_PATH} (version {model.version})", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="shared corpus dir")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where parses are kept")
    parser.add_argument("--write-model", action="store_true", help="rebuild the shipped model")
    parser.add_argument("--misses", action="store_true", help="list the learned model's misses")
    args = parser.parse_args(argv)
    if args.write_model:
        write_model(args.corpus, args.cache)
    else:
        run(args.corpus, args.cache, args.misses)


if __name__ == "__main__":
    main()
