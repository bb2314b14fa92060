"""ParserPool's workers: bounded in time, lean, deaf to Ctrl+C, and dead with the bot (14.1, 14.7).

The slow documents here are real work, not sleeps: a large feed full of entities (so it takes
the feedparser path) costs seconds of parsing.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import psutil
import pytest

from bot.core.errors import FeedParseError
from bot.ingest.parse import parse_feed
from bot.ingest.pool import ParserPool

URL = "https://news.example/feed.xml"
ROOT = Path(__file__).resolve().parents[2]
PUBDATE = "Tue, 10 Jun 2003 04:00:00 GMT"


def rss(items: str) -> bytes:
    return f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()


def item(guid: str, title: str, inner: str = "") -> str:
    return f"<item><guid isPermaLink='false'>{guid}</guid><title>{title}</title>{inner}</item>"


def good_feed(name: str) -> bytes:
    return rss(item(name, name, f"<pubDate>{PUBDATE}</pubDate>"))


def heavy_feed(n_items: int = 2_000) -> bytes:
    """Seconds of feedparser work (5.3 s idle here, 4.6 MB, 10x the tests' time limits): an
    entity in every title forbids the fast path and 100 categories per item make each costly."""
    categories = "<category>a</category>" * 100
    return rss("".join(item(f"g{n}", f"caf&eacute; {n}", categories) for n in range(n_items)))


def adversarial_date_feed(kilobytes: int = 600) -> bytes:
    """A real date, then ``+0000(`` repeated: before 14.1 the zone-offset check alone took
    0.57 s at 30 KB and 2.65 s at 60 KB (quadratic), and the issue measured 37.7 s at 600 KB."""
    date = "Tue, 10 Jun 2003 04:00:00 " + "+0000(" * (kilobytes * 1024 // 6)
    return rss(item("bad", "x", f"<pubDate>{date}</pubDate>"))


def workers_of(pid: int) -> list[psutil.Process]:
    """Live parser workers whose command line names ``pid`` as their parent."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "bot.ingest.parse_worker" in cmdline and cmdline[-1] == str(pid):
            found.append(proc)
    return found


async def ended(proc: psutil.Process, within: float = 5.0) -> bool:
    """Wait until ``proc`` has exited (a zombie counts: the pool's child watcher reaps it)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.parametrize("fallback", [False, True])
def test_adversarial_dates_parse_in_linear_time(fallback: bool) -> None:
    # An entity in the title sends the document down the feedparser path.
    extra = "&eacute;" if fallback else ""
    timings = []
    for kilobytes in (60, 600):
        body = adversarial_date_feed(kilobytes).replace(b"<title>x", f"<title>x{extra}".encode())
        started = time.perf_counter()
        feed = parse_feed(body, {}, URL)
        timings.append(time.perf_counter() - started)
        assert [(item.guid, item.published) for item in feed.items] == [("bad", None)]
    # 600 KB took 37.7 s before; now both sizes take milliseconds.
    assert timings[1] < 1.0, timings


async def test_a_parse_past_the_time_limit_kills_its_worker_and_others_go_on() -> None:
    async with ParserPool(max_workers=1, time_limit=0.5, slow_after=0.2) as pool:
        await pool.parse(good_feed("warm"), {}, URL)
        (first,) = workers_of(os.getpid())
        slow = asyncio.ensure_future(pool.parse(heavy_feed(), {}, URL))
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        # One worker, busy with the heavy feed: the small feed still gets a worker at once.
        quick = await pool.parse(good_feed("quick"), {}, URL)
        assert quick.items[0].guid == "quick"
        assert time.perf_counter() - started < 5
        with pytest.raises(FeedParseError, match="took too long to parse"):
            await slow
        assert await ended(first), "the timed-out worker was not killed"
        after = await pool.parse(good_feed("after"), {}, URL)
        assert after.items[0].guid == "after"


async def test_workers_are_lean_and_ignore_sigint() -> None:
    async with ParserPool(max_workers=2) as pool:
        await asyncio.gather(*(pool.parse(good_feed(f"g{n}"), {}, URL) for n in range(4)))
        workers = workers_of(os.getpid())
        assert 1 <= len(workers) <= 2
        for worker in workers:
            # A fresh interpreter with the parser only: no spaCy, no SQLAlchemy, no aiohttp.
            assert worker.memory_info().rss < 80 * 2**20, worker.memory_info()
            worker.send_signal(signal.SIGINT)
        await asyncio.sleep(0.3)
        assert all(worker.is_running() for worker in workers)
        feed = await pool.parse(good_feed("still"), {}, URL)
        assert feed.items[0].guid == "still"


def test_workers_die_with_a_process_killed_mid_parse(tmp_path: Path) -> None:
    script = tmp_path / "owner.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, sys
            from bot.ingest.pool import ParserPool
            from tests.ingest.test_parse_pool import good_feed, heavy_feed

            async def main():
                pool = ParserPool(max_workers=2, time_limit=120)
                await pool.parse(good_feed("warm"), {}, "http://x/")
                print("ready", flush=True)
                await asyncio.gather(*(pool.parse(heavy_feed(), {}, "http://x/")
                                       for _ in range(2)))

            asyncio.run(main())
            """
        ),
        encoding="utf-8",
    )
    owner = subprocess.Popen(
        [sys.executable, str(script)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # both workers are now busy parsing, not waiting on their pipe
        workers = workers_of(owner.pid)
        assert len(workers) == 2
        owner.kill()
        owner.wait(10)
        _gone, alive = psutil.wait_procs(workers, timeout=5)
        assert not alive, f"workers outlived their parent: {alive}"
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()


def test_a_closed_pool_leaves_no_process_transport_for_the_garbage_collector() -> None:
    """An unreaped worker's transport fails at collection, inside whatever test runs next."""

    async def use_and_close() -> None:
        pool = ParserPool(max_workers=2)
        await asyncio.gather(*(pool.parse(good_feed(f"g{n}"), {}, URL) for n in range(3)))
        await pool.aclose()

    gc.collect()  # earlier tests' garbage is not this test's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(use_and_close())
        gc.collect()
    unclosed = [str(warning.message) for warning in caught if "transport" in str(warning.message)]
    assert not unclosed, unclosed
