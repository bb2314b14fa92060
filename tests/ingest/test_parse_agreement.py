"""The fast path (feedparser-rs) and the fallback (feedparser) agree on every corpus document.

Each document is parsed twice by ``parse_feed``: as it runs in production (fast path first) and
with the fast path switched off. Where the fast path took the document, both results must give
the same items: keys, titles, links and dates, to the second. The one tolerance: where
feedparser finds no date in a value it cannot read but feedparser-rs reads correctly, listed
with the reason in ``FEEDPARSER_DATE_MISSES``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.errors import FeedParseError
from bot.core.models import ParsedFeed
from bot.ingest import fastparse, parse
from tests.ingest.test_parse_corpus import (
    DEFAULT_URL,
    FEEDPARSER_FOLDERS,
    files_under,
    headers_of,
)

# feedparser's RFC 822 parser gives up on non-English day names ("mer, 16 nov 2022 00:38:15
# +0100"); feedparser-rs reads it as 2022-11-15 23:38:15 UTC, which is right.
FEEDPARSER_DATE_MISSES = {"corpus/feeds/ilmessaggero-1.rss"}


def outcome(body: bytes, headers: dict[str, str]) -> ParsedFeed | str:
    """The parsed feed, or the refusal sentence."""
    try:
        return parse.parse_feed(body, headers, headers.get("content-location", DEFAULT_URL))
    except FeedParseError as exc:
        return f"refused: {exc}"


def differences(
    fast: ParsedFeed | str, slow: ParsedFeed | str, *, slow_misses_dates: bool = False
) -> Iterator[str]:
    """Every way the two results differ in what reaches the store."""
    if isinstance(fast, str) or isinstance(slow, str):
        if fast != slow:
            yield f"{fast!r:.80} vs {slow!r:.80}"
        return
    if fast.title != slow.title:
        yield f"feed title {fast.title!r:.60} vs {slow.title!r:.60}"
    fast_items = {item.key: item for item in fast.items}
    slow_items = {item.key: item for item in slow.items}
    if list(fast_items) != list(slow_items):
        yield f"keys {list(fast_items)[:3]} vs {list(slow_items)[:3]}"
        return
    for key, mine in fast_items.items():
        theirs = slow_items[key]
        if mine.title != theirs.title:
            yield f"{key}: title {mine.title!r:.60} vs {theirs.title!r:.60}"
        if mine.link != theirs.link:
            yield f"{key}: link {mine.link!r:.60} vs {theirs.link!r:.60}"
        if slow_misses_dates and theirs.published is None:
            continue
        if mine.published != theirs.published:
            yield f"{key}: date {mine.published} vs {theirs.published}"


FOLDERS = ("feeds", *(f"feedparser-tests/{name}" for name in FEEDPARSER_FOLDERS))


@pytest.mark.parametrize("folder", FOLDERS)
def test_fast_path_agrees_with_feedparser(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch, folder: str
) -> None:
    paths = [p for p in files_under(shared_dir / "corpus" / folder) if p.suffix != ".md"]
    assert paths, f"no documents in {folder}"
    documents = [(path, path.read_bytes()) for path in paths]
    taken: list[Path] = []
    real_read = fastparse.read
    current: list[Path] = []

    def counting_read(data: bytes) -> dict[str, Any] | None:
        result = real_read(data)
        if result is not None:
            taken.append(current[-1])
        return result

    monkeypatch.setattr(fastparse, "read", counting_read)
    fast = {}
    for path, body in documents:
        current.append(path)
        fast[path] = outcome(body, headers_of(body))
    # A document the fast path declined went through feedparser both times: nothing to compare.
    monkeypatch.setattr(fastparse, "read", lambda data: None)
    slow = {path: outcome(body, headers_of(body)) for path, body in documents if path in taken}
    problems = [
        f"{path.relative_to(shared_dir)}: {problem}"
        for path, theirs in slow.items()
        for problem in differences(
            fast[path],
            theirs,
            slow_misses_dates=str(path.relative_to(shared_dir)) in FEEDPARSER_DATE_MISSES,
        )
    ]
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:60])
    if folder == "feeds":
        # The fast path must carry real feeds, not decline everything. feedparser's own suite
        # is mostly one-element documents without dates, which it leaves to feedparser.
        assert len(taken) >= 35, f"the fast path took only {len(taken)} of {len(paths)} feeds"
