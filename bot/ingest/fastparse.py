"""The fast path: well-formed RSS/Atom/RDF read by feedparser-rs, the only module importing it.

feedparser-rs (Rust) reads the news corpus at ~40x feedparser's speed on the same bytes
(``benchmarks/parsers.py``). It never expands entities, so a document using any (even ``&nbsp;``),
or anything else it flags, goes to feedparser instead: ``read`` returns None whenever the result
might differ from feedparser's, and the caller falls back. What it returns has feedparser's
shape (plain dicts), so both paths share one normaliser and one key rule.
"""

from __future__ import annotations

import re
from typing import Any

import feedparser_rs

# Versions both parsers read the same way; the rest (RSS 0.9x, unknown) go to feedparser.
_VERSIONS = frozenset({"rss20", "rss10", "atom10", "atom03"})
_ENTRY_FIELDS = ("id", "link", "title", "summary", "published", "updated")
_DATE_FIELDS = ("published_parsed", "updated_parsed")
# feedparser-rs 0.7 misreads an RSS item after a self-closing text element (``<description/>``
# hands the next element's text to ``link``); only these attribute-only elements are safe.
_SAFE_EMPTY = frozenset(
    {
        b"enclosure",
        b"media:content",
        b"media:thumbnail",
        b"atom:link",
        b"atom10:link",
        b"itunes:image",
        b"itunes:category",
        b"link",
        b"guid",
    }
)
_EMPTY_ELEMENT = re.compile(rb"<([A-Za-z_][\w.:-]{0,60})(?:\s[^<>]{0,4000})?/>")
# feedparser-rs reserves room for max_entries up front (~1.8 KB each, counted against the
# worker's address-space cap); a longer feed exceeds it, is flagged and goes to feedparser.
_LIMITS = feedparser_rs.ParserLimits(
    max_entries=2_000, max_feed_size_bytes=64 * 1024 * 1024, max_content_blocks=1
)


def read(data: bytes) -> dict[str, Any] | None:
    """feedparser's result shape for a clean document, or None to let feedparser read it."""
    if b"base64" in data:
        # Atom 0.3 mode="base64" content: feedparser decodes it, feedparser-rs does not.
        return None
    try:
        result = feedparser_rs.parse_with_limits(
            data, limits=_LIMITS, sanitize_html=False, resolve_relative_uris=False
        )
    except Exception:
        # A crash here is feedparser's to explain (or survive), not ours.
        return None
    if result.bozo or result.version not in _VERSIONS or not result.entries:
        return None
    if result.version.startswith("rss") and any(
        match.group(1) not in _SAFE_EMPTY for match in _EMPTY_ELEMENT.finditer(data)
    ):
        return None
    entries = [_entry(entry) for entry in result.entries]
    if any(entry is None for entry in entries):
        return None
    meta = result.feed
    feed = {"title": meta.get("title"), "title_detail": _detail(meta.get("title_detail"))}
    feed["link"] = meta.get("link")
    return {"feed": feed, "entries": entries, "version": result.version, "bozo": False}


def _entry(entry: Any) -> dict[str, Any] | None:
    """One entry as feedparser would give it, or None when it needs feedparser's rules."""
    link = entry.get("link")
    if link == "" or (isinstance(link, str) and "://" not in link):
        # feedparser resolves relative links against xml:base and the feed URL; we do not.
        # feedparser-rs also blanks links to private and loopback addresses, which feedparser
        # keeps (the address policy is the fetcher's business, not the parser's).
        return None
    plain: dict[str, Any] = {name: entry.get(name) for name in _ENTRY_FIELDS}
    for name in _DATE_FIELDS:
        value = entry.get(name)
        plain[name] = tuple(value) if value is not None else None
    if plain["published_parsed"] is None and plain["updated_parsed"] is None:
        # feedparser finds dates in more places (an Atom <updated> inside RSS, for one).
        return None
    plain["title_detail"] = _detail(entry.get("title_detail"))
    plain["summary_detail"] = _detail(entry.get("summary_detail"))
    content = entry.get("content") or []
    plain["content"] = [{"value": block.value, "type": block.type} for block in content[:1]]
    return plain


def _detail(construct: Any) -> dict[str, str] | None:
    """A text construct's type, the one detail the normaliser reads."""
    if construct is None:
        return None
    return {"type": str(construct.type or "")}
