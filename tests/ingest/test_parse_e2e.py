"""The real ``newsbot`` in a subprocess: hostile feeds cannot stall start-up, workers die with it.

Feeds are served on 127.0.0.1 by a small threaded server: 20 good feeds, two with a 600 KB
adversarial ``pubDate`` and two that take seconds to parse (past a 1 s time limit).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest

from tests.ingest.test_parse_pool import adversarial_date_feed, good_feed, heavy_feed, workers_of
from tests.ops.feeds import free_port
from tests.processes import newsbot

ROOT = Path(__file__).resolve().parents[2]
GOOD = 20


@pytest.fixture
def feeds() -> Iterator[dict[str, str]]:
    """URL per feed name: good-0..19, date-0..1, heavy-0..1."""
    bodies = {f"good-{n}": good_feed(f"good-{n}") for n in range(GOOD)}
    bodies |= {f"date-{n}": adversarial_date_feed() for n in range(2)}
    bodies |= {f"heavy-{n}": heavy_feed() for n in range(2)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path.strip("/").removesuffix(".xml"))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        yield {name: f"http://127.0.0.1:{port}/{name}.xml" for name in bodies}
    finally:
        server.shutdown()
        server.server_close()


def environment(tmp_path: Path, urls: list[str]) -> dict[str, str]:
    listing = "".join(f'[[feeds]]\nurl = "{url}"\n' for url in urls)
    (tmp_path / "feeds.toml").write_text(listing, encoding="utf-8")
    return {
        **os.environ,
        "NEWSBOT_ALLOW_HOSTS": "127.0.0.1",
        "NEWSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}",
        "NEWSBOT_FEEDS_FILE": str(tmp_path / "feeds.toml"),
        "NEWSBOT_NLP__FETCH_ARTICLES": "false",
        "NEWSBOT_PARSE__TIME_LIMIT_SECONDS": "1",
        "NEWSBOT_HEALTH_PORT": str(free_port()),
        "PYTHONPATH": str(ROOT),
    }


@pytest.mark.slow
def test_hostile_feeds_never_hold_up_the_start_up_cycle(
    tmp_path: Path, feeds: dict[str, str]
) -> None:
    env = environment(tmp_path, list(feeds.values()))
    ran = newsbot("run", "--once", cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    report = re.search(r"polled (\d+) feed\(s\) in ([\d.]+) s", ran.stdout + ran.stderr)
    assert report, ran.stdout[-2000:]
    assert int(report.group(1)) == len(feeds)
    # Before 14.1 the two date feeds alone kept this cycle from ever finishing.
    assert float(report.group(2)) < 30, ran.stdout
    listed = newsbot("feeds", "list", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    states = {
        url: state.split(" · owners:")[0]
        for url, state in re.findall(r"(http://\S+)\n\s+(.*)", listed.stdout)
    }
    assert len(states) == len(feeds), listed.stdout
    for name, url in feeds.items():
        if name.startswith("heavy"):
            assert "took too long to parse" in states[url], (name, states[url])
        else:
            # The date feeds parse in milliseconds now; their items keep first-seen dates.
            assert states[url] == "ok", (name, states[url])


@pytest.mark.slow
def test_parser_workers_die_within_seconds_of_a_kill_9(
    tmp_path: Path, feeds: dict[str, str]
) -> None:
    env = environment(tmp_path, [feeds[f"good-{n}"] for n in range(GOOD)])
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 100
        workers: list[psutil.Process] = []
        while not workers:
            assert bot.poll() is None, (bot.stderr.read() if bot.stderr else b"")[-3000:]
            assert time.monotonic() < deadline, "the bot never started a parser worker"
            time.sleep(0.2)
            workers = workers_of(bot.pid)
        bot.kill()
        bot.wait(10)
        _gone, alive = psutil.wait_procs(workers, timeout=5)
        assert not alive, f"parser workers outlived the bot: {alive}"
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
