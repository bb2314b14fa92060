"""Feed parsers side by side on the same bytes: the shared corpus of real news feeds.

Run by hand (``pip install -e .[dev,bench]``): ``.venv/bin/python benchmarks/parsers.py``

Each parser reads every RSS/Atom/RDF file of ``../shared/corpus/feeds`` from memory, in one
process, interleaved over ``--repeat`` rounds; CPU time is ``time.process_time``. Entry counts are
compared with feedparser's, the reference. The candidates for the fast path of issue 13.1:

- ``feedparser``: ``feedparser.parse(BytesIO)``, sanitising and URI rewriting off (as we call it);
- ``fastfeedparser``: ``fastfeedparser.parse(bytes)`` (lxml + Python);
- ``feedparser-rs``: ``feedparser_rs.parse(bytes)`` (Rust), sanitising and URI rewriting off;
- ``lxml (floor)``: ``lxml.etree.fromstring`` plus the text of every item/entry child: the lower
  bound of a bespoke lxml reader before any normalisation (dates, HTML, encodings);
- ``parse_feed``: our whole path (guards, fast path or fallback, normalisation to ParsedFeed).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import fastfeedparser
import feedparser
import feedparser_rs
from lxml import etree

from bot.core.errors import FeedParseError
from bot.ingest import fastparse
from bot.ingest.parse import parse_feed

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "feeds"
_ITEMS = ("item", "{http://www.w3.org/2005/Atom}entry", "{http://purl.org/rss/1.0/}item")


def with_feedparser(body: bytes) -> int | None:
    return len(
        feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False).entries
    )


def with_fastfeedparser(body: bytes) -> int | None:
    try:
        return len(fastfeedparser.parse(body).entries)
    except Exception:
        return None


def with_feedparser_rs(body: bytes) -> int | None:
    try:
        result = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)
    except Exception:
        return None
    return len(result.entries)


def with_lxml(body: bytes) -> int | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return None
    items = list(root.iter(*_ITEMS))
    for item in items:
        [child.text for child in item]
    return len(items)


def with_parse_feed(body: bytes) -> int | None:
    try:
        return len(parse_feed(body, {}, "http://127.0.0.1/feed.xml").items)
    except FeedParseError:
        return None


PARSERS: dict[str, Callable[[bytes], int | None]] = {
    "feedparser": with_feedparser,
    "fastfeedparser": with_fastfeedparser,
    "feedparser-rs": with_feedparser_rs,
    "lxml (floor)": with_lxml,
    "parse_feed (ours, all of it)": with_parse_feed,
}


def main(argv: Sequence[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--corpus", type=Path, default=CORPUS)
    options.add_argument("--repeat", type=int, default=3)
    args = options.parse_args(argv)
    paths = sorted(p for p in args.corpus.iterdir() if p.suffix in (".rss", ".atom", ".rdf"))
    if not paths:
        print(f"no feeds in {args.corpus}", file=sys.stderr)
        return 1
    bodies = [path.read_bytes() for path in paths]
    megabytes = sum(map(len, bodies)) / 1e6
    seconds: dict[str, list[float]] = {name: [] for name in PARSERS}
    counts: dict[str, list[int | None]] = {}
    for _ in range(args.repeat):
        for name, parse in PARSERS.items():
            started = time.process_time()
            counts[name] = [parse(body) for body in bodies]
            seconds[name].append(time.process_time() - started)
    fast_taken = sum(fastparse.read(body) is not None for body in bodies)
    reference = counts["feedparser"]
    print(
        f"{len(bodies)} real feeds, {megabytes:.1f} MB, {args.repeat} interleaved rounds, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"| {'parser':<30} | {'CPU s':>6} | {'MB/s':>6} | {'x feedparser':>12} | "
        f"{'failed':>6} | {'entry count != feedparser':<34} |"
    )
    print("|" + "|".join("-" * n for n in (32, 8, 8, 14, 8, 36)) + "|")
    base = statistics.median(seconds["feedparser"])
    for name in PARSERS:
        cpu = statistics.median(seconds[name])
        failed = sum(count is None for count in counts[name])
        differ = [
            path.name
            for path, mine, theirs in zip(paths, counts[name], reference, strict=True)
            if mine is not None and mine != theirs
        ]
        shown = ", ".join(differ[:3]) + (" ..." if len(differ) > 3 else "")
        print(
            f"| {name:<30} | {cpu:6.2f} | {megabytes / cpu:6.1f} | {base / cpu:12.1f} | "
            f"{failed:>6} | {len(differ):>2} {shown:<31.31} |"
        )
    print(
        f"Our fast path (feedparser-rs behind its guards) took {fast_taken} of {len(bodies)} "
        "files as given; parse_feed sends the rest to feedparser."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
