"""OPML import and export of subscriptions; documents with a DOCTYPE are refused (RELIABILITY B1).

Parsing uses pyexpat events rather than a byte pre-scan, so a DOCTYPE is caught in any encoding
(UTF-16 included) before an entity could be declared, and nothing is ever fetched.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree import ElementTree
from xml.parsers import expat

from bot.core.errors import FeedParseError

# Characters XML 1.0 cannot carry at all; a title holding one would make the export unreadable.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription listed in an OPML file."""

    url: str
    title: str | None = None


class _OutlineCollector:
    """Collects feed outlines at any depth; category outlines only group them."""

    def __init__(self) -> None:
        self.feeds: dict[str, OpmlFeed] = {}
        self._root: str | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        """Check the root is <opml>, then record every outline carrying an xmlUrl."""
        if self._root is None:
            self._root = name
            if name.lower() != "opml":
                raise FeedParseError(f"the file is not OPML (its root element is <{name[:40]}>)")
        if name != "outline":
            return
        fields = {key.lower(): " ".join(value.split()) for key, value in attrs.items()}
        url = fields.get("xmlurl")
        if url and url not in self.feeds:
            label = fields.get("title") or fields.get("text")
            # Exporters (ours included) repeat the URL when a feed has no title.
            self.feeds[url] = OpmlFeed(url, label if label and label != url else None)


def _refuse_doctype(*_: object) -> None:
    """Entity declarations need a DOCTYPE; refusing it rules out expansion bombs and XXE."""
    raise FeedParseError("OPML files with a DOCTYPE are refused, because they can declare entities")


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds listed in an OPML document, in document order, each URL once."""
    collector = _OutlineCollector()
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.StartElementHandler = collector.start
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise FeedParseError(f"the file is not well-formed XML ({exc})") from exc
    return list(collector.feeds.values())


def render_opml(feeds: Iterable[tuple[str, str | None]], title: str = "newsbot feeds") -> bytes:
    """An OPML 2.0 document listing ``(url, title)`` pairs, for export to other readers."""
    root = ElementTree.Element("opml", version="2.0")
    ElementTree.SubElement(ElementTree.SubElement(root, "head"), "title").text = _xml_safe(title)
    body = ElementTree.SubElement(root, "body")
    for url, feed_title in feeds:
        label = _xml_safe(feed_title or url)
        ElementTree.SubElement(
            body, "outline", type="rss", text=label, title=label, xmlUrl=_xml_safe(url)
        )
    ElementTree.indent(root)
    buffer = io.BytesIO()
    ElementTree.ElementTree(root).write(buffer, encoding="utf-8", xml_declaration=True)
    return buffer.getvalue() + b"\n"


def _xml_safe(text: str) -> str:
    """Drop characters XML cannot represent even escaped (control characters, lone surrogates)."""
    return _NOT_XML_CHAR.sub("", text)
