"""How each summit signal behaves on a labelled file: firing rates and a leave-one-out ablation.

Usage: python benchmarks/signals_dev.py [GOLD.jsonl]   (default ../shared/corpus/dev/dev.jsonl)

The weights in ``bot/nlp/signals.py`` are set by hand; this script shows, for each signal, how
often it fires on gold summit stories and on the rest, and the summit F1 when that one signal is
switched off — a check that every signal pulls its weight, not a fit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlp import gate  # noqa: E402
from bot.nlp.detect import THRESHOLD, score  # noqa: E402
from bot.nlp.evaluate import article_of  # noqa: E402
from bot.nlp.extract import gather, trim  # noqa: E402
from bot.nlp.pipeline import load_pipeline  # noqa: E402
from bot.nlp.signals import WEIGHTS, Signal, compute  # noqa: E402

DEFAULT_GOLD = ROOT.parent / "shared" / "corpus" / "dev" / "dev.jsonl"


def f1(gold: list[bool], got: list[bool]) -> float:
    tp = sum(g and p for g, p in zip(gold, got, strict=True))
    fp = sum(p and not g for g, p in zip(gold, got, strict=True))
    fn = sum(g and not p for g, p in zip(gold, got, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_GOLD
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    nlp = load_pipeline()
    gold = [bool(r.get("is_summit")) for r in rows]
    passed: list[bool] = []
    signals: list[list[Signal]] = []
    for i, row in enumerate(rows, 1):
        article = article_of(row)
        ok = gate.passes(article.title, article.text)
        passed.append(ok)
        if ok:
            ev, _ = gather(article, nlp(article.title), nlp(trim(article.text)))
            signals.append(compute(ev))
        else:
            signals.append([])
        print(f"  {i}/{len(rows)}", file=sys.stderr, end="\r")
    print(file=sys.stderr)

    def verdicts(skip: str | None) -> list[bool]:
        return [
            ok and score([s for s in sigs if s.name != skip]) >= THRESHOLD
            for ok, sigs in zip(passed, signals, strict=True)
        ]

    base = f1(gold, verdicts(None))
    n_pos, n_neg = sum(gold), len(gold) - sum(gold)
    print(f"{len(rows)} items ({n_pos} summit), gate passes {sum(passed)}; summit F1 {base:.3f}")
    print(f"{'signal':<18} {'weight':>6} {'on summit':>10} {'on others':>10} {'F1 without':>11}")
    for name, weight in WEIGHTS.items():
        fired = [any(s.name == name for s in sigs) for sigs in signals]
        on_pos = sum(f and g for f, g in zip(fired, gold, strict=True))
        on_neg = sum(f and not g for f, g in zip(fired, gold, strict=True))
        print(
            f"{name:<18} {weight:>+6.1f} {on_pos:>5}/{n_pos:<4} {on_neg:>5}/{n_neg:<4} "
            f"{f1(gold, verdicts(name)):>11.3f}"
        )


if __name__ == "__main__":
    main()
