"""The CLI's happy and bad-input paths, in-process, against a feed served on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import Settings

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Loopback Wire</title><link>http://example.org/</link>
<item><title>Leaders meet in Hanoi</title><link>http://example.org/1</link><guid>1</guid></item>
</channel></rss>"""
PAGES = {"/feed.xml": (b"application/rss+xml", RSS), "/page": (b"text/html", b"<html>hi</html>")}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            kind, body = PAGES.get(self.path, (b"text/plain", b""))
            self.send_response(200 if self.path in PAGES else 404)
            self.send_header("Content-Type", kind.decode())
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(Settings, "secrets_path", None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("NEWSBOT_ALLOW_HOSTS", raising=False)
    return CliRunner()


def test_feeds_lifecycle(
    cli: CliRunner, server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_ALLOW_HOSTS", "127.0.0.1")
    added = cli.invoke(app, ["feeds", "add", f"{server}/feed.xml"])
    assert added.exit_code == 0, added.output
    assert "added feed 1: Loopback Wire" in added.output

    again = cli.invoke(app, ["feeds", "add", f"{server}/feed.xml"])
    assert again.exit_code == 1
    assert "already watched" in again.output

    listed = cli.invoke(app, ["feeds", "list"])
    assert "Loopback Wire" in listed.output
    assert f"{server}/feed.xml" in listed.output

    exported = cli.invoke(app, ["feeds", "export", "--out", str(tmp_path / "out.opml")])
    assert exported.exit_code == 0
    assert f"{server}/feed.xml".encode() in (tmp_path / "out.opml").read_bytes()

    assert cli.invoke(app, ["feeds", "remove", "1"]).exit_code == 0
    missing = cli.invoke(app, ["feeds", "remove", "1"])
    assert missing.exit_code == 1
    assert "no feed with id 1" in missing.output

    imported = cli.invoke(app, ["feeds", "import", str(tmp_path / "out.opml")])
    assert imported.exit_code == 0, imported.output
    assert "imported 1 of 1" in imported.output

    ran = cli.invoke(app, ["run", "--once"])
    assert ran.exit_code == 0, ran.output
    assert "polled 1 feed(s)" in ran.output


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/",
        "file:///etc/passwd",
        "/app/.env",
        "javascript:alert(1)",
    ],
)
def test_hostile_urls_are_refused_and_nothing_is_stored(cli: CliRunner, url: str) -> None:
    result = cli.invoke(app, ["feeds", "add", url])
    assert result.exit_code == 1
    assert "address not allowed" in result.output
    assert "no feeds yet" in cli.invoke(app, ["feeds", "list"]).output


def test_a_page_that_is_not_a_feed_is_refused(
    cli: CliRunner, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_ALLOW_HOSTS", "127.0.0.1")
    result = cli.invoke(app, ["feeds", "add", f"{server}/page"])
    assert result.exit_code == 1
    assert "error:" in result.output
    gone = cli.invoke(app, ["feeds", "add", f"{server}/missing"])
    assert gone.exit_code == 1
    assert "404" in gone.output


def test_bad_opml_is_a_clear_error(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.opml"
    bad.write_text("<html>not opml</html>", encoding="utf-8")
    result = cli.invoke(app, ["feeds", "import", str(bad)])
    assert result.exit_code == 1
    assert "bad.opml" in result.output


def test_check_config_masks_secrets(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_DISCORD__TOKEN", "discord-secret-token")
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", "postgresql+asyncpg://bot:pg-secret@db/newsbot")
    result = cli.invoke(app, ["check-config"])
    assert result.exit_code == 0
    assert "discord-secret-token" not in result.output
    assert "pg-secret" not in result.output
    assert "sinks: discord" in result.output


def test_invalid_settings_exit_2_with_the_field(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_POLL__INTERVAL_SECONDS", "5")
    result = cli.invoke(app, ["check-config"])
    assert result.exit_code == 2
    assert "poll.interval_seconds" in result.output


def test_an_unreachable_database_is_one_clear_line(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", "postgresql+asyncpg://bot:pg-secret@127.0.0.1:1/x")
    result = cli.invoke(app, ["feeds", "list"])
    assert result.exit_code == 1
    assert "cannot open the database" in result.output
    assert "pg-secret" not in result.output
    assert "Traceback" not in result.output
