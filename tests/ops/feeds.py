"""A feed of real summit stories (the dev set), served on 127.0.0.1 with an ETag."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape


def summit_feed(dev_set: Path) -> bytes:
    """An RSS feed of the dev set's summit stories, full text in the description."""
    entries = []
    for number, line in enumerate(dev_set.read_text(encoding="utf-8").splitlines()):
        record = json.loads(line)
        if not record["is_summit"]:
            continue
        day = datetime.fromisoformat(record["published"] or "2026-11-20").replace(tzinfo=UTC)
        link = f"http://127.0.0.1/story/{number}"
        entries.append(
            f"<item><title>{escape(record['title'])}</title><link>{link}</link>"
            f"<guid>{link}</guid><pubDate>{format_datetime(day)}</pubDate>"
            f"<description>{escape(record['text'])}</description></item>"
        )
    channel = f"<channel><title>Summit Wire</title>{''.join(entries)}</channel>"
    return f"<?xml version='1.0'?><rss version='2.0'>{channel}</rss>".encode()


@contextmanager
def serve(body: bytes, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``body`` as RSS at the yielded URL; a matching If-None-Match gets a 304."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer((host, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_address[1]}/summits.xml"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
