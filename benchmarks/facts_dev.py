"""Accuracy of the date and status extractors on the labelled dev set's summit items.

The gold summit items are used whatever the detector says, so these figures isolate the facts.

Usage: python benchmarks/facts_dev.py [GOLD.jsonl] [-v]
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from bot.nlp.dates import resolve_dates
from bot.nlp.extract import trim
from bot.nlp.pipeline import load_pipeline
from bot.nlp.status import classify_status

DEFAULT_GOLD = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev" / "dev.jsonl"


def main() -> None:
    """Print start/end-date and status accuracy over the gold summit items."""
    args = [a for a in sys.argv[1:] if a != "-v"]
    verbose = "-v" in sys.argv
    gold_path = Path(args[0]) if args else DEFAULT_GOLD
    items = [json.loads(line) for line in gold_path.read_text().splitlines() if line.strip()]
    items = [i for i in items if i.get("is_summit")]
    # The same input the Extractor gives these functions: the trimmed body, without the title.
    docs = load_pipeline().pipe(trim(i["text"]) for i in items)
    hits = {"start_date": 0, "end_date": 0, "status": 0}
    status_total = 0
    for item, doc in zip(items, docs, strict=True):
        published = date.fromisoformat(item["published"]) if item.get("published") else None
        start, end = resolve_dates(doc, published)
        status = classify_status(doc, published, start, end)
        got = {
            "start_date": start.isoformat() if start else None,
            "end_date": end.isoformat() if end else None,
            "status": status,
        }
        for key in ("start_date", "end_date"):
            hits[key] += got[key] == item.get(key)
        if item.get("status") is not None:
            status_total += 1
            hits["status"] += got["status"] == item["status"]
        wrong = [k for k in got if got[k] != item.get(k) and (k != "status" or item.get(k))]
        if verbose and wrong:
            print(
                f"{item['id']} pub={published}: "
                + ", ".join(f"{k} got {got[k]} want {item.get(k)}" for k in wrong)
            )
    n = len(items)
    print(f"summit items: {n}")
    print(f"start date accuracy: {hits['start_date'] / n:.3f} ({hits['start_date']}/{n})")
    print(f"end date accuracy:   {hits['end_date'] / n:.3f} ({hits['end_date']}/{n})")
    print(
        f"status accuracy:     {hits['status'] / status_total:.3f} "
        f"({hits['status']}/{status_total}, items with a gold status)"
    )


if __name__ == "__main__":
    main()
