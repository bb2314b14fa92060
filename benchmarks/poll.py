"""Polling benchmark: our production poller vs. ``reader`` and a sequential feedparser loop.

Run by hand (not a test; ``pip install -e .[dev,bench]`` for ``reader``); it prints a table and
the ratios of issue 13 with their goals:

    .venv/bin/python benchmarks/poll.py [--feeds 1000] [--latency-ms 100] [--concurrency 50]
                                        [--baseline-feeds N] [--reader-workers N] [--profile]

A separate process serves N generated RSS 2.0 feeds (20 items each) on 127.0.0.1 with an
artificial per-request latency, ETag + Last-Modified and 304 answers to conditional requests.
It counts its 200/304 answers (``/_admin/stats``), refuses to answer more than a fixed number of
requests, and exits by itself after a fixed lifetime (or when this process goes away).

Measured, in this order, in one run:

1. our poller, wired like ``bot.app.build_app`` (Store on SQLite, Fetcher, ParserPool, Poller),
   cycle 1 (every feed 200, parsed, 20 items stored per feed) and cycle 2 (every feed 304);
2. the peer: ``reader`` (the library behind discord-rss-bot, SQLite storage, feedparser,
   requests in ``--reader-workers`` threads) updating the same feeds, cycle 1 and cycle 2;
3. the baseline: ``for url: feedparser.parse(url)`` over the first ``--baseline-feeds`` feeds.

No traffic leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import multiprocessing
import os
import pickle
import pstats
import random
import resource
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import feedparser
import psutil
from sqlalchemy import event

from bot.core.models import FeedInfo, NewItem
from bot.ingest.fetch import Fetcher, FetchLimits
from bot.ingest.parse import parse_feed
from bot.ingest.poll import CycleReport, Poller, PollPolicy
from bot.ingest.pool import ParserPool
from bot.ingest.safety import AddressPolicy
from bot.storage.db import filesystem_type
from bot.storage.store import Store

ITEMS_PER_FEED = 20
GOAL_SPEEDUP = 30.0
GOAL_READER = 3.0
GOAL_CPU_RATIO = 5.0
GOAL_CPU_MS = 4.0
LAST_MODIFIED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
BASELINE_DEADLINE_S = 600.0

_WORD_TEXT = (
    "summit leaders talks minister president government agreement trade security climate "
    "delegation bilateral meeting official statement week capital border economic policy "
    "foreign defence council nations alliance sanctions energy market growth crisis vote "
    "parliament election reform budget tax health education court ruling police protest "
    "city region country international global local national report data analysis plan "
    "deal negotiators envoy embassy treaty ceasefire aid investment tariffs exports imports "
    "the a of and to in on for with at by from after before during over under against "
    "said says will would could may might new old first last next major key senior joint "
    "announced expected agreed rejected discussed signed held hosted visited opened closed"
)
_WORDS = _WORD_TEXT.split()


# --- generated feeds (shared by the server, the warm-up and the profile) ---------------------


def feed_body(index: int) -> bytes:
    """A deterministic RSS 2.0 document: 20 items, title/link/guid/pubDate/25-60-word text."""
    rng = random.Random(index * 7919 + 17)
    base = LAST_MODIFIED - timedelta(minutes=index)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n',
        f"<title>Benchmark feed {index}</title>\n",
        f"<link>https://news{index % 97}.example.org/section/{index}</link>\n",
        f"<description>Generated feed number {index} for the polling benchmark</description>\n",
        f"<lastBuildDate>{format_datetime(base, usegmt=True)}</lastBuildDate>\n",
    ]
    for item in range(ITEMS_PER_FEED):
        title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 12))).capitalize()
        text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(25, 60)))
        stamp = format_datetime(base - timedelta(hours=item, minutes=rng.randint(0, 59)), True)
        link = f"https://news{index % 97}.example.org/{index}/{item}/{rng.getrandbits(32):08x}"
        parts.append(
            "<item>\n"
            f"<title>{escape(title)}</title>\n"
            f"<link>{link}</link>\n"
            f'<guid isPermaLink="false">bench-{index}-{item}</guid>\n'
            f"<pubDate>{stamp}</pubDate>\n"
            f"<description>{escape(text.capitalize())}.</description>\n"
            "</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode("utf-8")


# --- the feed server (separate process) ------------------------------------------------------


def _serve(
    conn: Any, feeds: int, latency_ms: float, lifetime_s: float, max_requests: int, parent: int
) -> None:
    """Process entry point: serve the feeds until stopped, the lifetime ends or the parent dies."""
    asyncio.run(_serve_async(conn, feeds, latency_ms, lifetime_s, max_requests, parent))


async def _serve_async(
    conn: Any, feeds: int, latency_ms: float, lifetime_s: float, max_requests: int, parent: int
) -> None:
    from aiohttp import web

    bodies = [feed_body(i) for i in range(feeds)]
    etags = [f'"bench-{i}-v1"' for i in range(feeds)]
    last_modified = format_datetime(LAST_MODIFIED, usegmt=True)
    latency = latency_ms / 1000.0
    counts: Counter[str] = Counter()
    stop = asyncio.Event()

    def not_modified(index: int, request: web.Request) -> bool:
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match is not None:  # RFC 9110 13.2.2: If-None-Match wins over IMS
            tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
            return "*" in tags or etags[index] in tags
        if_modified_since = request.headers.get("If-Modified-Since")
        if if_modified_since is None:
            return False
        try:
            return parsedate_to_datetime(if_modified_since) >= LAST_MODIFIED
        except (TypeError, ValueError):
            return False

    async def feed(request: web.Request) -> web.Response:
        counts["requests"] += 1
        if counts["requests"] > max_requests:
            counts["refused"] += 1
            stop.set()
            return web.Response(status=503, text="request budget exhausted")
        try:
            index = int(request.match_info["index"])
        except ValueError:
            index = -1
        if not 0 <= index < feeds:
            counts["other"] += 1
            return web.Response(status=404)
        if latency:
            await asyncio.sleep(latency)
        headers = {"ETag": etags[index], "Last-Modified": last_modified}
        if not_modified(index, request):
            counts["304"] += 1
            return web.Response(status=304, headers=headers)
        counts["200"] += 1
        return web.Response(
            body=bodies[index], headers=headers, content_type="application/rss+xml", charset="utf-8"
        )

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(dict(counts))

    async def shutdown(_request: web.Request) -> web.Response:
        stop.set()
        return web.json_response(dict(counts))

    app = web.Application()
    app.router.add_get("/feed/{index}.xml", feed)
    app.router.add_get("/_admin/stats", stats)
    app.router.add_get("/_admin/stop", shutdown)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    conn.send(runner.addresses[0][1])
    conn.close()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lifetime_s
    try:
        while not stop.is_set() and loop.time() < deadline and os.getppid() == parent:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    finally:
        await runner.cleanup()


@dataclass
class FeedServer:
    """Handle on the server process the benchmark started."""

    process: multiprocessing.process.BaseProcess
    port: int
    lifetime_s: float
    max_requests: int

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.port}/feed/{index}.xml"

    def stats(self) -> Counter[str]:
        return Counter(self._admin("stats"))

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._admin("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()  # only our own child, by its handle
            self.process.join(5)

    def _admin(self, what: str) -> dict[str, int]:
        url = f"http://127.0.0.1:{self.port}/_admin/{what}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            return dict(json.load(answer))


def start_server(feeds: int, latency_ms: float, lifetime_s: float, max_requests: int) -> FeedServer:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=_serve,
        args=(send, feeds, latency_ms, lifetime_s, max_requests, os.getpid()),
        name="bench-feed-server",
        daemon=True,
    )
    process.start()
    send.close()
    if not receive.poll(60):
        process.terminate()
        raise RuntimeError("the feed server did not start within 60 s")
    port = int(receive.recv())
    return FeedServer(process, port, lifetime_s, max_requests)


# --- CPU accounting ---------------------------------------------------------------------------


@dataclass
class CpuSample:
    """user+sys seconds: this process (all threads), its threads, and its other descendants."""

    wall: float
    main: float
    threads: dict[int, float]
    descendants: dict[int, float]
    ru_self: float
    ru_children: float
    server: float


def _server_tree(server_pid: int) -> set[int]:
    try:
        server = psutil.Process(server_pid)
        return {server_pid} | {child.pid for child in server.children(recursive=True)}
    except psutil.NoSuchProcess:
        return {server_pid}


def sample_cpu(server_pid: int) -> CpuSample:
    me = psutil.Process()
    times = me.cpu_times()
    excluded = _server_tree(server_pid)
    descendants: dict[int, float] = {}
    for child in me.children(recursive=True):
        if child.pid in excluded:
            continue
        with contextlib.suppress(psutil.NoSuchProcess):
            t = child.cpu_times()
            # children_*: grandchildren this child has reaped (a replaced parse worker).
            descendants[child.pid] = t.user + t.system + t.children_user + t.children_system
    server = 0.0
    with contextlib.suppress(psutil.NoSuchProcess):
        st = psutil.Process(server_pid).cpu_times()
        server = st.user + st.system
    ru_self = resource.getrusage(resource.RUSAGE_SELF)
    ru_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSample(
        wall=time.perf_counter(),
        main=times.user + times.system,
        threads={t.id: t.user_time + t.system_time for t in me.threads()},
        descendants=descendants,
        ru_self=ru_self.ru_utime + ru_self.ru_stime,
        ru_children=ru_children.ru_utime + ru_children.ru_stime,
        server=server,
    )


@dataclass
class CpuDelta:
    wall: float
    main: float
    workers: float
    ru_self: float
    ru_children: float
    server: float
    threads: dict[str, float]

    @property
    def total(self) -> float:
        return self.main + self.workers


def _thread_label(thread: threading.Thread) -> str:
    kind = type(thread)
    target = getattr(getattr(thread, "_target", None), "__module__", "") or ""
    if thread is threading.main_thread():
        return "event loop"
    if kind.__module__.startswith("aiosqlite") or target.startswith("aiosqlite"):
        return "aiosqlite (SQLite calls)"
    if kind.__name__ == "_ExecutorManagerThread":
        return "pool manager"
    if thread.name.startswith("asyncio_"):
        return "default executor (DNS)"
    return "other"


def cpu_delta(before: CpuSample, after: CpuSample) -> CpuDelta:
    labels = {t.native_id: _thread_label(t) for t in threading.enumerate() if t.native_id}
    by_name: dict[str, float] = defaultdict(float)
    for tid, cpu in after.threads.items():
        used = cpu - before.threads.get(tid, 0.0)
        if used > 0:
            by_name[labels.get(tid, "other")] += used
    main_delta = after.main - before.main
    accounted = sum(by_name.values())
    if main_delta - accounted > 0.005:
        by_name["ended threads (closed aiosqlite connections)"] += main_delta - accounted
    workers = sum(cpu - before.descendants.get(pid, 0.0) for pid, cpu in after.descendants.items())
    return CpuDelta(
        wall=after.wall - before.wall,
        main=main_delta,
        workers=workers,
        ru_self=after.ru_self - before.ru_self,
        ru_children=after.ru_children - before.ru_children,
        server=after.server - before.server,
        threads=dict(by_name),
    )


# --- our poller -------------------------------------------------------------------------------


class DiscardSink:
    """A Sink that drops everything (the benchmark measures polling, not announcing)."""

    async def publish(self, items: Sequence[NewItem]) -> None:
        return None

    async def feed_disabled(self, feed: FeedInfo) -> None:
        return None


@dataclass
class StageTimes:
    """Summed wall time per wrapped call (under --profile); concurrent calls overlap."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original: Callable[..., Awaitable[Any]] = getattr(owner, name)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.calls[label] += 1

        setattr(owner, name, timed)

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


@dataclass
class PhaseResult:
    name: str
    feeds: int
    cpu: CpuDelta
    served: Counter[str]
    report: CycleReport | None = None
    note: str = ""
    stages: dict[str, tuple[float, int]] = field(default_factory=dict)
    profile: str = ""


@dataclass
class PollerRun:
    warmup_s: float
    warmup_cpu: CpuDelta
    cycles: list[PhaseResult]
    items_stored: int
    db_fs: str | None
    pool: str


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def run_poller(server: FeedServer, args: argparse.Namespace, db_dir: Path) -> PollerRun:
    """Wire the production objects like bot.app.build_app and run two cycles."""
    now = datetime.now(UTC)
    store = await Store.open(f"sqlite+aiosqlite:///{db_dir / 'bench.db'}")
    progress(f"adding {args.feeds} feeds to {db_dir / 'bench.db'}")
    connects = Counter[str]()
    event.listen(store.engine.sync_engine, "connect", lambda *_: connects.update(["opened"]))
    try:
        for index in range(args.feeds):
            await store.add_feed(server.url(index), now)
        # As bot.app.limits_from: total = max(concurrency, per_host); per_host raised to the
        # concurrency because every benchmark feed lives on the one host 127.0.0.1.
        limits = FetchLimits(total_connections=args.concurrency, per_host=args.concurrency)
        async with Fetcher(AddressPolicy(["127.0.0.1"]), limits) as fetcher:
            parser = ParserPool(max_workers=args.workers)
            try:
                poller = Poller(
                    store,
                    fetcher,
                    parser,
                    DiscardSink(),
                    PollPolicy(),
                    concurrency=args.concurrency,
                )
                stages = StageTimes()
                if args.profile:
                    for owner, name, label in (
                        (fetcher, "fetch", "fetcher.fetch"),
                        (parser, "parse", "parser.parse (worker + IPC)"),
                        (store, "record_poll", "store.record_poll"),
                        (store, "pollable_feeds", "store.pollable_feeds"),
                        (store, "pending_items", "store.pending_items"),
                    ):
                        stages.wrap(owner, name, label)
                warm_before = sample_cpu(server.process.pid or 0)
                await warm_parser(parser, args.workers)
                warm_cpu = cpu_delta(warm_before, sample_cpu(server.process.pid or 0))
                progress(f"parser pool warm ({warm_cpu.wall:.2f} s)")
                cycles = []
                for label in ("cycle 1 (full: all 200)", "cycle 2 (conditional: all 304)"):
                    progress(f"our poller: {label} ...")
                    stages.reset()
                    served_before = server.stats()
                    connects.clear()
                    before = sample_cpu(server.process.pid or 0)
                    profiler = _start_profile() if args.cprofile and not cycles else None
                    report = await poller.run_cycle()
                    profile_text = _stop_profile(profiler) if profiler else ""
                    after = sample_cpu(server.process.pid or 0)
                    served = server.stats() - served_before
                    cycles.append(
                        PhaseResult(
                            label,
                            report.feeds,
                            cpu_delta(before, after),
                            served,
                            report,
                            stages={k: (v, stages.calls[k]) for k, v in stages.seconds.items()},
                            profile=profile_text,
                            note=f"{connects['opened']} SQLite connection(s) opened",
                        )
                    )
                    progress(
                        f"  {report.feeds} feeds in {cycles[-1].cpu.wall:.2f} s: "
                        f"{dict(report.outcomes)}; server {dict(served)}"
                    )
                    if report.errors:
                        first = next(iter(report.errors.items()))
                        progress(f"  {len(report.errors)} error(s), e.g. {first}")
            finally:
                await parser.aclose()
        items = await store.item_count()
        engine_pool = store.engine.pool
        pool = (
            f"{type(engine_pool).__name__}, pool_size {getattr(engine_pool, 'size', lambda: '?')()}"
            f", max_overflow {getattr(engine_pool, '_max_overflow', '?')}"
        )
    finally:
        await store.close()
    return PollerRun(warm_cpu.wall, warm_cpu, cycles, items, filesystem_type(db_dir), pool)


async def warm_parser(parser: ParserPool, workers: int) -> None:
    """Start every worker process (spawned on demand) and import feedparser in each."""
    body = feed_body(0)
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    url = "http://127.0.0.1/warmup.xml"
    for _ in range(2):
        await asyncio.gather(*(parser.parse(body, headers, url) for _ in range(workers * 4)))


def _start_profile() -> Any:
    import cProfile

    # CPU time of the event-loop thread, so idle epoll waits do not count.
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    return profiler


def _stop_profile(profiler: Any) -> str:
    profiler.disable()
    stats = pstats.Stats(profiler)
    by_area: dict[str, float] = defaultdict(float)
    for (filename, _line, _func), row in stats.stats.items():  # type: ignore[attr-defined]
        by_area[_area(filename)] += row[2]  # tottime
    total = sum(by_area.values()) or 1.0
    out = io.StringIO()
    out.write(
        "  event-loop thread CPU by area (cProfile tottime, thread_time; inflated by profiling):\n"
    )
    for area, seconds in sorted(by_area.items(), key=lambda kv: -kv[1]):
        out.write(f"    {area:<42} {seconds:7.2f} s  {seconds / total:6.1%}\n")
    out.write("  top functions by cumulative time (main thread):\n")
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(30)
    out.write("".join("    " + line + "\n" for line in stream.getvalue().splitlines()[-36:]))
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(25)
    out.write("  top functions by self time (main thread):\n")
    out.write("".join("    " + line + "\n" for line in stream.getvalue().splitlines()[-31:]))
    return out.getvalue()


def _area(filename: str) -> str:
    path = filename.replace("\\", "/")
    for marker, area in (
        ("/sqlalchemy/", "sqlalchemy"),
        ("/aiosqlite/", "aiosqlite (loop side)"),
        ("/aiohttp/", "aiohttp client"),
        ("/yarl/", "yarl/multidict"),
        ("/multidict/", "yarl/multidict"),
        ("/asyncio/subprocess", "parser worker pipes"),
        ("/asyncio/unix_events", "parser worker pipes"),
        ("/asyncio/", "asyncio event loop"),
        ("/bot/storage/", "bot.storage"),
        ("/bot/ingest/fetch", "bot.ingest.fetch"),
        ("/bot/ingest/safety", "bot.ingest.safety"),
        ("/bot/ingest/", "bot.ingest (poll, parse)"),
        ("/selectors.py", "selectors / socket"),
        ("/socket.py", "selectors / socket"),
        ("/ssl.py", "selectors / socket"),
        ("/threading.py", "threading / queue"),
        ("/queue.py", "threading / queue"),
        ("/ipaddress.py", "ipaddress"),
    ):
        if marker in path:
            return area
    if filename.startswith("<") or filename == "~":
        return "builtins / C calls (pickle, socket, locks...)"
    return "other Python"


# --- micro-measurements for --profile -----------------------------------------------------------


def micro_costs(feeds: int) -> dict[str, Any]:
    """Per-feed CPU of the pieces a full cycle is made of, measured alone in this process."""
    sample = min(feeds, 200)
    bodies = [feed_body(i) for i in range(sample)]
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    started = time.process_time()
    parsed = [
        parse_feed(body, headers, f"http://127.0.0.1/feed/{i}.xml") for i, body in enumerate(bodies)
    ]
    parse_ms = (time.process_time() - started) / sample * 1000
    started = time.process_time()
    for body in bodies:
        feedparser.parse(io.BytesIO(body), response_headers=headers)
    plain_ms = (time.process_time() - started) / sample * 1000
    started = time.process_time()
    size = 0
    for feed in parsed:
        blob = pickle.dumps(feed, protocol=pickle.HIGHEST_PROTOCOL)
        size += len(blob)
        pickle.loads(blob)
    pickle_ms = (time.process_time() - started) / sample * 1000
    started = time.process_time()
    for body in bodies:
        pickle.loads(pickle.dumps((parse_feed, (body, headers, "u"), {}), pickle.HIGHEST_PROTOCOL))
    args_ms = (time.process_time() - started) / sample * 1000
    return {
        "parse_feed (our wrapper) ms CPU/feed": parse_ms,
        "feedparser.parse(bytes) alone ms CPU/feed": plain_ms,
        "pickle+unpickle ParsedFeed ms/feed": pickle_ms,
        "ParsedFeed pickle KB/feed": size / sample / 1024,
        "pickle+unpickle call args (12 KB body) ms/feed": args_ms,
    }


async def sequential_store_cost(db_dir: Path, feeds: int) -> dict[str, Any]:
    """Each Store call of a full poll and a 304 poll, one feed at a time (no contention)."""
    from bot.core.models import Validators

    count = min(feeds, 200)
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    parsed = [parse_feed(feed_body(i), headers, f"http://x/{i}") for i in range(count)]
    store = await Store.open(f"sqlite+aiosqlite:///{db_dir / 'sequential.db'}")
    me = psutil.Process()
    wall: Counter[str] = Counter()
    cpu: Counter[str] = Counter()

    async def timed(label: str, call: Awaitable[Any]) -> None:
        t0, c0 = time.perf_counter(), me.cpu_times()
        await call
        c1 = me.cpu_times()
        wall[label] += time.perf_counter() - t0
        cpu[label] += c1.user + c1.system - c0.user - c0.system

    try:
        now = datetime.now(UTC)
        ids = [
            (await store.add_feed(f"http://127.0.0.1/seq/{i}.xml", now)).id for i in range(count)
        ]
        validators = Validators('"v"', format_datetime(LAST_MODIFIED, usegmt=True))
        later = now + timedelta(minutes=15)
        for kind in ("full", "304"):
            for feed_id, feed in zip(ids, parsed, strict=True):
                await timed(
                    f"{kind}: record_poll" + (" (20 new)" if kind == "full" else ""),
                    store.record_poll(
                        feed_id,
                        now=now,
                        next_poll_at=later,
                        validators=validators,
                        items=feed.items if kind == "full" else (),
                        title="t",
                    ),
                )
        result = {}
        for label in wall:
            result[f"sequential Store.{label}: ms wall / ms CPU per feed"] = (
                wall[label] / count * 1000,
                cpu[label] / count * 1000,
            )
        return result
    finally:
        await store.close()


async def fetch_only(server: FeedServer, args: argparse.Namespace) -> PhaseResult:
    """The same Fetcher over all feeds with the poller's concurrency, no parse, no DB."""
    limits = FetchLimits(total_connections=args.concurrency, per_host=args.concurrency)
    slots = asyncio.Semaphore(args.concurrency)
    served_before = server.stats()
    before = sample_cpu(server.process.pid or 0)
    async with Fetcher(AddressPolicy(["127.0.0.1"]), limits) as fetcher:

        async def one(index: int) -> int:
            async with slots:
                return len((await fetcher.fetch(server.url(index))).body)

        sizes = await asyncio.gather(*(one(i) for i in range(args.feeds)))
    after = sample_cpu(server.process.pid or 0)
    note = f"{sum(sizes) / len(sizes) / 1024:.1f} KB/feed"
    return PhaseResult(
        "fetch only (Fetcher, no parse/DB)",
        len(sizes),
        cpu_delta(before, after),
        server.stats() - served_before,
        note=note,
    )


# --- the peer: reader -----------------------------------------------------------------------


def run_reader(server: FeedServer, args: argparse.Namespace, db_dir: Path) -> list[PhaseResult]:
    """``reader`` updating the same feeds twice (it stores validators, so cycle 2 is all 304)."""
    from reader import make_reader

    library = make_reader(str(db_dir / "reader.sqlite"))
    try:
        for index in range(args.feeds):
            library.add_feed(server.url(index))
        phases = []
        for label in ("reader: cycle 1 (full: all 200)", "reader: cycle 2 (all 304)"):
            progress(f"reader: {label.removeprefix('reader: ')} ...")
            served_before = server.stats()
            before = sample_cpu(server.process.pid or 0)
            library.update_feeds(scheduled=False, workers=args.reader_workers)
            after = sample_cpu(server.process.pid or 0)
            counts = library.get_entry_counts()
            broken = sum(1 for feed in library.get_feeds() if feed.last_exception is not None)
            phases.append(
                PhaseResult(
                    label,
                    args.feeds,
                    cpu_delta(before, after),
                    server.stats() - served_before,
                    note=f"{counts.total} entries stored, {broken} feed(s) with an error",
                )
            )
            progress(f"  {args.feeds} feeds in {phases[-1].cpu.wall:.2f} s")
        return phases
    finally:
        library.close()


# --- the baseline -----------------------------------------------------------------------------


def run_baseline(server: FeedServer, count: int) -> PhaseResult:
    """``for url: feedparser.parse(url)``: urllib, a new connection per request, sequential."""
    served_before = server.stats()
    before = sample_cpu(server.process.pid or 0)
    done = 0
    bad = 0
    deadline = time.perf_counter() + BASELINE_DEADLINE_S
    for index in range(count):
        result = feedparser.parse(server.url(index))
        done += 1
        if result.get("status") != 200 or len(result.entries) != ITEMS_PER_FEED or result.bozo:
            bad += 1
        if done % 100 == 0:
            progress(f"  baseline: {done}/{count} feeds")
        if time.perf_counter() > deadline:
            progress(f"  baseline: stopped at the {BASELINE_DEADLINE_S:.0f} s deadline")
            break
    after = sample_cpu(server.process.pid or 0)
    note = f"{bad} feed(s) not 200 with {ITEMS_PER_FEED} clean entries" if bad else ""
    return PhaseResult(
        "baseline: sequential feedparser.parse(url)",
        done,
        cpu_delta(before, after),
        server.stats() - served_before,
        note=note,
    )


# --- output -----------------------------------------------------------------------------------


def _reader_version() -> str:
    import reader

    return str(reader.__version__)


def print_results(
    args: argparse.Namespace,
    server: FeedServer,
    run: PollerRun,
    baseline: PhaseResult,
    peer: list[PhaseResult],
    extra: list[PhaseResult],
    micro: dict[str, Any],
) -> None:
    full, cond = run.cycles
    peer_full, peer_cond = peer
    body_kb = len(feed_body(0)) / 1024
    print()
    print(
        f"Polling benchmark: {args.feeds} feeds x {ITEMS_PER_FEED} items (~{body_kb:.1f} KB each), "
        f"{args.latency_ms:g} ms server latency per request, concurrency {args.concurrency}, "
        f"{args.workers} parse workers, {psutil.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"Server: separate process on 127.0.0.1:{server.port}, lifetime {server.lifetime_s:.0f} s, "
        f"at most {server.max_requests} requests. SQLite file on {run.db_fs or 'unknown fs'} "
        f"(WAL, synchronous=FULL as in production); engine pool {run.pool}."
    )
    print(
        f"Fetcher per_host raised from 4 to {args.concurrency} (= concurrency): all benchmark "
        "feeds are on one host, 127.0.0.1; production feeds are spread over many hosts."
    )
    print()
    header = (
        f"| {'phase':<44} | {'feeds':>5} | {'wall s':>7} | {'feeds/s':>8} | {'CPU s':>6} | "
        f"{'ms/feed':>7} | {'main':>6} | {'workers':>7} | {'server CPU':>10} | "
        f"{'200/304 seen':>12} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for phase in [baseline, peer_full, peer_cond, full, cond, *extra]:
        served = f"{phase.served['200']}/{phase.served['304']}"
        if phase.served["other"] or phase.served["refused"]:
            served += f" (+{phase.served['other'] + phase.served['refused']} other)"
        rate = phase.feeds / phase.cpu.wall if phase.cpu.wall else 0.0
        print(
            f"| {phase.name:<44} | {phase.feeds:>5} | {phase.cpu.wall:>7.2f} | {rate:>8.1f} | "
            f"{phase.cpu.total:>6.2f} | {phase.cpu.total / max(phase.feeds, 1) * 1000:>7.2f} | "
            f"{phase.cpu.main:>6.2f} | {phase.cpu.workers:>7.2f} | "
            f"{phase.cpu.server:>10.2f} | {served:>12} |"
        )
    print()
    print(
        "CPU s = user+sys of this process (all threads, psutil) + its descendant processes except "
        "the server (the parse worker processes, psutil on live processes); "
        "ms/feed = CPU s per feed; main = this process; workers = the parse processes."
    )
    print(
        "  RUSAGE_CHILDREN cannot count the workers: it only covers children that have exited and "
        "been waited for, and the pool workers are alive during the cycles. "
        f"Measured deltas in cycle 1: RUSAGE_SELF {full.cpu.ru_self:.2f} s "
        f"(psutil main {full.cpu.main:.2f} s), RUSAGE_CHILDREN {full.cpu.ru_children:.2f} s "
        f"(psutil workers {full.cpu.workers:.2f} s)."
    )
    print(
        f"Parser pool warm-up (one-off, not in any cycle): {run.warmup_s:.2f} s wall, "
        f"{run.warmup_cpu.total:.2f} s CPU ({args.workers} parse_worker processes)."
    )
    if baseline.feeds < args.feeds:
        print(
            f"Baseline ran on the first {baseline.feeds} of {args.feeds} feeds (--baseline-feeds); "
            "its feeds/s is computed from what it did."
        )
    if baseline.note:
        print(f"Baseline: {baseline.note}")
    print(
        f"reader {_reader_version()}: update_feeds(scheduled=False, workers="
        f"{args.reader_workers}) in this process; {peer_full.note} after cycle 1, "
        f"{peer_cond.note} after cycle 2."
    )
    print(
        f"Items in the database after both cycles: {run.items_stored} "
        f"(expected {args.feeds * ITEMS_PER_FEED})."
    )
    for phase in (full, cond):
        threads = ", ".join(
            f"{k} {v:.2f} s" for k, v in sorted(phase.cpu.threads.items(), key=lambda kv: -kv[1])
        )
        print(
            f"{phase.name}: outcomes {dict(phase.report.outcomes) if phase.report else {}}; "
            f"{phase.note}; main-process CPU by thread: {threads}"
        )
    print()
    base_rate = baseline.feeds / baseline.cpu.wall
    full_rate = full.feeds / full.cpu.wall
    speedup = full_rate / base_rate
    peer_rate = peer_full.feeds / peer_full.cpu.wall
    cpu_ms = full.cpu.total / full.feeds * 1000
    cpu_ratio = full.cpu.total / cond.cpu.total if cond.cpu.total else float("inf")
    wall_ratio = full.cpu.wall / cond.cpu.wall
    checks = [
        (
            "full cycle vs sequential feedparser.parse(url) (feeds/s)",
            f"{full_rate:.1f} / {base_rate:.1f} feeds/s",
            speedup,
            GOAL_SPEEDUP,
        ),
        (
            "full cycle vs reader's full update (feeds/s)",
            f"{full_rate:.1f} / {peer_rate:.1f} feeds/s",
            full_rate / peer_rate,
            GOAL_READER,
        ),
        (
            "first-cycle CPU / all-304-cycle CPU",
            f"{full.cpu.total:.2f} / {cond.cpu.total:.2f} s",
            cpu_ratio,
            GOAL_CPU_RATIO,
        ),
    ]
    for label, detail, ratio, goal in checks:
        verdict = "PASS" if ratio >= goal else "FAIL"
        print(f"{label:<58} {ratio:7.2f}x  ({detail})  goal >= {goal:g}x  {verdict}")
    verdict = "PASS" if cpu_ms <= GOAL_CPU_MS else "FAIL"
    print(
        f"{'CPU per feed, full cycle (main + workers)':<58} {cpu_ms:7.2f} ms "
        f"({full.cpu.total:.2f} s / {full.feeds})  goal <= {GOAL_CPU_MS:g} ms  {verdict}"
    )
    print(
        f"{'(info) reader CPU per feed, full update':<58} "
        f"{peer_full.cpu.total / peer_full.feeds * 1000:7.2f} ms; all-304 update "
        f"{peer_full.cpu.wall / peer_cond.cpu.wall:.2f}x cheaper in wall time"
    )
    print(
        f"load average (1, 5, 15 min) at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    print(
        f"{'(info) first-cycle wall / all-304-cycle wall':<58} {wall_ratio:7.2f}x  "
        f"({full.cpu.wall:.2f} / {cond.cpu.wall:.2f} s; floor of one 304 cycle = "
        f"{args.feeds / args.concurrency * args.latency_ms / 1000:.2f} s of latency)"
    )
    if micro or any(p.stages for p in run.cycles):
        print()
        print("Profile (--profile):")
        for key, value in micro.items():
            values = value if isinstance(value, tuple) else (value,)
            print(f"  {key:<66} " + " / ".join(f"{v:.3f}" for v in values))
        for phase in run.cycles:
            if phase.stages:
                print(
                    f"  {phase.name}: summed wall time per call site; concurrent calls overlap, "
                    "so sum / cycle wall = feeds inside it on average (Little's law);"
                )
                print("    includes waiting for the DB pool / SQLite lock / a free worker:")
                for label, (seconds, calls) in sorted(
                    phase.stages.items(), key=lambda kv: -kv[1][0]
                ):
                    print(
                        f"    {label:<30} {seconds:8.2f} s over {calls:>5} calls "
                        f"= {seconds / max(calls, 1) * 1000:7.1f} ms/call, "
                        f"{seconds / phase.cpu.wall:5.1f} feeds inside on average"
                    )
            if phase.profile:
                print(phase.profile)


# --- entry point ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark newsbot's poller against a sequential feedparser.parse(url) loop "
        "on a local feed server (127.0.0.1 only). Progress goes to stderr, results to stdout.",
    )
    parser.add_argument("--feeds", type=int, default=1000, help="feeds served (default 1000)")
    parser.add_argument(
        "--latency-ms", type=float, default=100.0, help="server latency per request (default 100)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=50,
        help="Poller concurrency; also the Fetcher's per-host and total limit (default 50)",
    )
    parser.add_argument(
        "--baseline-feeds",
        type=int,
        default=None,
        help="run the slow sequential baseline on the first N feeds only (default: all)",
    )
    parser.add_argument("--workers", type=int, default=2, help="ParserPool workers (default 2)")
    parser.add_argument(
        "--reader-workers",
        type=int,
        default=None,
        help="threads reader.update_feeds may use (default: --concurrency, the same as ours)",
    )
    parser.add_argument(
        "--db-dir",
        type=Path,
        default=None,
        help="directory for the SQLite file (default: a fresh temporary directory)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also time the poller's call sites (summed wall time per store/fetch/parse call), "
        "run a fetch-only pass and per-feed micro-measurements",
    )
    parser.add_argument(
        "--cprofile",
        action="store_true",
        help="with --profile: cProfile the event-loop thread's CPU in cycle 1 (slows it down)",
    )
    args = parser.parse_args(argv)
    args.profile = args.profile or args.cprofile
    if args.reader_workers is None:
        args.reader_workers = args.concurrency
    if args.baseline_feeds is None:
        args.baseline_feeds = args.feeds
    args.baseline_feeds = max(1, min(args.baseline_feeds, args.feeds))
    if args.feeds < 1 or args.concurrency < 1 or args.workers < 1 or args.latency_ms < 0:
        parser.error("--feeds, --concurrency and --workers must be >= 1, --latency-ms >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    latency = args.latency_ms / 1000
    # Bounded server: enough requests for every phase plus slack, and a lifetime covering the
    # sequential baseline (latency + ~60 ms per feed, with margin) plus the poller's cycles.
    max_requests = args.baseline_feeds + args.feeds * (5 if args.profile else 4) + 100
    lifetime = min(
        3600.0,
        180.0 + args.baseline_feeds * (latency + 0.1) * 1.5 + args.feeds * 0.05 * 6,
    )
    progress(f"starting the feed server ({args.feeds} feeds, lifetime {lifetime:.0f} s)")
    server = start_server(args.feeds, args.latency_ms, lifetime, max_requests)
    try:
        with tempfile.TemporaryDirectory(prefix="newsbot-bench-", dir=args.db_dir) as tmp:
            db_dir = Path(tmp)
            run = asyncio.run(run_poller(server, args, db_dir))
            extra: list[PhaseResult] = []
            micro: dict[str, Any] = {}
            if args.profile:
                progress("profile: fetch-only pass and micro-measurements")
                extra.append(asyncio.run(fetch_only(server, args)))
                micro = micro_costs(args.feeds)
                micro.update(asyncio.run(sequential_store_cost(db_dir, args.feeds)))
            peer = run_reader(server, args, db_dir)
            progress(f"baseline: sequential feedparser.parse(url) over {args.baseline_feeds} feeds")
            baseline = run_baseline(server, args.baseline_feeds)
        print_results(args, server, run, baseline, peer, extra, micro)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
