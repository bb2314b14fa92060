"""parse_feed and ParserPool on small hostile and odd documents written here (RELIABILITY B1-B6)."""

from __future__ import annotations

import asyncio
import gzip
import json
import pickle
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from bot.core.errors import FeedParseError
from bot.core.models import ParsedFeed
from bot.ingest.parse import SUMMARY_MAX, TITLE_MAX, parse_feed
from bot.ingest.pool import ParserPool

URL = "https://news.example/feed.xml"
XML_DECL = b'<?xml version="1.0" encoding="utf-8"?>\n'


def rss(items: str, *, title: str = "Example", prolog: bytes = XML_DECL) -> bytes:
    """A small RSS 2.0 document around the given <item> markup."""
    body = f'<rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'
    return prolog + body.encode()


def item(
    guid: str | None = None, link: str | None = None, title: str = "A title", **extra: str
) -> str:
    """One <item>; extra keyword arguments become child elements."""
    parts = [f"<title>{title}</title>"]
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if link is not None:
        parts.append(f"<link>{link}</link>")
    parts += [f"<{name}>{value}</{name}>" for name, value in extra.items()]
    return "<item>" + "".join(parts) + "</item>"


def parse(body: bytes, headers: dict[str, str] | None = None) -> ParsedFeed:
    """parse_feed with the test URL."""
    return parse_feed(body, headers or {}, URL)


# --- B1: entity expansion and external entities ---------------------------------------------


def billion_laughs() -> bytes:
    """The classic 9-level entity bomb, referenced from the feed and item titles."""
    decls = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    ]
    prolog = XML_DECL + b"<!DOCTYPE rss [\n" + "\n".join(decls).encode() + b"\n]>\n"
    return rss(item("g1", title="boom &lol9;"), title="&lol9;", prolog=prolog)


def test_billion_laughs_is_parsed_fast_without_expansion() -> None:
    started = time.perf_counter()
    feed = parse(billion_laughs())
    assert time.perf_counter() - started < 1
    assert "lollollol" not in repr(feed)
    assert [entry.guid for entry in feed.items] == ["g1"]


@pytest.mark.parametrize("use_etc_hostname", [False, True])
def test_external_entity_is_never_read(tmp_path: Path, use_etc_hostname: bool) -> None:
    if use_etc_hostname:
        secret_file = Path("/etc/hostname")
        if not secret_file.is_file() or not secret_file.read_text().strip():
            pytest.skip("/etc/hostname is missing or empty here")
    else:
        secret_file = tmp_path / "secret.txt"
        secret_file.write_text("TOP-SECRET-7f3a")
    secret = secret_file.read_text().strip()
    prolog = XML_DECL + f'<!DOCTYPE rss [\n<!ENTITY e SYSTEM "file://{secret_file}">\n]>\n'.encode()
    body = rss(item("g1", title="x &e;", description="&e;"), title="T &e;", prolog=prolog)
    started = time.perf_counter()
    feed = parse(body)
    assert time.perf_counter() - started < 1
    assert secret not in repr(feed)
    assert len(feed.items) == 1


def test_body_naming_a_local_file_is_not_opened(tmp_path: Path) -> None:
    # feedparser.parse(b"/path") opens the file; parse_feed must treat bytes as content only.
    secret_feed = tmp_path / "private.rss"
    secret_feed.write_bytes(rss(item("g1", title="PRIVATE-ITEM"), title="PRIVATE-FEED"))
    with pytest.raises(FeedParseError) as caught:
        parse(str(secret_feed).encode())
    assert "PRIVATE" not in str(caught.value)


# --- B2: quadratic blowup and other declared entities ---------------------------------------


def quadratic_blowup(encoding: str = "utf-8") -> bytes:
    """One 100 KB entity referenced 2,000 times: about 200 MB once expanded."""
    prolog = f'<?xml version="1.0" encoding="{encoding}"?>\n<!DOCTYPE rss [\n'
    prolog += f'<!ENTITY big "{"A" * 100_000}">\n]>\n'
    body = f'<rss version="2.0"><channel><title>{"&big;" * 2_000}</title></channel></rss>'
    return (prolog + body).encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_quadratic_blowup_is_refused_fast(encoding: str) -> None:
    started = time.perf_counter()
    with pytest.raises(FeedParseError, match=r"^feed declares large entities$"):
        parse(quadratic_blowup(encoding))
    assert time.perf_counter() - started < 1


def test_many_small_references_that_add_up_are_refused() -> None:
    decls = "".join(f'<!ENTITY e{n} "{"x" * 1_000}">\n' for n in range(8))
    prolog = XML_DECL + b"<!DOCTYPE rss [\n" + decls.encode() + b"]>\n"
    title = "".join(f"&e{n};" for n in range(8)) * 200
    with pytest.raises(FeedParseError, match="large entities"):
        parse(rss(item("g1"), title=title, prolog=prolog))


def test_too_many_entity_declarations_are_refused() -> None:
    decls = "".join(f'<!ENTITY e{n} "x">\n' for n in range(40))
    prolog = XML_DECL + b"<!DOCTYPE rss [\n" + decls.encode() + b"]>\n"
    with pytest.raises(FeedParseError, match="too many entities"):
        parse(rss(item("g1"), prolog=prolog))


def test_unterminated_entity_value_is_refused() -> None:
    prolog = XML_DECL + b'<!DOCTYPE rss [\n<!ENTITY e "' + b"x" * 5_000
    with pytest.raises(FeedParseError, match="large entities"):
        parse(prolog)


def test_small_harmless_entity_still_parses() -> None:
    # Same shape as feedparser's wellformed/rss/entity_in_doctype.xml.
    prolog = b'<!DOCTYPE rss [\n  <!ENTITY id "tag:example.com,">\n]>\n'
    body = prolog + b'<rss version="2.0"><channel><item>'
    body += b"<guid isPermaLink='false'>&id;2006-05-04:/blog/</guid></item></channel></rss>"
    feed = parse(body)
    assert [entry.guid for entry in feed.items] == ["tag:example.com,2006-05-04:/blog/"]


# --- not a feed, bozo, gzip -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (
            b"<!DOCTYPE html><html><head><title>Maintenance</title></head><body>Back soon</body>",
            {"Content-Type": "text/html; charset=utf-8"},
            "HTML page",
        ),
        (b"", {}, "empty"),
        (b" \r\n", {"Content-Type": "application/rss+xml"}, "empty"),
        (b"just some words", {"Content-Type": "text/plain"}, "not"),
        (b'{"hello": "world"}', {"Content-Type": "application/json"}, "not a JSON Feed"),
        (b"[1, 2, 3]", {"Content-Type": "application/feed+json"}, "not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', {}, "not valid JSON"),
        (b"[" * 100_000, {"Content-Type": "application/json"}, "not valid JSON"),
    ],
    ids=["html", "empty", "blank", "text", "json", "json-list", "bad-json", "deep-json"],
)
def test_documents_that_are_not_feeds_are_refused_clearly(
    body: bytes, headers: dict[str, str], message: str
) -> None:
    with pytest.raises(FeedParseError, match=message) as caught:
        parse(body, headers)
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 300


def test_bozo_feed_keeps_its_entries_and_reports_a_warning() -> None:
    items = item("g1", link="https://news.example/a?x=1&y=2") + item("g2")
    feed = parse(rss(items))
    assert [entry.guid for entry in feed.items] == ["g1", "g2"]
    assert feed.warning is not None
    assert "not well-formed" in feed.warning
    assert len(feed.warning) <= 200


def test_well_formed_feed_has_no_warning() -> None:
    assert parse(rss(item("g1"))).warning is None


@pytest.mark.parametrize("content_type", ["text/html", "text/plain; charset=utf-8", "text/xml"])
def test_feed_served_with_a_non_xml_type_parses_without_warning(content_type: str) -> None:
    feed = parse(rss(item("g1", title="Zürich")), {"Content-Type": content_type})
    assert (feed.items[0].title, feed.warning) == ("Zürich", None)


def test_empty_feed_with_a_title_is_a_feed() -> None:
    feed = parse(rss(""))
    assert feed.title == "Example"
    assert feed.items == ()


def test_stray_gzip_body_is_inflated() -> None:
    feed = parse(gzip.compress(rss(item("g1"))), {"Content-Encoding": "gzip"})
    assert [entry.guid for entry in feed.items] == ["g1"]


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"<" + b" " * (64 * 1024 * 1024))
    with pytest.raises(FeedParseError, match="too large once decompressed"):
        parse(bomb)


def test_broken_gzip_is_refused() -> None:
    with pytest.raises(FeedParseError, match="gzip"):
        parse(gzip.compress(rss(item("g1")))[:40])


# --- B4: dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not a date",
        "0000-00-00",
        "Mon, 01 Jan 0200 00:00:00 GMT",
        "Fri, 31 Dec 1965 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "9999-12-31T23:59:59Z",
        "Mon, 01 Jan 2024 00:00:00 +2500",
        "2024-01-01T00:00:00+25:00",
        "Mon, 01 Jan 2024 00:00:00 +0575",
    ],
)
def test_bad_dates_become_none_and_the_item_is_kept(raw: str) -> None:
    feed = parse(rss(item("g1", pubDate=raw) + item("g2")))
    assert [entry.guid for entry in feed.items] == ["g1", "g2"]
    assert feed.items[0].published is None


def test_far_future_date_becomes_none_but_near_future_is_kept() -> None:
    soon = datetime.now(UTC) + timedelta(days=1)
    later = datetime.now(UTC) + timedelta(days=3)
    rfc822 = "%a, %d %b %Y %H:%M:%S +0000"
    feed = parse(
        rss(
            item("soon", pubDate=soon.strftime(rfc822))
            + item("later", pubDate=later.strftime(rfc822))
        )
    )
    assert feed.items[0].published == soon.replace(microsecond=0)
    assert feed.items[1].published is None


def test_good_dates_are_aware_utc() -> None:
    feed = parse(
        rss(
            item("a", pubDate="Tue, 10 Jun 2003 04:00:00 -0500")
            + item("b", updated="2003-06-10T09:00:00+00:00")
        )
    )
    expected = datetime(2003, 6, 10, 9, 0, tzinfo=UTC)
    assert [entry.published for entry in feed.items] == [expected, expected]
    assert all(entry.published and entry.published.tzinfo is UTC for entry in feed.items)


# --- B5: encodings --------------------------------------------------------------------------


def assert_valid_text(feed: ParsedFeed) -> None:
    """Every string encodes as strict UTF-8: no lone surrogates, nothing undecodable."""
    for text in [feed.title or "", *(f"{e.title}{e.summary}{e.guid}{e.link}" for e in feed.items)]:
        text.encode("utf-8")


def test_declared_us_ascii_with_utf8_body() -> None:
    body = rss(
        item("g1", title="Zürich – café"), prolog=b'<?xml version="1.0" encoding="us-ascii"?>'
    )
    feed = parse(body)
    assert feed.items[0].title == "Zürich – café"
    assert_valid_text(feed)


def test_utf8_with_one_invalid_byte_keeps_the_rest_readable() -> None:
    body = rss(item("g1", title="Zürich café") + item("g2", title="naïve ab\xffcd"))
    body = body.replace("ab\xffcd".encode(), b"ab\xffcd")
    feed = parse(body)
    assert [entry.title for entry in feed.items] == ["Zürich café", "naïve ab\ufffdcd"]
    assert feed.warning is not None
    assert_valid_text(feed)


def test_undeclared_latin1_is_not_mangled_into_replacement_characters() -> None:
    body = rss(item("g1", title="Jornal de Notícias"), prolog=b"").replace(
        "Notícias".encode(), "Notícias".encode("latin-1")
    )
    feed = parse(body)
    assert feed.items[0].title == "Jornal de Notícias"


@pytest.mark.parametrize(
    ("codec", "bom"), [("utf-16-le", True), ("utf-16-be", True), ("utf-16-be", False)]
)
def test_utf16_documents(codec: str, bom: bool) -> None:
    text = (
        '<?xml version="1.0" encoding="utf-16"?>'
        + rss(item("g1", title="Ελλάδα"), prolog=b"").decode()
    )
    body = (("\ufeff" if bom else "") + text).encode(codec)
    feed = parse(body)
    assert feed.items[0].title == "Ελλάδα"
    assert_valid_text(feed)


def test_utf16_label_on_utf8_bytes_is_overridden() -> None:
    body = rss(item("g1", title="転勤"), prolog=b'<?xml version="1.0" encoding="utf-16"?>\n')
    feed = parse(body)
    assert feed.items[0].title == "転勤"
    assert feed.warning is not None


@pytest.mark.parametrize("declared", [True, False])
def test_windows_1252_quotes(declared: bool) -> None:
    prolog = b'<?xml version="1.0" encoding="windows-1252"?>' if declared else b""
    body = prolog + rss(
        item("g1", title="\u201cquoted\u201d \u2013 dash"), prolog=b""
    ).decode().encode("cp1252")
    feed = parse(body)
    assert feed.items[0].title == "\u201cquoted\u201d \u2013 dash"
    assert_valid_text(feed)


def test_header_charset_wins_over_a_missing_declaration() -> None:
    body = rss(item("g1", title="Ελλάδα"), prolog=b"").decode().encode("iso-8859-7")
    feed = parse(body, {"Content-Type": "application/rss+xml; charset=iso-8859-7"})
    assert feed.items[0].title == "Ελλάδα"


def test_lone_surrogate_references_do_not_leak() -> None:
    # Broken XML forces feedparser's loose parser, which turns &#xD800; into a lone surrogate.
    title = "a&#xD800;b &#55296; &#x110000; &#1114112; &#x1F600; c"
    feed = parse(rss(item("g1", title=title) + "<broken"))
    assert_valid_text(feed)
    assert feed.items[0].title == "a\ufffdb \ufffd \ufffd \ufffd \U0001f600 c"


# --- text fields ----------------------------------------------------------------------------


def test_html_is_reduced_to_plain_text() -> None:
    description = (
        "&lt;p&gt;First &amp;amp; &lt;b&gt;bold&lt;/b&gt;&lt;/p&gt;&lt;p&gt;Second&lt;/p&gt;"
        "&lt;script&gt;alert(1)&lt;/script&gt;   &lt;br/&gt;  &amp;eacute;t&amp;eacute;"
    )
    feed = parse(
        rss(
            item(
                "g1", title="Tom &amp;amp; Jerry &lt;i&gt;again&lt;/i&gt;", description=description
            )
        )
    )
    assert feed.items[0].title == "Tom & Jerry again"
    assert feed.items[0].summary == "First & bold Second été"


def test_unknown_marked_section_does_not_break_text_extraction() -> None:
    feed = parse(rss(item("g1", description="&lt;![foo[ x ]]&gt; visible &lt;b&gt;text&lt;/b&gt;")))
    assert "visible" in feed.items[0].summary
    assert "<b>" not in feed.items[0].summary


def test_title_and_summary_are_capped() -> None:
    feed = parse(rss(item("g1", title="t" * 5_000, description="word " * 5_000)))
    assert len(feed.items[0].title) == TITLE_MAX
    assert len(feed.items[0].summary) <= SUMMARY_MAX
    assert feed.items[0].title.endswith("…")


def test_content_is_used_when_there_is_no_description() -> None:
    body = rss(item("g1", **{"content:encoded": "&lt;p&gt;From content&lt;/p&gt;"})).replace(
        b'<rss version="2.0">',
        b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
    )
    assert parse(body).items[0].summary == "From content"


def test_atom_plain_text_title_and_relative_link() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Atom &amp; Eve</title>
<link href="/"/><id>urn:feed</id>
<entry><id>urn:uuid:1</id><title type="text">1 &lt; 2</title><link href="/posts/1"/>
<updated>2024-03-01T12:00:00Z</updated>
<summary type="html">&lt;em&gt;hi&lt;/em&gt;</summary></entry>
</feed>"""
    feed = parse(body, {"Content-Type": "application/atom+xml"})
    assert feed.title == "Atom & Eve"
    assert feed.link == "https://news.example/"
    (entry,) = feed.items
    assert (entry.title, entry.summary, entry.link) == (
        "1 < 2",
        "hi",
        "https://news.example/posts/1",
    )
    assert entry.published == datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "data:text/html,hi", "ftp://files.example/x", "mailto:a@b.example"],
)
def test_non_web_links_are_dropped(link: str) -> None:
    entry = parse(rss(item("g1", link=link))).items[0]
    assert entry.link is None


# --- B6: keys -------------------------------------------------------------------------------


def test_missing_guid_falls_back_to_the_link() -> None:
    entry = parse(rss(item(link="https://news.example/a"))).items[0]
    assert entry.guid is None
    assert entry.key == "link:https://news.example/a"


def test_no_guid_and_no_link_gives_a_hash_key_stable_across_parses() -> None:
    body = rss(
        item(title="Summit opens", pubDate="Tue, 10 Jun 2003 04:00:00 GMT") + item(title="Other")
    )
    first, second = parse(body), parse(body)
    keys = [entry.key for entry in first.items]
    assert keys == [entry.key for entry in second.items]
    assert all(key.startswith("hash:") for key in keys)
    assert len(set(keys)) == 2


def test_hash_key_does_not_depend_on_the_clock() -> None:
    # A date 3 days ahead is dropped from ``published`` today but kept tomorrow; the key is not.
    later = (datetime.now(UTC) + timedelta(days=3)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    entry = parse(rss(item(title="Planned", pubDate=later))).items[0]
    assert entry.published is None
    basis = parse(rss(item(title="Planned"))).items[0]
    assert entry.key != basis.key


def test_duplicate_guids_in_one_document_give_one_item() -> None:
    items = item("same", title="First") + item("same", title="Second") + item("other")
    feed = parse(rss(items))
    assert [(entry.guid, entry.title) for entry in feed.items] == [
        ("same", "First"),
        ("other", "A title"),
    ]


def test_guid_and_link_keys_are_distinct_kinds() -> None:
    items = item("https://news.example/a") + item(link="https://news.example/a")
    keys = [entry.key for entry in parse(rss(items)).items]
    assert keys == ["guid:https://news.example/a", "link:https://news.example/a"]


def test_very_long_guid_is_hashed_into_a_short_key() -> None:
    entry = parse(rss(item("g" * 5_000))).items[0]
    assert entry.guid == "g" * 5_000
    assert entry.key.startswith("guid:sha256:")
    assert len(entry.key) < 100


# --- JSON Feed ------------------------------------------------------------------------------


def json_feed(items: list[dict[str, object]], version: str = "1.1", **top: object) -> bytes:
    """A JSON Feed document."""
    document = {"version": f"https://jsonfeed.org/version/{version}", "title": "JSON news"}
    document.update(top)
    document["items"] = items
    return json.dumps(document).encode()


def test_json_feed_items() -> None:
    body = json_feed(
        [
            {
                "id": "1",
                "url": "https://news.example/1",
                "title": "One &amp; only",
                "content_html": "<p>Hello <b>there</b></p>",
                "date_published": "2024-05-01T10:00:00+02:00",
            },
            {"id": 2, "url": "/2", "content_text": "Plain  text", "date_published": "garbage"},
            {"id": "1", "title": "duplicate id"},
            {
                "url": "https://news.example/3",
                "summary": "Short",
                "date_modified": "2024-05-02T00:00:00Z",
            },
            "not an item",
        ],
        home_page_url="https://news.example/",
    )
    feed = parse(body, {"Content-Type": "application/feed+json"})
    assert (feed.title, feed.link, feed.warning) == ("JSON news", "https://news.example/", None)
    assert [entry.key for entry in feed.items] == [
        "guid:1",
        "guid:2",
        "link:https://news.example/3",
    ]
    first, second, third = feed.items
    assert (first.title, first.summary) == ("One & only", "Hello there")
    assert first.published == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert (second.link, second.summary, second.published) == (
        "https://news.example/2",
        "Plain text",
        None,
    )
    assert third.published == datetime(2024, 5, 2, tzinfo=UTC)


@pytest.mark.parametrize("prefix", [b"", b"  \n", b"\xef\xbb\xbf"])
def test_json_feed_is_detected_by_its_body(prefix: bytes) -> None:
    feed = parse(
        prefix + json_feed([{"id": "a", "title": "x"}], version="1"), {"Content-Type": "text/plain"}
    )
    assert [entry.guid for entry in feed.items] == ["a"]


@pytest.mark.parametrize(
    "date",
    ["0000-00-00", "9999-12-31T23:59:59Z", "1900-01-01T00:00:00Z", "2024-01-01T00:00:00+15:00"],
)
def test_json_feed_bad_dates(date: str) -> None:
    entry = parse(json_feed([{"id": "a", "date_published": date}])).items[0]
    assert entry.published is None


def test_json_feed_without_title_or_items_is_not_a_feed() -> None:
    with pytest.raises(FeedParseError, match="no title and no items"):
        parse(json_feed([], title=""))


# --- results cross a process boundary -------------------------------------------------------


def test_parsed_feed_pickles() -> None:
    feed = parse(rss(item("g1", pubDate="Tue, 10 Jun 2003 04:00:00 GMT")))
    assert pickle.loads(pickle.dumps(feed)) == feed


def test_feed_parse_error_pickles() -> None:
    error = pickle.loads(pickle.dumps(FeedParseError("feed declares large entities")))
    assert str(error) == "feed declares large entities"


# --- ParserPool -----------------------------------------------------------------------------


def worker_processes(known: set[int] | frozenset[int] = frozenset()) -> list[psutil.Process]:
    """Pool workers (``python -m bot.ingest.parse_worker`` children) not in ``known``."""
    return [
        proc
        for proc in psutil.Process().children()
        if "bot.ingest.parse_worker" in proc.cmdline() and proc.pid not in known
    ]


def big_feed(n_items: int) -> bytes:
    """A valid feed that takes a worker a noticeable time to parse."""
    items = "".join(item(f"g{n}", description="word " * 200) for n in range(n_items))
    return rss(items)


async def test_pool_round_trip_and_close() -> None:
    async with ParserPool(max_workers=2) as pool:
        results = await asyncio.gather(
            *(
                pool.parse(rss(item(f"g{n}")), {"Content-Type": "application/rss+xml"}, URL)
                for n in range(4)
            )
        )
        assert [feed.items[0].guid for feed in results] == ["g0", "g1", "g2", "g3"]
        with pytest.raises(FeedParseError, match="HTML page"):
            await pool.parse(b"<html><body>hi</body></html>", {"Content-Type": "text/html"}, URL)
    with pytest.raises(RuntimeError):
        await pool.parse(rss(item("g1")), {}, URL)


async def test_pool_recovers_after_a_worker_is_killed() -> None:
    earlier = {proc.pid for proc in worker_processes()}
    async with ParserPool(max_workers=1) as pool:
        await pool.parse(rss(item("warm")), {}, URL)
        (worker,) = worker_processes(earlier)
        slow = asyncio.ensure_future(pool.parse(big_feed(20_000), {}, URL))
        await asyncio.sleep(0.3)
        worker.kill()
        with pytest.raises(FeedParseError, match="parser process died"):
            await slow
        feed = await pool.parse(rss(item("after")), {}, URL)
        assert feed.items[0].guid == "after"
        assert [proc.pid for proc in worker_processes(earlier)] != [worker.pid]


async def test_pool_recovers_after_a_memory_error() -> None:
    earlier = {proc.pid for proc in worker_processes()}
    async with ParserPool(max_workers=1) as probe:
        await probe.parse(rss(item("warm")), {}, URL)
        (worker,) = worker_processes(earlier)
        baseline_mb = worker.memory_info().vms // 2**20
    async with ParserPool(max_workers=1, memory_limit_mb=baseline_mb + 64) as pool:
        await pool.parse(rss(item("warm")), {}, URL)
        too_big = rss(item("g1", title="a" * (16 * 2**20)))
        with pytest.raises(FeedParseError, match=r"memory|died"):
            await pool.parse(too_big, {}, URL)
        feed = await pool.parse(rss(item("after")), {}, URL)
        assert feed.items[0].guid == "after"
