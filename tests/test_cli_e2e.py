"""`newsbot run --once` end to end: real feeds served on 127.0.0.1, the real CLI in a subprocess."""

from __future__ import annotations

import gzip
import hashlib
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from bot.core.errors import FeedParseError
from bot.ingest.parse import parse_feed
from tests.processes import newsbot

TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/feed+json",
    ".html": "text/html",
    ".gz": "application/rss+xml",
}


@dataclass
class FeedServer:
    """Serves a folder with ETags and 304s, counting the status of every answer."""

    root: Path
    statuses: Counter[int] = field(default_factory=Counter)
    port: int = 0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


@pytest.fixture
def feed_server(shared_dir: Path) -> Iterator[FeedServer]:
    state = FeedServer(shared_dir / "corpus" / "feeds")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = state.root / self.path.lstrip("/")
            if not path.is_file() or path.parent != state.root:
                self._answer(404)
                return
            body = path.read_bytes()
            etag = '"' + hashlib.sha1(body).hexdigest() + '"'
            if self.headers.get("If-None-Match") == etag:
                self._answer(304, etag=etag)
                return
            self._answer(200, body, etag=etag, suffix=path.suffix)

        def _answer(self, status: int, body: bytes = b"", etag: str = "", suffix: str = "") -> None:
            with lock:
                state.statuses[status] += 1
            self.send_response(status)
            if etag:
                self.send_header("ETag", etag)
            if suffix:
                self.send_header("Content-Type", TYPES.get(suffix, "application/xml"))
            if suffix == ".gz":
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def expected_items(path: Path) -> int | None:
    """What our parser makes of the file (None when it is not a parseable feed)."""
    body = path.read_bytes()
    if path.suffix == ".gz":
        body = gzip.decompress(body)
    headers = {"content-type": TYPES.get(path.suffix, "application/xml")}
    try:
        items = parse_feed(body, headers, f"http://127.0.0.1/{path.name}").items
    except FeedParseError:
        return None
    seen: set[str] = set()
    count = 0
    for item in items:
        marks = {item.key} | ({f"link:{item.link}"} if item.link else set())
        if not marks & seen:
            count += 1
        seen |= marks
    return count


@pytest.mark.slow
# Two full cycles with spaCy over every corpus feed: 148 s measured at load average 12.
@pytest.mark.timeout(600)
def test_run_once_over_real_feeds_then_nothing_new_and_all_304(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    files = sorted(p for p in feed_server.root.iterdir() if p.suffix in TYPES)
    outlines = "\n".join(
        f"<outline text={quoteattr(p.stem)} xmlUrl={quoteattr(feed_server.url(p.name))}/>"
        for p in files
    )
    opml = tmp_path / "feeds.opml"
    opml.write_text(f"<opml version='2.0'><head/><body>{outlines}</body></opml>", "utf-8")
    env = {
        **os.environ,
        "NEWSBOT_ALLOW_HOSTS": "127.0.0.1",
        "NEWSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}",
        "NEWSBOT_POLL__FIRST_POLL_ANNOUNCE": "0",
        "NEWSBOT_NLP__FETCH_ARTICLES": "false",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }

    imported = newsbot("feeds", "import", str(opml), cwd=tmp_path, env=env)
    assert imported.returncode == 0, imported.stderr
    assert f"imported {len(files)} of {len(files)}" in imported.stdout

    first = newsbot("run", "--once", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "SUMMIT STORY" not in first.stdout, "a feed's first poll announces nothing"
    assert "Summit stories right now" in first.stdout, "the terminal's first digest"

    with sqlite3.connect(tmp_path / "newsbot.db") as db:
        stored = dict(
            db.execute(
                "SELECT feeds.url, count(items.id) FROM feeds "
                "LEFT JOIN items ON items.feed_id = feeds.id GROUP BY feeds.url"
            ).fetchall()
        )
        errors = dict(db.execute("SELECT url, last_error FROM feeds").fetchall())
    parseable = 0
    for path in files:
        want = expected_items(path)
        if want is None:
            continue
        parseable += 1
        url = feed_server.url(path.name)
        assert stored[url] == want, f"{path.name}: {errors[url]}\n{first.stderr[-3000:]}"
    assert parseable >= len(files) - 5

    feed_server.statuses.clear()
    second = newsbot("run", "--once", cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == ""
    assert "0 new item(s)" in second.stderr
    assert feed_server.statuses == {304: parseable}
