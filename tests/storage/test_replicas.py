"""Replicas on one database (issue 13.3): each feed is polled once per interval by whichever
replica leases it, a dead replica's feeds move on, and one replica holds the chat lease."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.models import Validators
from bot.ingest.poll import Poller, PollPolicy, utcnow
from bot.ingest.schedule import PollScheduler
from bot.storage.store import Store
from tests.fakes import FakeFetcher, FakeParser, Fetched, RecordingSink, items

pytestmark = pytest.mark.postgres

INTERVAL = timedelta(seconds=1)
FEEDS = 8


@pytest.fixture
async def replicas(database_url: str) -> AsyncIterator[list[Store]]:
    if database_url.startswith("sqlite"):
        pytest.skip("replicas share a PostgreSQL database; SQLite has one writer")
    stores = [await Store.open(database_url) for _ in range(2)]
    yield stores
    for store in stores:
        await store.close()


class CountingFetcher(FakeFetcher):
    """A fetcher that answers every URL with a fresh body and counts fetches per URL."""

    def __init__(self, counts: Counter[str]) -> None:
        super().__init__()
        self.counts = counts

    async def fetch(self, url: str, validators: Validators | None = None) -> Fetched:
        self.counts[url] += 1
        await asyncio.sleep(0.05)
        return Fetched(200, b"shared", {}, url, Validators())


async def _scheduled(store: Store, counts: Counter[str]) -> PollScheduler:
    poller = Poller(
        store,
        CountingFetcher(counts),
        FakeParser(),
        RecordingSink(),
        PollPolicy(interval=INTERVAL),
    )

    async def enabled() -> list[tuple[int, str, timedelta]]:
        return [(feed.id, feed.url, INTERVAL) for feed in await store.list_feeds()]

    scheduler = PollScheduler(poller.poll_feed_id, enabled, clock=utcnow)
    await scheduler.start()
    return scheduler


async def test_two_replicas_poll_each_feed_once_per_interval_and_take_over(
    replicas: list[Store],
) -> None:
    from tests import fakes

    fakes.feeds["shared"] = fakes.ParsedFeed(title="t", link=None, items=tuple(items("a")))
    first, second = replicas
    now = datetime.now(UTC)
    urls = [f"https://f{n}.example/feed" for n in range(FEEDS)]
    for url in urls:
        await first.add_feed(url, now)
    counts: Counter[str] = Counter()
    schedulers = [await _scheduled(first, counts), await _scheduled(second, counts)]
    await asyncio.sleep(6)
    together = sum(counts.values())
    # Six one-second intervals: about six polls per feed, not twelve (two replicas).
    assert FEEDS * 4 <= together <= FEEDS * 8, counts
    assert max(counts.values()) <= 8, counts

    # The first replica dies: its polls are cut off and the leases they held are left behind.
    await schedulers[0].stop()
    counts.clear()
    await asyncio.sleep(4)
    assert set(counts) == set(urls), "the live replica picks every feed up"
    assert min(counts.values()) >= 2, counts
    await schedulers[1].stop()


async def test_one_replica_holds_the_chat_lease_until_it_lapses(replicas: list[Store]) -> None:
    first, second = replicas
    now = utcnow()
    ttl = timedelta(seconds=30)
    assert await first.hold_lease("chat", now, ttl)
    assert not await second.hold_lease("chat", now, ttl)
    assert await first.hold_lease("chat", now + timedelta(seconds=10), ttl), "renewal"
    assert not await second.hold_lease("chat", now + timedelta(seconds=39), ttl)
    assert await second.hold_lease("chat", now + timedelta(seconds=41), ttl), "lapsed"
    assert not await first.hold_lease("chat", now + timedelta(seconds=42), ttl)
    await second.release_lease("chat")
    assert await first.hold_lease("chat", now + timedelta(seconds=43), ttl)


async def test_a_feed_leased_by_a_live_replica_is_skipped_by_the_other(
    replicas: list[Store],
) -> None:
    first, second = replicas
    now = utcnow()
    feed = await first.add_feed("https://a.example/feed", now)
    lease = timedelta(seconds=60)
    assert await first.claim_feed(feed.id, now, slack=timedelta(0), lease=lease) is not None
    assert await second.claim_feed(feed.id, now, slack=timedelta(0), lease=lease) is None
    assert await second.pollable_feeds(now, due_only=True) == []
    later = now + timedelta(seconds=61)
    assert await second.claim_feed(feed.id, later, slack=timedelta(0), lease=lease) is not None
