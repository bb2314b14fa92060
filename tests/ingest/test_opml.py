"""OPML import/export: round trip, nesting, duplicates and hostile documents (RELIABILITY B1)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.core.errors import FeedParseError
from bot.ingest.opml import OpmlFeed, parse_opml, render_opml

NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Subscriptions</title></head>
  <body>
    <outline text="News">
      <outline text="World">
        <outline type="rss" text="BBC World" title="BBC News - World"
                 xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"
                 htmlUrl="https://www.bbc.co.uk/news/world"/>
      </outline>
      <outline type="rss" text="Reuters" xmlUrl=" https://example.com/reuters.xml "/>
    </outline>
    <outline type="rss" text="BBC again" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
    <outline type="rss" xmlurl="https://example.com/lowercase-attribute.xml"/>
    <outline text="A folder with no feeds"/>
  </body>
</opml>
"""


def test_nested_outlines_are_flattened_in_order_without_duplicates() -> None:
    assert parse_opml(NESTED) == [
        OpmlFeed("https://feeds.bbci.co.uk/news/world/rss.xml", "BBC News - World"),
        OpmlFeed("https://example.com/reuters.xml", "Reuters"),
        OpmlFeed("https://example.com/lowercase-attribute.xml", None),
    ]


def test_round_trip_keeps_urls_and_titles() -> None:
    feeds = [
        ("https://a.example/feed?x=1&y=2", 'Tom & Jerry <"quoted">'),
        ("https://b.example/rss", None),
        ("https://c.example/atom", "Ελληνικά · 日本語"),
    ]
    document = render_opml(feeds)
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<opml version=\"2.0\">")
    assert parse_opml(document) == [OpmlFeed(url, title) for url, title in feeds]


def test_render_drops_characters_xml_cannot_carry() -> None:
    document = render_opml([("https://a.example/feed", "bell\x07 and \ud800 surrogate")])
    assert parse_opml(document) == [OpmlFeed("https://a.example/feed", "bell and surrogate")]


def test_empty_export_is_valid_opml() -> None:
    assert parse_opml(render_opml([])) == []


@pytest.mark.parametrize("codec", ["utf-8", "utf-16"])
def test_doctype_is_refused_in_any_encoding(codec: str) -> None:
    laughs = "".join(
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' if n else '<!ENTITY l0 "lol">' for n in range(10)
    )
    text = (
        f'<?xml version="1.0" encoding="{codec}"?>\n<!DOCTYPE opml [{laughs}]>\n'
        '<opml version="2.0"><body><outline text="&l9;" xmlUrl="https://x.example/"/></body></opml>'
    )
    started = time.perf_counter()
    with pytest.raises(FeedParseError, match="DOCTYPE are refused"):
        parse_opml(text.encode(codec))
    assert time.perf_counter() - started < 1


def test_external_entity_is_refused_and_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-OPML")
    document = (
        f'<!DOCTYPE opml [<!ENTITY e SYSTEM "file://{secret}">]>'
        '<opml version="2.0"><body><outline text="&e;" xmlUrl="https://x.example/"/></body></opml>'
    ).encode()
    with pytest.raises(FeedParseError) as caught:
        parse_opml(document)
    assert "TOP-SECRET" not in str(caught.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b'<rss version="2.0"><channel/></rss>', "not OPML"),
        (b"<html><body>Not here</body></html>", "not OPML"),
        (b"<opml><body><outline", "not well-formed"),
        (b"", "not well-formed"),
        (b"url1\nurl2\n", "not well-formed"),
    ],
)
def test_non_opml_is_refused_clearly(document: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_opml(document)
