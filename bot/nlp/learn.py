"""Training the extractor's learned parts, and judging them honestly by cross-validation.

Every article is parsed once, with the extractor's own pipeline on exactly the texts it reads
(title, and the trimmed body); the parses are cached on disk keyed by everything that could
change them, so a cache can only save time, never change a result. Each learned part is a
*trainer* ``(rows, parsed, seed) -> JSON``; a model bundle maps part names to those JSON
objects, and ``newsbot train`` writes each one to ``bot/nlp/models/<part>.json``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import spacy.about
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from spacy.language import Language
from spacy.tokens import Doc, DocBin

from bot.nlp import gate
from bot.nlp.corpus import Row, Split, splits, without_borderline
from bot.nlp.evaluate import EvalReport, article_of, score_rows
from bot.nlp.extract import GATE_REASON, Analysis, analyse_docs, evidence, prepare
from bot.nlp.pipeline import DEFAULT_MODEL, load_pipeline
from bot.nlp.summit import MODEL_PATH, SummitModel, features

Parsed = tuple[Doc, Doc]
Progress = Callable[[str, int, int], None]
Trainer = Callable[[Sequence[Row], Sequence[Parsed], int], dict[str, Any]]
Bundle = dict[str, dict[str, Any]]
MODELS_DIR = MODEL_PATH.parent
DEFAULT_CACHE = Path.home() / ".cache" / "newsbot" / "parses"
# Code that shapes a parse (our components and their word lists) is part of the cache key.
_PARSE_CODE = ("components.py", "lexicon.py", "pipeline.py")
_C_GRID = (0.1, 0.3, 1.0, 3.0)
_THRESHOLDS = tuple(round(0.2 + 0.025 * i, 3) for i in range(25))
INNER_FOLDS = 5
INNER_REPEATS = 5  # reshuffled inner CVs pooled: one shuffle alone picks C and threshold noisily


def _quiet(_label: str, _done: int, _total: int) -> None:
    return None


def _cache_key(nlp: Language, texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    here = Path(__file__).parent
    head = [spacy.about.__version__, nlp.meta.get("name"), nlp.meta.get("version"), nlp.pipe_names]
    digest.update(json.dumps(head).encode())
    for name in _PARSE_CODE:
        digest.update((here / name).read_bytes())
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()[:32]


def parse_rows(
    rows: Sequence[Row],
    model: str = DEFAULT_MODEL,
    cache_dir: Path | None = DEFAULT_CACHE,
    progress: Progress = _quiet,
    batch_size: int = 32,
) -> list[Parsed]:
    """(title doc, body doc) of every row, as the extractor makes them; cached when allowed."""
    nlp = load_pipeline(model)
    texts = [text for row in rows for text in prepare(article_of(row))]
    path = cache_dir / f"{_cache_key(nlp, texts)}.spacy" if cache_dir is not None else None
    docs: list[Doc] | None = None
    if path is not None and path.exists():
        try:
            docs = list(DocBin().from_disk(path).get_docs(nlp.vocab))
        except (OSError, ValueError):
            docs = None  # a damaged cache is re-made
        if docs is not None and [d.text for d in docs] != texts:
            docs = None
    if docs is None:
        docs = []
        for doc in nlp.pipe(texts, batch_size=batch_size):
            docs.append(doc)
            if len(docs) % 50 == 0 or len(docs) == len(texts):
                progress("parsed", len(docs) // 2, len(rows))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".tmp")
            DocBin(store_user_data=True, docs=docs).to_disk(partial)
            partial.replace(path)
    return [(docs[2 * i], docs[2 * i + 1]) for i in range(len(rows))]


def gate_passes(row: Row) -> bool:
    """Whether the keyword pre-filter lets this row reach spaCy (and the model)."""
    article = article_of(row)
    return gate.passes(article.title, article.text)


# ---- the summit part ----------------------------------------------------------------------


def feature_matrix(rows: Sequence[Row], parsed: Sequence[Parsed]) -> tuple[list[str], np.ndarray]:
    """Feature names and one row of values per article."""
    found = [
        features(evidence(article_of(row), title_doc, doc))
        for row, (title_doc, doc) in zip(rows, parsed, strict=True)
    ]
    names = sorted(found[0]) if found else []
    matrix = np.array([[f[n].value for n in names] for f in found], dtype=float)
    return names, matrix.reshape(len(found), len(names))


def _fit(x: np.ndarray, y: np.ndarray, c: float, seed: int) -> tuple[Any, np.ndarray, np.ndarray]:
    # Every feature is already in [0, 1]; dividing by the spread would blow a feature seen in a
    # handful of training rows up to a huge value on a new source, so it is only centred.
    mean = x.mean(axis=0)
    scale = np.ones(x.shape[1])
    learner = LogisticRegression(C=c, max_iter=5000, random_state=seed)
    learner.fit((x - mean) / scale, y)
    return learner, mean, scale


def _out_of_fold(x: np.ndarray, y: np.ndarray, c: float, seed: int, k: int) -> np.ndarray:
    probs = np.zeros(len(y))
    folds = StratifiedKFold(k, shuffle=True, random_state=seed)
    for train, test in folds.split(x, y):
        learner, mean, scale = _fit(x[train], y[train], c, seed)
        probs[test] = learner.predict_proba((x[test] - mean) / scale)[:, 1]
    return probs


def _f1(y: np.ndarray, predicted: np.ndarray) -> float:
    tp = float(np.sum(predicted & (y == 1)))
    fp = float(np.sum(predicted & (y == 0)))
    fn = float(np.sum(~predicted & (y == 1)))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def fit_summit(names: Sequence[str], x: np.ndarray, y: np.ndarray, seed: int) -> SummitModel:
    """Logistic regression; its strength and threshold picked by inner CV on these rows only."""
    if len(set(y.tolist())) < 2:
        raise ValueError("training needs both summit and non-summit items")
    k = min(INNER_FOLDS, int(np.bincount(y).min()))
    best = (0.0, 1.0, 0.5)  # too few items of a class to cross-validate: plain defaults
    pooled_y = np.tile(y, INNER_REPEATS)
    for c in _C_GRID if k >= 2 else ():
        probs = np.concatenate(
            [_out_of_fold(x, y, c, seed + 1000 * r, k) for r in range(INNER_REPEATS)]
        )
        for t in _THRESHOLDS:
            score = _f1(pooled_y, probs >= t)
            if score > best[0] + 1e-9:
                best = (score, c, t)
    inner_f1, c, threshold = best
    learner, mean, scale = _fit(x, y, c, seed)
    return SummitModel(
        names=tuple(names),
        mean=tuple(round(float(v), 6) for v in mean),
        scale=tuple(round(float(v), 6) for v in scale),
        coef=tuple(round(float(v), 6) for v in learner.coef_[0]),
        intercept=round(float(learner.intercept_[0]), 6),
        threshold=threshold,
        meta={
            "learner": "logistic regression (scikit-learn), centred [0, 1] features",
            "C": c,
            "inner_cv_f1": round(inner_f1, 4),
            "trained_on": len(y),
            "summits": int(y.sum()),
            "seed": seed,
        },
    )


def train_summit(rows: Sequence[Row], parsed: Sequence[Parsed], seed: int = 13) -> dict[str, Any]:
    """The summit model trained on the rows that pass the gate (all the model ever sees)."""
    keep = [i for i, row in enumerate(rows) if gate_passes(row)]
    names, x = feature_matrix([rows[i] for i in keep], [parsed[i] for i in keep])
    y = np.array([int(bool(rows[i].get("is_summit"))) for i in keep])
    return fit_summit(names, x, y, seed).to_json()


# The lead adds the facts part here: ("facts", lambda r, p, s: train_facts(r, p, s).to_json()).
TRAINERS: tuple[tuple[str, Trainer], ...] = (("summit", train_summit),)


def train_bundle(
    rows: Sequence[Row], parsed: Sequence[Parsed], seed: int = 13, progress: Progress = _quiet
) -> Bundle:
    """Every learned part trained on ``rows``."""
    bundle: Bundle = {}
    for n, (name, trainer) in enumerate(TRAINERS, 1):
        bundle[name] = trainer(rows, parsed, seed)
        progress(f"trained {name}", n, len(TRAINERS))
    return bundle


def write_bundle(bundle: Bundle, directory: Path = MODELS_DIR) -> list[Path]:
    """Each part to ``<directory>/<part>.json`` (sorted keys, so a retrain diffs cleanly)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in bundle.items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


DocAnalyser = Callable[[Row, Parsed], Analysis]


def analyser_of(bundle: Bundle) -> DocAnalyser:
    """Analyse one parsed row with the bundle's models, the gate in front as in production."""
    summit = SummitModel.from_json(bundle["summit"])

    def analyse(row: Row, docs: Parsed) -> Analysis:
        article = article_of(row)
        if not gate.passes(article.title, article.text):
            return Analysis(article.id, False, 0.0, (GATE_REASON,))
        return analyse_docs(article, docs[0], docs[1], summit)

    return analyse


# ---- cross-validation ---------------------------------------------------------------------


@dataclass(frozen=True)
class SplitResult:
    """Scores of one split's test part, with and without borderline items."""

    scheme: str
    name: str
    train_items: int
    all_items: EvalReport
    clear_items: EvalReport


def cross_validate(
    rows: Sequence[Row],
    parsed: Sequence[Parsed],
    schemes: Iterable[str] = ("kfold", "source", "era"),
    seed: int = 13,
    progress: Progress = _quiet,
) -> list[SplitResult]:
    """Retrain every part on each split's train part, score it on the test part only."""
    plan: list[tuple[str, Split]] = [(s, sp) for s in schemes for sp in splits(rows, s, seed)]
    results = []
    for n, (scheme, split) in enumerate(plan, 1):
        bundle = train_bundle(
            [rows[i] for i in split.train], [parsed[i] for i in split.train], seed
        )
        analyse = analyser_of(bundle)
        got = {i: analyse(rows[i], parsed[i]) for i in split.test}
        clear = without_borderline(rows, split.test)
        results.append(
            SplitResult(
                scheme,
                split.name,
                len(split.train),
                score_rows([rows[i] for i in split.test], [got[i] for i in split.test]),
                score_rows([rows[i] for i in clear], [got[i] for i in clear]),
            )
        )
        progress(f"cross-validated ({split.name})", n, len(plan))
    return results


_COLUMNS = (
    ("P", "precision"), ("R", "recall"), ("F1", "f1"), ("hardFP", "hard_fp_rate"),
    ("partF1", "participant_f1"), ("city", "city_accuracy"), ("country", "country_accuracy"),
    ("start", "start_accuracy"), ("end", "end_accuracy"), ("status", "status_accuracy"),
)  # fmt: skip
SCHEME_TITLES = {
    "kfold": "5-fold cross-validation (grouped by meeting)",
    "source": "leave one source out",
    "era": "old (2004–2020) → modern (2021–)",
}


def render_results(results: Sequence[SplitResult]) -> str:
    """One table per scheme and per borderline policy; a mean row under the k folds."""
    out: list[str] = []
    for scheme in dict.fromkeys(r.scheme for r in results):
        mine = [r for r in results if r.scheme == scheme]
        for label, clear in (("all items", False), ("without borderline", True)):
            out.append(f"{SCHEME_TITLES.get(scheme, scheme)} — {label}")
            head = f"{'split':<22} {'train':>5} {'test':>4} {'sum':>4} {'hard':>4}"
            out.append(head + "".join(f" {c:>7}" for c, _ in _COLUMNS))
            reports = [r.clear_items if clear else r.all_items for r in mine]
            for r, rep in zip(mine, reports, strict=True):
                out.append(_line(r.name, str(r.train_items), rep))
            if len(mine) > 1:
                out.append(_mean_line(reports))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _defined(rep: EvalReport, attr: str) -> bool:
    """A figure means something only when its split has items of that kind."""
    if attr == "hard_fp_rate":
        return rep.hard_items > 0
    if attr == "status_accuracy":
        return rep.status_items > 0
    return rep.gold_summits > 0


def _cell(reports: Sequence[EvalReport], attr: str) -> str:
    values = [getattr(r, attr) for r in reports if _defined(r, attr)]
    return f" {sum(values) / len(values):>7.3f}" if values else f" {'n/a':>7}"


def _line(name: str, train: str, rep: EvalReport) -> str:
    cells = "".join(_cell([rep], attr) for _, attr in _COLUMNS)
    return f"{name:<22} {train:>5} {rep.items:>4} {rep.gold_summits:>4} {rep.hard_items:>4}" + cells


def _mean_line(reports: Sequence[EvalReport]) -> str:
    cells = "".join(_cell(reports, attr) for _, attr in _COLUMNS)
    items = sum(r.items for r in reports)
    summits = sum(r.gold_summits for r in reports)
    hard = sum(r.hard_items for r in reports)
    return f"{'mean of splits':<22} {'':>5} {items:>4} {summits:>4} {hard:>4}" + cells


def gate_recall(rows: Sequence[Row]) -> str:
    """How many labelled summit stories the keyword pre-filter keeps, and how much it passes."""
    summits = [r for r in rows if r.get("is_summit")]
    kept = sum(gate_passes(r) for r in summits)
    passed = sum(gate_passes(r) for r in rows)
    missed = [str(r.get("id")) for r in summits if not gate_passes(r)]
    recall = kept / max(1, len(summits))
    line = (
        f"gate: keeps {kept}/{len(summits)} summit stories (recall {recall:.3f}),"
        f" passes {passed}/{len(rows)} items ({passed / max(1, len(rows)):.0%})"
    )
    return line + (f"; misses {', '.join(missed)}" if missed else "")
