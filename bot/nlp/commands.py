"""Plain functions behind ``newsbot extract`` and ``newsbot eval``; the CLI parses and prints."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from bot.core.errors import ConfigError
from bot.nlp.evaluate import EvalReport, article_of, evaluate
from bot.nlp.extract import Analysis, Article, Extractor, split_title

Progress = Callable[[int, int], None]
JSONL_BATCH = 32


def extract_text(
    title: str, text: str, published: date | None, extractor: Extractor | None = None
) -> Analysis:
    """Analyse one article given as title and text."""
    return (extractor or Extractor()).analyse_one(Article("-", title, text, published))


def extract_jsonl(
    in_path: Path,
    out_path: Path | None,
    extractor: Extractor,
    progress: Progress | None = None,
    out: TextIO | None = None,
) -> int:
    """One output line per input line, in order; a bad line yields ``{"id"?, "error"}``.

    Writes to ``out_path``, else to ``out`` (stdout for the CLI). Returns the number of lines.
    """
    lines = in_path.read_text(encoding="utf-8").splitlines()
    total = len(lines)
    if out_path is not None:
        with out_path.open("w", encoding="utf-8") as sink:
            return _extract_lines(lines, sink, extractor, progress, total)
    if out is None:
        raise ValueError("extract_jsonl needs out_path or out")
    return _extract_lines(lines, out, extractor, progress, total)


def _extract_lines(
    lines: list[str], sink: TextIO, extractor: Extractor, progress: Progress | None, total: int
) -> int:
    done = 0
    for batch in _batches(lines, JSONL_BATCH):
        parsed = [_parse_line(line) for line in batch]
        articles = [p for p in parsed if isinstance(p, Article)]
        try:
            results = iter(extractor.analyse(articles))
            failed: str | None = None
        except Exception as exc:  # one bad batch must not stop the file; retry one by one below
            results, failed = iter(()), str(exc)
        for item in parsed:
            if isinstance(item, Article):
                row = _analyse_alone(item, extractor) if failed else next(results).to_json()
            else:
                row = item
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            done += 1
        if progress is not None:
            progress(done, total)
    return done


def _analyse_alone(article: Article, extractor: Extractor) -> dict[str, Any]:
    try:
        return extractor.analyse_one(article).to_json()
    except Exception as exc:  # the error goes into that line's output, the batch goes on
        return {"id": article.id, "error": f"analysis failed: {exc}"}


def _batches(lines: list[str], size: int) -> Iterator[list[str]]:
    for at in range(0, len(lines), size):
        yield lines[at : at + size]


def _parse_line(line: str) -> Article | dict[str, Any]:
    """An Article, or the error row for a line that is not a usable JSON object."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"invalid JSON: {exc.msg}"}
    if not isinstance(row, dict):
        return {"id": None, "error": "line is not a JSON object"}
    rid = row.get("id")
    if rid is None or not isinstance(rid, str | int):
        return {"id": None, "error": "missing 'id'"}
    if not isinstance(row.get("title", ""), str) or not isinstance(row.get("text"), str):
        return {"id": rid, "error": "'title' and 'text' must be strings"}
    try:
        return article_of(row)
    except ValueError:
        return {"id": rid, "error": "'published' must be YYYY-MM-DD"}


def run_eval(gold_path: Path, extractor: Extractor, progress: Progress | None = None) -> EvalReport:
    """Evaluate ``extractor`` on a labelled JSONL file shaped like ``dev.jsonl``."""
    rows = [
        json.loads(line)
        for line in gold_path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return evaluate(rows, extractor, progress)


def render_analysis(analysis: Analysis) -> str:
    """A terminal block: verdict, score, reasons, then the facts of a summit story."""
    verdict = "SUMMIT" if analysis.is_summit else "not a summit story"
    lines = [f"{verdict}  (score {analysis.score:.2f})", "why:"]
    lines += [f"  - {r}" for r in analysis.reasons] or ["  - (no signal)"]
    if not analysis.is_summit:
        return "\n".join(lines)
    where = analysis.location
    venue = f"{where.venue} ({where.certainty})" if where.venue else None
    place = ", ".join(x for x in (venue, where.city, where.country) if x) or "unknown"
    lines.append("participants:")
    lines += [
        f"  - {p.name}"
        + (f", {p.title}" if p.title else "")
        + (f" ({p.country})" if p.country else "")
        for p in analysis.participants
    ] or ["  - (none named)"]
    start = analysis.start_date.isoformat() if analysis.start_date else "?"
    end = analysis.end_date.isoformat() if analysis.end_date else None
    lines.append(f"where: {place}")
    lines.append(f"when: {start}" + (f" to {end}" if end and end != start else ""))
    lines.append(f"status: {analysis.status or 'unknown'}")
    if analysis.agenda:
        lines.append("agenda: " + ", ".join(analysis.agenda))
    if analysis.quotes:
        lines.append("quotes:")
        lines += [f"  - {q.speaker or 'unattributed'}: “{q.text}”" for q in analysis.quotes]
    if analysis.summary:
        lines.append(f"summary: {analysis.summary}")
    return "\n".join(lines)


def parse_text_file(raw: str) -> tuple[str, str]:
    """Title and body of a text file whose first line (after page furniture) is the title."""
    return split_title(raw)


# The labelled corpora beside the repository (../shared/corpus), as the project lays them out.
DEFAULT_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def labelled_files(corpus: Path = DEFAULT_CORPUS) -> list[Path]:
    """The default training data: every ``train/*.jsonl`` and ``dev/dev.jsonl``."""
    return [*sorted((corpus / "train").glob("*.jsonl")), corpus / "dev" / "dev.jsonl"]


def _labelled(paths: list[Path]) -> list[dict[str, Any]]:
    from bot.nlp.corpus import load_rows  # noqa: PLC0415  (heavy; loaded on use)

    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"labelled file(s) not found: {', '.join(missing)}")
    rows = [r for r in load_rows(paths) if not r.get("doubtful")]
    if not rows:
        raise ValueError("no labelled rows in " + ", ".join(map(str, paths)))
    return rows


def train_models(
    paths: list[Path],
    out_dir: Path,
    seed: int = 13,
    cache_dir: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Path]:
    """Rebuild every learned part from the labelled files; the files written."""
    learn = _learner()
    step = progress or (lambda _label, _done, _total: None)
    rows = _labelled(paths)
    parsed = learn.parse_rows(rows, cache_dir=cache_dir, progress=step)
    written: list[Path] = learn.write_bundle(learn.train_bundle(rows, parsed, seed, step), out_dir)
    return written


def run_cv(
    paths: list[Path],
    seed: int = 13,
    cache_dir: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> str:
    """Cross-validation tables: 5 folds, leave one source out, old → modern."""
    learn = _learner()
    step = progress or (lambda _label, _done, _total: None)
    rows = _labelled(paths)
    parsed = learn.parse_rows(rows, cache_dir=cache_dir, progress=step)
    results = learn.cross_validate(rows, parsed, seed=seed, progress=step)
    head = f"{len(rows)} labelled items from {', '.join(p.name for p in paths)}; seed {seed}"
    return "\n".join((head, learn.gate_recall(rows), "", learn.render_results(results)))


def _learner() -> ModuleType:
    """The training code, which needs scikit-learn: the running bot only reads the models."""
    try:
        from bot.nlp import learn  # noqa: PLC0415  (heavy; loaded on use)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"training needs {exc.name}: install it with `pip install 'newsbot[train]'`"
        ) from None
    return learn
