"""Feed bytes -> ParsedFeed: the only module that imports feedparser (RELIABILITY B1, B2, B4-B6).

``parse_feed`` is pure and synchronous so it can run in a worker process; ``ParserPool`` runs it
there under an address-space and a time limit, so a parser bomb costs one parse, never the bot.
Well-formed documents take the fast path (``fastparse``), the rest feedparser.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.encodings import convert_to_utf8

from bot.core.errors import FeedParseError
from bot.core.models import ParsedFeed, ParsedItem
from bot.ingest import fastparse

TITLE_MAX = 500
SUMMARY_MAX = 2_000

# B2: feedparser's loose fallback expands "safe" entities with no amplification limit, so one
# 100 KB entity referenced 2,000 times becomes a 200-million-character title.
_MAX_ENTITY_VALUE = 1_024
_MAX_ENTITIES = 32
_MAX_ENTITY_EXPANSION = 1_000_000

# A body still gzip-encoded (double Content-Encoding) is inflated at most this far (A4's cap).
_MAX_INFLATED_BYTES = 10 * 1024 * 1024

# Dates further ahead than this would stay "newest" for ever and hide later items (B4).
_FUTURE_SLACK = timedelta(days=2)
_MIN_YEAR = 1970
_MAX_OFFSET_MINUTES = 14 * 60

# HTML enough to yield SUMMARY_MAX characters of text; parsing whole 1 MB articles is wasted work.
_MAX_HTML_CHARS = 50_000
_MAX_WARNING = 200
_MAX_INLINE_KEY = 200

# No date is longer than this; past it a date is ignored, before any regex sees it (14.1).
_MAX_DATE_CHARS = 100
_MAX_DATE_BYTES = 4 * _MAX_DATE_CHARS

_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
_JSON_TYPES = ("application/feed+json", "application/json")
_JSON_FEED_VERSION = "https://jsonfeed.org/version/"
_UTF8_FAMILY = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_WIDE_ENCODING = re.compile(
    r"(?:iso-10646-)?(?:utf|ucs)[-_]?(?:16|32|2|4)(?:[-_]?[bl]e)?|csunicode|csucs4"
)
_XML_DECLARATION = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_ENTITY_DECL = re.compile(
    rb"""<!ENTITY\s+(%\s*)?([^\s"'>%]*)\s*[^"'>]*(?:"([^"]*)"?|'([^']*)'?)?"""
)
# Only references long enough to name a surrogate or an out-of-range code point need a look.
_SUSPECT_CHARREF = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]{4,})|0*([0-9]{5,}))")
# Every element feedparser runs its date parsers on (RSS, Atom, Dublin Core, DC terms).
_DATE_ELEMENT = re.compile(
    rb"<(?:[A-Za-z_][\w.-]{0,40}:)?(?i:pubDate|date|published|issued|updated|modified|created"
    rb"|lastBuildDate|expirationDate|expired|valid)(?=[\s/>])[^<>]{0,2000}>"
)
_TRAILING_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})\s*(?:\([^)]*\))?\s*$")
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# [^<>], not [^>]: a run of "<" with no ">" must not rescan to the end from each "<".
_TAG = re.compile(r"<[^<>]*>")
# fmt: off
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
})
# fmt: on
_HIDDEN_TAGS = frozenset({"script", "style", "template"})


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse one fetched RSS/Atom/RDF/JSON Feed document; refusals are FeedParseError."""
    if not body or body.isspace():
        raise FeedParseError("the document is empty")
    fields = {name.lower(): value for name, value in headers.items()}
    body = _inflate_stray_gzip(body)
    content_type = fields.get("content-type", "").split(";")[0].strip().lower()
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, url)
    return _parse_xml_feed(body, fields, url)


def _inflate_stray_gzip(body: bytes) -> bytes:
    """Undo a Content-Encoding the server applied twice; no feed starts with the gzip magic."""
    if not body.startswith(_GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        inflated = inflater.decompress(body, _MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise FeedParseError("the feed is gzip-compressed and the gzip data is broken") from exc
    if inflater.unconsumed_tail:
        raise FeedParseError("the feed is too large once decompressed")
    if not inflater.eof:
        raise FeedParseError("the feed is gzip-compressed and the gzip data is truncated")
    return inflated


def _looks_like_json(body: bytes, content_type: str) -> bool:
    """A body starting with '{' is JSON; a JSON content type counts unless the body is markup."""
    start = body[:1024].removeprefix(_UTF8_BOM).lstrip()[:1]
    return start == b"{" or (content_type in _JSON_TYPES and start != b"<")


# --- RSS / Atom / RDF via feedparser ---------------------------------------------------------


def _parse_xml_feed(body: bytes, fields: Mapping[str, str], url: str) -> ParsedFeed:
    """Run feedparser on our bytes only (never a URL or path) and normalise what it finds."""
    # RFC 7303: a charset parameter decides, else the document's own declaration, whatever the
    # media type. feedparser follows the obsolete RFC 3023 (us-ascii for text/*, ISO-8859-1
    # with no Content-Type), which flags most real feeds and misreads some.
    charset = _charset(fields.get("content-type", ""))
    content_type = f"application/xml; charset={charset}" if charset else "application/xml"
    body, repair_note = _repair_encoding(body, charset)
    try:
        # Decode once, exactly as feedparser would, so the checks below see what it will parse.
        decoding: dict[str, Any] = {}
        data = convert_to_utf8({"content-type": content_type}, body, decoding)
        _refuse_large_entities(data)
        data = _SUSPECT_CHARREF.sub(_replace_impossible_charref, data)
        clean = repair_note is None and "bozo_exception" not in decoding
        result = (fastparse.read(data) if clean else None) or _feedparser(data, fields, url)
    except FeedParseError:
        raise
    except MemoryError as exc:
        raise FeedParseError("the feed needs more memory than the parser may use") from exc
    except RecursionError as exc:
        raise FeedParseError("the feed is nested too deeply to parse") from exc
    except Exception as exc:
        # feedparser has crashed on odd input before; one feed must not break the poller.
        raise FeedParseError(f"the feed parser failed on this document ({_describe(exc)})") from exc
    feed = result.get("feed") or {}
    entries = result.get("entries") or []
    title = _text(feed.get("title"), _is_html(feed.get("title_detail")), TITLE_MAX) or None
    if not entries and (not title or not result.get("version")):
        raise FeedParseError(_not_a_feed_reason(body, result))
    now = datetime.now(UTC)
    items = _unique(_entry_item(entry, now) for entry in entries)
    bozo = result.get("bozo_exception") if result.get("bozo") else decoding.get("bozo_exception")
    warning = _describe(bozo) if bozo is not None else repair_note
    return ParsedFeed(title=title, link=_web_link(feed.get("link")), items=items, warning=warning)


def _feedparser(data: bytes, fields: Mapping[str, str], url: str) -> dict[str, Any]:
    """The fallback for what the fast path declines: bozo, entities, exotic formats."""
    response_headers = {"content-type": "application/xml", "content-location": url}
    if "content-language" in fields:
        response_headers["content-language"] = fields["content-language"]
    # A bare bytes argument is opened as a local path if it names one; a stream never is.
    # Item text leaves here as plain text (_text drops tags, script and style), so
    # feedparser's HTML sanitiser and in-content URL rewriting are pure cost (~15 %).
    result: dict[str, Any] = feedparser.parse(
        io.BytesIO(_drop_long_dates(data)),
        response_headers=response_headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    return result


def _drop_long_dates(data: bytes) -> bytes:
    """Empty every date element longer than any real date before feedparser sees it (14.1).

    feedparser's date regexes take time growing with the square of their input: a 600 KB
    ``pubDate`` of ``+0000(`` took 37.7 s.
    """
    pieces: list[bytes] = []
    done = 0
    for match in _DATE_ELEMENT.finditer(data):
        start = match.end()
        if start < done:
            continue
        if data.startswith(b"<![CDATA[", start):
            end = data.find(b"]]>", start)
            end = len(data) if end < 0 else end + 3
        else:
            end = data.find(b"<", start)
            end = len(data) if end < 0 else end
        if end - start > _MAX_DATE_BYTES:
            pieces.append(data[done:start])
            done = end
    if not pieces:
        return data
    pieces.append(data[done:])
    return b"".join(pieces)


def _replace_impossible_charref(match: re.Match[bytes]) -> bytes:
    """Make references to surrogates or past U+10FFFF read U+FFFD; feedparser crashes on them."""
    hex_digits, decimal_digits = match.group(1), match.group(2)
    code = int(hex_digits, 16) if hex_digits else int(decimal_digits)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return b"&#xFFFD"
    return match.group(0)


def _repair_encoding(body: bytes, header_charset: str) -> tuple[bytes, str | None]:
    """Fix two lies feedparser cannot see through: a UTF-16 label on ASCII bytes, a few bad bytes.

    feedparser decodes UTF-8 with one invalid byte as windows-1252 or ISO-8859-2, garbling every
    character (feedparser PR #421), and reads UTF-8 labelled utf-16 as nonsense with no entries.
    Returns the bytes to parse and a warning when something was repaired.
    """
    if header_charset and header_charset not in _UTF8_FAMILY:
        return body, None
    note = None
    unmarked = body.removeprefix(_UTF8_BOM)
    declaration = _XML_DECLARATION.match(unmarked)
    declared = declaration.group(1).decode("ascii", "replace").lower() if declaration else ""
    if declaration and _WIDE_ENCODING.fullmatch(declared):
        # A declaration readable as ASCII bytes cannot open a UTF-16/32 document (XML 1.0 F.1).
        start, end = declaration.span(1)
        body = body[: len(body) - len(unmarked)] + unmarked[:start] + b"utf-8" + unmarked[end:]
        note = f"document declared as {declared} but written in an ASCII-compatible encoding"
        declared = "utf-8"
    if declared and declared not in _UTF8_FAMILY:
        return body, note
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")
        invalid = text.count("\ufffd") - body.count("\ufffd".encode())
        non_ascii = len(text) - len(text.encode("ascii", "ignore")) - invalid
        # Mostly valid multi-byte sequences: damaged UTF-8, not an undeclared legacy charset.
        if non_ascii > invalid:
            return text.encode("utf-8"), f"replaced {invalid} invalid UTF-8 sequence(s)"
    return body, note


def _charset(content_type: str) -> str:
    """The charset parameter of a Content-Type value, lower-cased, or ''."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'").lower()
    return ""


def _refuse_large_entities(data: bytes) -> None:
    """Refuse entity declarations able to amplify (B2), scanning the bytes feedparser will see."""
    if b"<!ENTITY" not in data:
        return
    sizes: dict[bytes, int] = {}
    for count, match in enumerate(_ENTITY_DECL.finditer(data), start=1):
        if count > _MAX_ENTITIES:
            raise FeedParseError("feed declares too many entities")
        value = match.group(3) if match.group(3) is not None else match.group(4) or b""
        if len(value) > _MAX_ENTITY_VALUE:
            raise FeedParseError("feed declares large entities")
        if not match.group(1) and match.group(2):
            sizes[match.group(2)] = len(value)
    if not sizes:
        return
    names = b"|".join(re.escape(name) for name in sizes)
    references = re.finditer(rb"&(" + names + rb");", data)
    if sum(sizes[ref.group(1)] for ref in references) > _MAX_ENTITY_EXPANSION:
        raise FeedParseError("feed declares large entities")


def _not_a_feed_reason(body: bytes, result: Mapping[str, Any]) -> str:
    """One sentence saying why a document with no entries and no title is refused."""
    head = body[:1024].lower()
    if b"<html" in head or b"<!doctype html" in head:
        return "the URL returned an HTML page, not a feed"
    if result.get("bozo"):
        return f"the document is not a readable feed ({_describe(result.get('bozo_exception'))})"
    return "the document is not an RSS, Atom or JSON feed"


def _entry_item(entry: dict[str, Any], now: datetime) -> ParsedItem:
    """Normalise one feedparser entry; never raises on odd values."""
    title = _text(entry.get("title"), _is_html(entry.get("title_detail")), TITLE_MAX)
    summary_html: object = entry.get("summary")
    summary_is_html = _is_html(entry.get("summary_detail"))
    if not summary_html and entry.get("content"):
        first = entry["content"][0]
        summary_html, summary_is_html = first.get("value"), _is_html(first)
    summary = _text(summary_html, summary_is_html, SUMMARY_MAX)
    stamp: datetime | None = None
    for parsed_key, raw_key in (("published_parsed", "published"), ("updated_parsed", "updated")):
        # dict.get: FeedParserDict maps a missing "updated" to "published" with a warning.
        stamp = _from_struct(dict.get(entry, parsed_key), dict.get(entry, raw_key))
        if stamp is not None:
            break
    guid, link = _id(entry.get("id")), _web_link(entry.get("link"))
    return _item(guid=guid, link=link, title=title, summary=summary, stamp=stamp, now=now)


def _is_html(detail: object) -> bool:
    """feedparser marks each text construct's type; only HTML needs tags stripped."""
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    return not isinstance(kind, str) or "html" in kind or kind == ""


def _from_struct(value: object, raw: object) -> datetime | None:
    """A feedparser UTC time tuple as an aware datetime, or None for impossible dates (B4)."""
    if isinstance(raw, str) and len(raw) > _MAX_DATE_CHARS:
        return None
    if not isinstance(value, tuple) or (isinstance(raw, str) and _bad_offset(raw)):
        return None
    try:
        moment = datetime(*value[:6]).replace(tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
    return moment if moment.year >= _MIN_YEAR else None


def _bad_offset(raw: str) -> bool:
    """True for a zone offset no place uses (e.g. +2500); feedparser silently applies it."""
    match = _TRAILING_OFFSET.search(raw)
    if match is None:
        return False
    hours, minutes = int(match.group(2)), int(match.group(3))
    return minutes > 59 or hours * 60 + minutes > _MAX_OFFSET_MINUTES


# --- JSON Feed 1.0 / 1.1 --------------------------------------------------------------------


def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    """Adapt a JSON Feed (jsonfeed.org 1.0/1.1) to the same records feedparser's output becomes."""
    try:
        document = json.loads(body.decode(json.detect_encoding(body), "replace"))
    except (ValueError, RecursionError) as exc:
        raise FeedParseError("the document looks like JSON but is not valid JSON") from exc
    version = document.get("version") if isinstance(document, dict) else None
    raw_items = document.get("items") if isinstance(document, dict) else None
    if not (
        isinstance(version, str)
        and version.startswith(_JSON_FEED_VERSION)
        and isinstance(raw_items, list)
    ):
        raise FeedParseError("the JSON document is not a JSON Feed")
    title = _text(document.get("title"), False, TITLE_MAX) or None
    if not raw_items and not title:
        raise FeedParseError("the JSON Feed has no title and no items")
    now = datetime.now(UTC)
    items = _unique(_json_item(raw, url, now) for raw in raw_items if isinstance(raw, dict))
    return ParsedFeed(title=title, link=_web_link(document.get("home_page_url")), items=items)


def _json_item(raw: Mapping[str, Any], base: str, now: datetime) -> ParsedItem:
    """Normalise one JSON Feed item; ids may be numbers in the wild, so they are stringified."""
    raw_id = raw.get("id")
    guid = _id(str(raw_id) if isinstance(raw_id, int) and not isinstance(raw_id, bool) else raw_id)
    link = raw.get("url")
    title = _text(raw.get("title"), False, TITLE_MAX)
    if raw.get("summary"):
        summary = _text(raw.get("summary"), False, SUMMARY_MAX)
    elif raw.get("content_text"):
        summary = _text(raw.get("content_text"), False, SUMMARY_MAX)
    else:
        summary = _text(raw.get("content_html"), True, SUMMARY_MAX)
    stamp = _from_iso(raw.get("date_published")) or _from_iso(raw.get("date_modified"))
    web_link = _web_link(urljoin(base, link) if isinstance(link, str) else None)
    return _item(guid=guid, link=web_link, title=title, summary=summary, stamp=stamp, now=now)


def _from_iso(value: object) -> datetime | None:
    """An RFC 3339 string as an aware UTC datetime, or None for anything impossible (B4)."""
    if not isinstance(value, str) or len(value) > _MAX_DATE_CHARS:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    offset = moment.utcoffset()
    if offset is None:
        moment = moment.replace(tzinfo=UTC)
    elif abs(offset) > timedelta(minutes=_MAX_OFFSET_MINUTES):
        return None
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        return None
    return moment if moment.year >= _MIN_YEAR else None


# --- shared normalisation -------------------------------------------------------------------


def _item(
    *,
    guid: str | None,
    link: str | None,
    title: str,
    summary: str,
    stamp: datetime | None,
    now: datetime,
) -> ParsedItem:
    """Build an item whose key survives re-polls: guid, else link, else a content hash (B6).

    The hash uses the date as written, not the clock-filtered ``published``, so an item dated
    three days ahead keeps its key once that date stops being "in the future". With no date
    the title and description decide, so undated items differ as long as their text does
    (items with neither keep the title-only key earlier versions stored).
    """
    if guid is not None:
        key = _key("guid", guid)
    elif link is not None:
        key = _key("link", link)
    elif stamp is not None or not summary:
        key = "hash:" + _digest(f"{title}\n{stamp.isoformat() if stamp else ''}")
    else:
        # The blank line keeps this basis apart from every title-and-date one.
        key = "hash:" + _digest(f"{title}\n\n{summary}")
    published = stamp if stamp is not None and stamp <= now + _FUTURE_SLACK else None
    return ParsedItem(
        key=key, link=link, title=title, summary=summary, published=published, guid=guid
    )


def _key(kind: str, value: str) -> str:
    """A kind-prefixed key, hashed when long so keys stay index-friendly."""
    if len(value) <= _MAX_INLINE_KEY:
        return f"{kind}:{value}"
    return f"{kind}:sha256:{_digest(value)}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def _unique(items: Iterable[ParsedItem]) -> tuple[ParsedItem, ...]:
    """Keep the first item per key; a feed repeating a guid must not post twice (B6)."""
    seen: dict[str, ParsedItem] = {}
    for item in items:
        seen.setdefault(item.key, item)
    return tuple(seen.values())


def _id(value: object) -> str | None:
    """An entry id, stripped and cleaned, or None when absent or blank."""
    if not isinstance(value, str):
        return None
    cleaned = _clean(value)
    return cleaned or None


def _web_link(value: object) -> str | None:
    """The link if it is an absolute http(s) URL; javascript:, data: and the rest are dropped."""
    if not isinstance(value, str):
        return None
    link = value.strip()
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return _clean(link) or None


def _text(value: object, is_html: bool, limit: int) -> str:
    """Plain, single-line, valid Unicode text of at most ``limit`` characters."""
    if not isinstance(value, str) or not value:
        return ""
    text = _html_to_text(value) if is_html else unescape(value)
    text = _clean(text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _clean(text: str) -> str:
    """Collapse whitespace, drop control characters and replace lone surrogates (B5)."""
    text = _SURROGATE.sub("\ufffd", _INVISIBLE.sub("", text))
    return " ".join(text.split())


def _html_to_text(markup: str) -> str:
    """Text content of an HTML fragment, block elements separated by spaces."""
    if len(markup) > _MAX_HTML_CHARS:
        markup = markup[:_MAX_HTML_CHARS]
        cut = markup.rfind("<")
        if cut > markup.rfind(">"):
            markup = markup[:cut]
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
    except AssertionError:
        # html.parser asserts on unknown marked sections such as "<![foo[": strip tags bluntly.
        return unescape(_TAG.sub(" ", markup))
    return "".join(extractor.parts)


class _TextExtractor(HTMLParser):
    """Collects character data, skipping script/style and spacing out block elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Enter hidden elements; block elements start a new word."""
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        """Leave hidden elements; block elements end a word."""
        if tag in _HIDDEN_TAGS:
            self._hidden = max(self._hidden - 1, 0)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        """Keep visible text."""
        if not self._hidden:
            self.parts.append(data)


def _describe(exc: object) -> str:
    """A short one-line description of a bozo or crash exception for logs and warnings."""
    text = f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else str(exc)
    return _text(text, False, _MAX_WARNING)
