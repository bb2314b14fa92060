"""parse_feed on documents nobody here wrote: the shared news-feed corpus and feedparser's suite.

Files are looped inside a few tests (not one test each) to keep the run to a few seconds; each
assertion message lists every failing file.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from bot.core.errors import FeedParseError
from bot.core.models import ParsedFeed
from bot.ingest.parse import SUMMARY_MAX, TITLE_MAX, parse_feed

DEFAULT_URL = "http://example.com/feed.xml"
FEEDPARSER_FOLDERS = ("wellformed", "illformed", "encoding", "entities", "compression", "http")

# Refused news-corpus documents and why (see the corpus INDEX.md "Pathological documents").
EXPECTED_REFUSALS = {
    "dylanharris-1.rss": "not a readable feed",  # malformed <?xml?xml ??> declaration
    "hexun-1.html": "HTML page",  # maintenance page served at a feed URL
}
# Refusals other than these would mean a real feed was lost to a guard (B2 pre-scan, gzip).
ACCEPTABLE_REFUSALS = re.compile(
    r"^(the document is empty|the document is not an RSS, Atom or JSON feed"
    r"|the document is not a readable feed \(.*\)|the URL returned an HTML page, not a feed"
    r"|the feed is gzip-compressed and the gzip data is (broken|truncated))$"
)
_HEADER_LINE = re.compile(r"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Run:
    """Outcome of parsing a set of files."""

    parsed: dict[str, ParsedFeed] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def comment_text(body: bytes) -> str:
    """Leading text decoded as upstream's runner sniffs it, to read the Header: lines."""
    for marker, codec in (
        (b"\x4c\x6f\xa7\x94", "cp037"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (b"\x00\x00\x00<", "utf-32-be"),
        (b"<\x00\x00\x00", "utf-32-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (b"\x00<", "utf-16-be"),
        (b"<\x00", "utf-16-le"),
    ):
        if body.startswith(marker):
            return body[:8_000].decode(codec, "replace")
    return body[:4_000].decode("utf-8", "replace")


def headers_of(body: bytes) -> dict[str, str]:
    """The HTTP response headers a feedparser test file says it is served with."""
    return {name.lower(): value for name, value in _HEADER_LINE.findall(comment_text(body))}


def invariant_problems(feed: ParsedFeed) -> list[str]:
    """Everything downstream relies on, checked on one parsed feed."""
    problems = []
    latest = datetime.now(UTC) + timedelta(days=2)
    keys = [entry.key for entry in feed.items]
    if len(keys) != len(set(keys)):
        problems.append("duplicate keys")
    for entry in feed.items:
        if not entry.key.startswith(("guid:", "link:", "hash:")):
            problems.append(f"bad key {entry.key[:40]!r}")
        if len(entry.title) > TITLE_MAX or len(entry.summary) > SUMMARY_MAX:
            problems.append("text over its cap")
        if entry.link is not None and not entry.link.startswith(("http://", "https://")):
            problems.append(f"non-web link {entry.link[:40]!r}")
        when = entry.published
        if when is not None and (when.tzinfo is not UTC or when.year < 1970 or when > latest):
            problems.append(f"bad date {when!r}")
        for text in (entry.title, entry.summary, entry.guid or "", entry.link or ""):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                problems.append("text is not valid Unicode")
    return problems


def run(paths: list[Path], root: Path) -> Run:
    """Parse every file; sort outcomes into parsed, refused (FeedParseError) and failures."""
    outcome = Run()
    for path in paths:
        name = str(path.relative_to(root))
        body = path.read_bytes()
        headers = headers_of(body)
        try:
            feed = parse_feed(body, headers, headers.get("content-location", DEFAULT_URL))
        except FeedParseError as exc:
            outcome.refused[name] = str(exc)
            continue
        except Exception as exc:
            outcome.failures.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        outcome.parsed[name] = feed
        outcome.failures += [f"{name}: {problem}" for problem in invariant_problems(feed)]
    return outcome


def clean(text: str) -> str:
    """What parse_feed does to ids and links: control characters out, whitespace collapsed."""
    return " ".join(_CONTROL.sub("", text).split())


def web_link(value: object) -> str | None:
    """An http(s) link as parse_feed keeps it, else None."""
    if not isinstance(value, str):
        return None
    link = clean(value)
    return link if re.match(r"(?i)https?://[^/?#]", link) else None


def lost_entries(body: bytes, headers: dict[str, str], feed: ParsedFeed | None) -> list[str]:
    """Entries feedparser finds in the same bytes that did not arrive as items.

    Items are keyed guid -> link -> hash, and later duplicates of a key are dropped, so: every
    distinct id must arrive as a guid, every distinct web link of an id-less entry as a link key,
    and id-less, link-less entries as at least one and at most that many hash-keyed items.
    """
    reference = feedparser.parse(
        io.BytesIO(body),
        response_headers={
            "content-type": headers.get("content-type", "application/xml"),
            "content-location": headers.get("content-location", DEFAULT_URL),
        },
    )
    if not reference.entries:
        return []
    if feed is None:
        return [f"all {len(reference.entries)} entries (document refused)"]
    ids, links, anonymous = set(), set(), 0
    for entry in reference.entries:
        entry_id = clean(entry.get("id") or "")
        link = web_link(entry.get("link"))
        if entry_id:
            ids.add(entry_id)
        elif link:
            links.add(link)
        else:
            anonymous += 1
    got_ids = {item.guid for item in feed.items if item.guid is not None}
    got_links = {item.link for item in feed.items if item.key.startswith("link:")}
    hashed = sum(item.key.startswith("hash:") for item in feed.items)
    lost = [f"id {value!r}" for value in sorted(ids - got_ids)]
    lost += [f"link {value!r}" for value in sorted(links - got_links)]
    if (anonymous > 0) != (hashed > 0) or hashed > anonymous:
        lost.append(f"{anonymous} entries without id or link became {hashed} hash-keyed items")
    return lost


def files_under(folder: Path) -> list[Path]:
    """Every data file below ``folder``, sorted."""
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_news_feed_corpus(shared_dir: Path) -> None:
    feeds = shared_dir / "corpus" / "feeds"
    paths = [path for path in files_under(feeds) if path.name != "INDEX.md"]
    assert len(paths) >= 80, "the news-feed corpus looks incomplete"
    outcome = run(paths, feeds)
    assert not outcome.failures, "\n".join(outcome.failures)
    unexpected = {
        name: reason
        for name, reason in outcome.refused.items()
        if EXPECTED_REFUSALS.get(name, "\0") not in reason
    }
    assert not unexpected, f"refused: {unexpected}"
    assert set(outcome.refused) == set(EXPECTED_REFUSALS)
    empty = sorted(name for name, feed in outcome.parsed.items() if not feed.items)
    assert empty == ["reuters-1.rss"], "only the truncated Reuters error page has no items"
    lost = {
        path.name: missing
        for path in paths
        if (missing := lost_entries(path.read_bytes(), {}, outcome.parsed.get(path.name)))
        and path.name not in EXPECTED_REFUSALS
    }
    assert not lost, f"entries lost: {lost}"


def test_news_feed_corpus_repairs(shared_dir: Path) -> None:
    feeds = shared_dir / "corpus" / "feeds"

    def parsed(name: str) -> ParsedFeed:
        return parse_feed((feeds / name).read_bytes(), {}, DEFAULT_URL)

    # Declared utf-16, written in UTF-8: feedparser alone finds 0 entries (B5).
    assert len(parsed("eksumic-1.rss").items) == 877
    # Gzip bytes stored without undoing Content-Encoding.
    assert len(parsed("nshipster-1.xml.gz").items) == 25
    # JSON Feed.
    assert [len(parsed(name).items) for name in ("daringfireball-1.json", "influxdata-1.json")] == [
        2,
        3,
    ]
    # Undeclared Latin-1 stays Latin-1 instead of becoming replacement characters.
    assert "\ufffd" not in repr(parsed("uol-1.rss"))


@pytest.mark.parametrize("folder", FEEDPARSER_FOLDERS)
def test_feedparser_suite_only_ever_raises_feed_parse_error(shared_dir: Path, folder: str) -> None:
    root = shared_dir / "corpus" / "feedparser-tests"
    outcome = run(files_under(root / folder), root)
    assert outcome.parsed or outcome.refused, f"no files found in {folder}"
    assert not outcome.failures, "\n".join(outcome.failures)
    odd = {
        name: reason
        for name, reason in outcome.refused.items()
        if not ACCEPTABLE_REFUSALS.match(reason)
    }
    assert not odd, f"refused for an unexpected reason: {odd}"


def test_every_wellformed_entry_arrives(shared_dir: Path) -> None:
    root = shared_dir / "corpus" / "feedparser-tests"
    lost: dict[str, list[str]] = {}
    for path in files_under(root / "wellformed"):
        body = path.read_bytes()
        headers = headers_of(body)
        try:
            feed: ParsedFeed | None = parse_feed(
                body, headers, headers.get("content-location", DEFAULT_URL)
            )
        except FeedParseError:
            feed = None
        if missing := lost_entries(body, headers, feed):
            lost[str(path.relative_to(root))] = missing
    assert not lost, f"{len(lost)} files lost entries: {lost}"
