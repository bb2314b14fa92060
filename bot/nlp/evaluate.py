"""Scores of the extractor against a labelled file shaped like ``dev.jsonl``.

How each figure is counted:

- summit precision / recall / F1: over every item, ``is_summit`` predicted vs gold.
- hard-negative false-positive rate: share of items marked ``"hard": true`` (look-alikes, all
  gold negatives) that the extractor calls a summit.
- participant-set F1: micro-averaged over gold summit items; names match after folding case,
  hyphens and dots ("Kim Jong Un" = "Kim Jong-un"); an item the extractor misses counts as an empty
  prediction, so its gold names are all false negatives.
- city / country / start date / end date accuracy: over gold summit items, exact match including
  null (a gold null must be predicted null; a missed summit predicts null throughout).
- status accuracy: over gold summit items whose gold status is not null (annotators leave it null
  when the text does not say).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from bot.nlp.extract import Analysis, Article


class Analyser(Protocol):
    """Anything that analyses articles like ``Extractor``."""

    def analyse(self, articles: list[Article]) -> list[Analysis]:
        """Analyse a batch."""
        ...


@dataclass(frozen=True, slots=True)
class Miss:
    """One disagreement with the gold label, for the report."""

    id: str
    field: str
    gold: object
    got: object


@dataclass(frozen=True)
class EvalReport:
    """Figures of one evaluation run (see the module docstring for how each is counted)."""

    items: int
    gold_summits: int
    precision: float
    recall: float
    f1: float
    hard_items: int
    hard_fp_rate: float
    participant_f1: float
    city_accuracy: float
    country_accuracy: float
    start_accuracy: float
    end_accuracy: float
    status_accuracy: float
    status_items: int
    misses: tuple[Miss, ...] = field(default=())

    def as_dict(self) -> dict[str, float | int]:
        """The figures as a flat mapping."""
        return {
            "items": self.items,
            "gold_summits": self.gold_summits,
            "summit_precision": self.precision,
            "summit_recall": self.recall,
            "summit_f1": self.f1,
            "hard_items": self.hard_items,
            "hard_fp_rate": self.hard_fp_rate,
            "participant_f1": self.participant_f1,
            "city_accuracy": self.city_accuracy,
            "country_accuracy": self.country_accuracy,
            "start_date_accuracy": self.start_accuracy,
            "end_date_accuracy": self.end_accuracy,
            "status_accuracy": self.status_accuracy,
        }

    def render(self, *, misses: bool = True) -> str:
        """A terminal table of the figures, then the disagreements."""
        rows = [
            ("items (gold summits)", f"{self.items} ({self.gold_summits})"),
            ("summit precision", f"{self.precision:.3f}"),
            ("summit recall", f"{self.recall:.3f}"),
            ("summit F1", f"{self.f1:.3f}"),
            (f"hard-negative FP rate ({self.hard_items} hard)", f"{self.hard_fp_rate:.3f}"),
            ("participant-set F1 (micro)", f"{self.participant_f1:.3f}"),
            ("city accuracy", f"{self.city_accuracy:.3f}"),
            ("country accuracy", f"{self.country_accuracy:.3f}"),
            ("start date accuracy", f"{self.start_accuracy:.3f}"),
            ("end date accuracy", f"{self.end_accuracy:.3f}"),
            (f"status accuracy ({self.status_items} labelled)", f"{self.status_accuracy:.3f}"),
        ]
        width = max(len(k) for k, _ in rows)
        lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
        if misses and self.misses:
            lines.append("")
            lines.append("disagreements (id: field gold → got):")
            lines += [f"  {m.id}: {m.field} {m.gold!r} → {m.got!r}" for m in self.misses]
        return "\n".join(lines)


def name_key(name: str) -> str:
    """Fold case, hyphens and dots so spelling variants of one name compare equal."""
    return " ".join(name.replace("-", " ").replace(".", " ").lower().split())


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def _parse_date(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def article_of(row: dict[str, Any]) -> Article:
    """The article of a gold (or input) row."""
    return Article(
        id=str(row.get("id", "")),
        title=str(row.get("title") or ""),
        text=str(row.get("text") or ""),
        published=_parse_date(row.get("published")),
    )


def evaluate(
    gold_rows: Iterable[dict[str, Any]],
    extractor: Analyser,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 16,
) -> EvalReport:
    """Run ``extractor`` over the gold rows and score it."""
    rows = list(gold_rows)
    analyses: list[Analysis] = []
    for at in range(0, len(rows), batch_size):
        batch = rows[at : at + batch_size]
        analyses += extractor.analyse([article_of(r) for r in batch])
        if progress is not None:
            progress(len(analyses), len(rows))
    return score_rows(rows, analyses)


def score_rows(rows: list[dict[str, Any]], analyses: list[Analysis]) -> EvalReport:
    """Score predictions against gold rows, pairwise in order."""
    tp = fp = fn = 0
    hard = hard_fp = 0
    p_tp = p_fp = p_fn = 0
    facts = {"city": 0, "country": 0, "start_date": 0, "end_date": 0}
    status_ok = status_n = 0
    misses: list[Miss] = []
    gold_summits = 0
    for row, got in zip(rows, analyses, strict=True):
        rid = str(row.get("id", ""))
        gold = bool(row.get("is_summit"))
        if row.get("hard"):
            hard += 1
            hard_fp += got.is_summit
        if gold and got.is_summit:
            tp += 1
        elif got.is_summit:
            fp += 1
            misses.append(Miss(rid, "is_summit", gold, True))
        elif gold:
            fn += 1
            misses.append(Miss(rid, "is_summit", gold, False))
        if not gold:
            continue
        gold_summits += 1
        out = got.to_json()
        gold_names = {name_key(n) for n in row.get("participants") or []}
        got_names = {name_key(p["name"]) for p in out["participants"]}
        p_tp += len(gold_names & got_names)
        p_fp += len(got_names - gold_names)
        p_fn += len(gold_names - got_names)
        if gold_names != got_names:
            misses.append(Miss(rid, "participants", sorted(gold_names), sorted(got_names)))
        loc = row.get("location") or {}
        for key in ("city", "country"):
            ok = (loc.get(key) or None) == out["location"][key]
            facts[key] += ok
            if not ok:
                misses.append(Miss(rid, key, loc.get(key), out["location"][key]))
        for key in ("start_date", "end_date"):
            ok = (row.get(key) or None) == out[key]
            facts[key] += ok
            if not ok:
                misses.append(Miss(rid, key, row.get(key), out[key]))
        if row.get("status"):
            status_n += 1
            ok = row["status"] == out["status"]
            status_ok += ok
            if not ok:
                misses.append(Miss(rid, "status", row["status"], out["status"]))
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    p_prec = _ratio(p_tp, p_tp + p_fp)
    p_rec = _ratio(p_tp, p_tp + p_fn)
    return EvalReport(
        items=len(rows),
        gold_summits=gold_summits,
        precision=precision,
        recall=recall,
        f1=_ratio(2 * precision * recall, precision + recall),
        hard_items=hard,
        hard_fp_rate=_ratio(hard_fp, hard),
        participant_f1=_ratio(2 * p_prec * p_rec, p_prec + p_rec)
        if p_tp
        else float(p_fp + p_fn == 0),
        city_accuracy=_ratio(facts["city"], gold_summits),
        country_accuracy=_ratio(facts["country"], gold_summits),
        start_accuracy=_ratio(facts["start_date"], gold_summits),
        end_accuracy=_ratio(facts["end_date"], gold_summits),
        status_accuracy=_ratio(status_ok, status_n),
        status_items=status_n,
        misses=tuple(misses),
    )
