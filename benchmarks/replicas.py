"""Replicas on one PostgreSQL database: N `newsbot run` processes share the feeds (issue 13.3).

Serves ``--feeds`` RSS feeds on 127.0.0.1 (each gains an item every ``--item-every`` seconds),
starts ``--replicas`` real `newsbot run --show-all` processes on one fresh PostgreSQL database,
``kill -9``s one after ``--kill-after`` seconds (``--kill leader``: the one holding the chat lease;
``--kill feeds``: the one that fetched the most feeds last, so its feeds must move), and at the
end prints, from the feed server's own request log and the replicas' terminal output:

- fetches per feed per poll interval (each replica sends its own User-Agent),
- how many items were announced once, twice or never,
- how long the dead replica's feeds and the chat lease took to move to a live replica.

Run by hand (it takes ``--minutes``): ``.venv/bin/python benchmarks/replicas.py --postgres-url
postgresql://postgres@127.0.0.1:55442/postgres``. A throwaway cluster: see .ci/run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
# The venv running this script (a git worktree has none of its own; set PYTHONPATH to it).
NEWSBOT = Path(sys.executable).parent / "newsbot"
KEEP_ITEMS = 20


@dataclass
class FeedServer:
    """RSS feeds whose items appear on a schedule; every request is logged."""

    feeds: int
    item_every: float
    started: float = field(default_factory=time.time)
    requests: list[tuple[float, int, str]] = field(default_factory=list)
    port: int = 0

    def items_of(self, feed: int, now: float) -> int:
        """How many items feed ``feed`` has published by ``now`` (staggered per feed)."""
        offset = (feed * 7.3) % self.item_every
        return 3 + int(max(now - self.started + offset, 0) // self.item_every)

    def published(self, now: float) -> dict[str, float]:
        """Every item link published by ``now`` and when it appeared."""
        out: dict[str, float] = {}
        for feed in range(self.feeds):
            offset = (feed * 7.3) % self.item_every
            for k in range(3, self.items_of(feed, now)):
                at = self.started - offset + (k - 2) * self.item_every
                out[self.link(feed, k)] = at
        return out

    def link(self, feed: int, k: int) -> str:
        return f"http://127.0.0.1:{self.port}/items/{feed}-{k}"

    async def handle(self, request: web.Request) -> web.Response:
        feed = int(request.match_info["n"])
        now = time.time()
        self.requests.append((now, feed, request.headers.get("User-Agent", "")))
        count = self.items_of(feed, now)
        items = "".join(
            f"<item><title>Local report {feed}-{k}</title><link>{self.link(feed, k)}</link>"
            f"<guid>{self.link(feed, k)}</guid><description>Council meeting notes {k} of "
            f"town {feed}.</description></item>"
            for k in range(max(count - KEEP_ITEMS, 0), count)
        )
        body = f'<rss version="2.0"><channel><title>Town {feed}</title>{items}</channel></rss>'
        return web.Response(body=body.encode(), content_type="application/rss+xml")


async def fresh_database(admin_url: str) -> str:
    name = f"newsbot_replicas_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def seed(url: str, server: FeedServer) -> None:
    sys.path.insert(0, str(ROOT))
    from bot.storage.store import Store

    store = await Store.open(url.replace("postgresql://", "postgresql+asyncpg://"))
    now = datetime.now(UTC)
    for feed in range(server.feeds):
        await store.add_feed(f"http://127.0.0.1:{server.port}/feeds/{feed}", now)
    await store.set_meta("default_feeds_loaded", "0")
    await store.close()


def start_replica(
    index: int, url: str, args: argparse.Namespace, port: int, out: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NEWSBOT_DATABASE_URL": url.replace("postgresql://", "postgresql+asyncpg://"),
        "NEWSBOT_ALLOW_HOSTS": f"127.0.0.1:{port}",
        "NEWSBOT_POLL__INTERVAL_SECONDS": str(args.interval),
        "NEWSBOT_FETCH__USER_AGENT": f"replica-{index}",
        "NEWSBOT_HEALTH_PORT": str(18180 + index),
        "NEWSBOT_NLP__FETCH_ARTICLES": "false",
        "NEWSBOT_FEEDS_FILE": "/nonexistent/feeds.toml",
        "NEWSBOT_PARSE__WORKERS": "1",
    }
    handle = out.open("w")
    return subprocess.Popen(
        [str(NEWSBOT), "run", "--show-all"], env=env, stdout=handle, stderr=handle, cwd=out.parent
    )


async def chat_holder(url: str) -> str | None:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT owner FROM leases WHERE name = 'chat'")  # type: ignore[no-any-return]
    finally:
        await conn.close()


def last_fetchers(server: FeedServer) -> Counter[str]:
    """Feeds per replica (User-Agent) that fetched them last: who polls which feed now."""
    last = {feed: agent for _, feed, agent in server.requests}
    return Counter(agent for agent in last.values() if agent.startswith("replica-"))


def busiest(server: FeedServer) -> int | None:
    """The replica that fetched the most feeds last, whose death leaves the most to move."""
    counts = last_fetchers(server)
    if not counts:
        return None
    return int(counts.most_common(1)[0][0].removeprefix("replica-"))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("NEWSBOT_TEST_POSTGRES_URL", "").replace("+asyncpg", ""),
        help="an admin DSN; a fresh database is created on it",
    )
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--interval", type=int, default=60, help="poll interval (s, ≥ 60)")
    parser.add_argument("--item-every", type=float, default=45, help="new item per feed (s)")
    parser.add_argument("--kill-after", type=float, default=240, help="kill a replica at (s)")
    parser.add_argument(
        "--kill",
        choices=("leader", "feeds"),
        default="leader",
        help="kill -9 the chat leader, or the replica that fetched the most feeds last",
    )
    args = parser.parse_args()
    if not args.postgres_url:
        parser.error("give --postgres-url or set NEWSBOT_TEST_POSTGRES_URL")

    server = FeedServer(args.feeds, args.item_every)
    app = web.Application()
    app.router.add_get("/feeds/{n}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = await fresh_database(args.postgres_url)
    await seed(url, server)
    work = Path(tempfile.mkdtemp(prefix="newsbot-replicas-"))
    print(
        f"{args.replicas} replicas, {args.feeds} feeds, interval {args.interval} s, "
        f"{args.minutes:g} min; logs in {work}",
        flush=True,
    )

    procs = [
        start_replica(i, url, args, server.port, work / f"replica-{i}.log")
        for i in range(args.replicas)
    ]
    began = time.time()
    killed_index: int | None = None
    killed_at = 0.0
    lease_moves: list[tuple[float, str | None]] = []
    try:
        while time.time() - began < args.minutes * 60:
            await asyncio.sleep(1)
            holder = await chat_holder(url)
            if not lease_moves or lease_moves[-1][1] != holder:
                lease_moves.append((time.time(), holder))
            elapsed = time.time() - began
            if killed_index is None and elapsed >= args.kill_after:
                if args.kill == "leader" and holder:
                    pid = int(holder.split(":")[1])
                    killed_index = next(i for i, p in enumerate(procs) if p.pid == pid)
                elif args.kill == "feeds":
                    killed_index = busiest(server)
                if killed_index is not None:
                    victim = procs[killed_index]
                    victim.kill()  # SIGKILL to our own child
                    killed_at = time.time()
                    leader = holder is not None and holder.split(":")[1] == str(victim.pid)
                    owned = last_fetchers(server)[f"replica-{killed_index}"]
                    print(
                        f"{elapsed:6.0f} s: kill -9 replica-{killed_index} "
                        f"({'the' if leader else 'not the'} chat leader; last fetcher of "
                        f"{owned}/{args.feeds} feeds)",
                        flush=True,
                    )
            if int(elapsed) % 60 == 0:
                print(f"{elapsed:6.0f} s: {len(server.requests)} fetches", flush=True)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
        await runner.cleanup()
    report(server, args, work, began, killed_index, killed_at, lease_moves)


def report(
    server: FeedServer,
    args: argparse.Namespace,
    work: Path,
    began: float,
    killed_index: int | None,
    killed_at: float,
    lease_moves: list[tuple[float, str | None]],
) -> None:
    interval = args.interval
    ended = began + args.minutes * 60
    by_feed: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for at, feed, agent in server.requests:
        by_feed[feed].append((at, agent))
    # Whole intervals after the start-up cycle settled (the first interval is start-up).
    windows = int((ended - began) // interval) - 1
    per_window: Counter[int] = Counter()
    for feed in range(server.feeds):
        times = [at for at, _ in by_feed[feed]]
        for w in range(1, windows + 1):
            lo, hi = began + w * interval, began + (w + 1) * interval
            per_window[sum(lo <= t < hi for t in times)] += 1
    total_windows = sum(per_window.values())
    gaps = [
        b - a
        for feed in range(server.feeds)
        for (a, _), (b, _) in zip(by_feed[feed], by_feed[feed][1:], strict=False)
    ]
    print("\n== fetches per feed per interval ==")
    for count in sorted(per_window):
        share = 100 * per_window[count] / total_windows
        print(f"  {count} fetch(es): {per_window[count]:5d} feed-intervals ({share:5.1f} %)")
    within = sum(n for c, n in per_window.items() if 0 <= c <= 2)
    print(f"  within once ±1: {within}/{total_windows}; total fetches {len(server.requests)}")
    print(
        f"  gap between fetches of one feed: median {statistics.median(gaps):.1f} s, "
        f"max {max(gaps):.1f} s (interval {interval} s)"
    )
    agents = Counter(agent for _, _, agent in server.requests)
    print("  fetches by replica: " + ", ".join(f"{a}={n}" for a, n in sorted(agents.items())))

    printed: Counter[str] = Counter()
    link = re.compile(rf"http://127\.0\.0\.1:{server.port}/items/\d+-\d+")
    for log_file in sorted(work.glob("replica-*.log")):
        printed.update(link.findall(log_file.read_text(encoding="utf-8", errors="replace")))
    published = server.published(ended)
    first_fetch = {feed: min(at for at, _ in by_feed[feed]) for feed in by_feed}
    # A feed's first poll records what it holds without announcing it; items published in
    # the last interval (+ 15 s) may not have been polled yet.
    settled = {
        key
        for key, at in published.items()
        if first_fetch.get(int(key.rsplit("/", 1)[1].split("-")[0]), ended) < at
        and at < ended - interval - 15
    }
    once = sum(printed[key] == 1 for key in settled)
    twice = sum(printed[key] >= 2 for key in settled)
    never = sorted(key for key in settled if printed[key] == 0)
    print("\n== items announced (terminal, all replicas) ==")
    print(
        f"  published and due: {len(settled)}; once {once}, more than once {twice}, "
        f"never {len(never)}"
    )
    if never[:5]:
        print("  never announced (first 5): " + ", ".join(never[:5]))
    extra = sum(1 for key in printed if key not in published)
    if extra:
        print(f"  {extra} printed link(s) not published by the server")

    if killed_index is not None:
        agent = f"replica-{killed_index}"
        print(f"\n== after kill -9 of {agent} at {killed_at - began:.0f} s ==")
        waits = []
        for feed in range(server.feeds):
            before = [(at, a) for at, a in by_feed[feed] if at < killed_at]
            if not before or before[-1][1] != agent:
                continue
            after = [at for at, a in by_feed[feed] if at >= killed_at and a != agent]
            if after:
                waits.append((after[0] - killed_at, after[0] - before[-1][0]))
        if waits:
            print(
                f"  feeds it polled last: {len(waits)}; first fetch by a live replica after "
                f"the kill: median {statistics.median(w for w, _ in waits):.1f} s, "
                f"max {max(w for w, _ in waits):.1f} s; gap since its last fetch: "
                f"max {max(g for _, g in waits):.1f} s (interval {interval} s)"
            )
        for at, holder in lease_moves:
            print(f"  chat lease at {at - began:6.1f} s: {holder}")


if __name__ == "__main__":
    asyncio.run(main())
