"""The polling recipe with fakes at the edges and a real SQLite store (RELIABILITY A8, B6)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.errors import FetchTimeout, HttpStatusError
from bot.core.models import Validators
from bot.ingest.poll import Poller, PollPolicy
from bot.storage.store import Store
from tests.fakes import FakeClock, FakeFetcher, FakeParser, RecordingSink, items

POLICY = PollPolicy(
    interval=timedelta(minutes=15),
    backoff_base=timedelta(minutes=5),
    backoff_max=timedelta(hours=2),
    max_failures=4,
    max_retry_after=timedelta(hours=24),
)


class Rig:
    """A poller over a fresh store, with its fakes."""

    def __init__(self, store: Store, policy: PollPolicy = POLICY) -> None:
        self.store = store
        self.fetcher = FakeFetcher()
        self.sink = RecordingSink()
        self.clock = FakeClock()
        self.policy = policy
        self.poller = self.make_poller()

    def make_poller(self) -> Poller:
        return Poller(
            self.store, self.fetcher, FakeParser(), self.sink, self.policy, clock=self.clock
        )


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'poll.db'}")
    yield Rig(store)
    await store.close()


async def test_first_poll_is_silent_then_only_new_items_are_announced(rig: Rig) -> None:
    url = "https://a.example/feed"
    feed = await rig.store.add_feed(url, rig.clock())
    rig.fetcher.serve(url, items("1", "2"), etag='"v1"')
    report = await rig.poller.run_cycle()
    assert report.outcomes["unchanged"] == 1
    assert rig.sink.published == []
    assert await rig.store.item_count(feed.id) == 2

    rig.fetcher.serve(url, items("3", "1", "2"), etag='"v2"')
    await rig.poller.run_cycle()
    assert [item.title for item in rig.sink.published] == ["3"]
    assert await rig.store.pending_items() == []


async def test_second_cycle_sends_validators_and_304_counts_as_success(rig: Rig) -> None:
    url = "https://a.example/feed"
    feed = await rig.store.add_feed(url, rig.clock())
    rig.fetcher.serve(url, items("1"), etag='"v1"')
    await rig.poller.run_cycle()
    report = await rig.poller.run_cycle()
    assert report.outcomes == {"not_modified": 1}
    assert rig.fetcher.calls[-1] == (url, Validators(etag='"v1"'))
    info = await rig.store.get_feed(feed.id)
    assert info.consecutive_failures == 0
    assert info.last_success_at == rig.clock()


async def test_restarts_never_repost(rig: Rig, tmp_path: Path) -> None:
    url = "https://a.example/feed"
    await rig.store.add_feed(url, rig.clock())
    rig.fetcher.serve(url, items("1", "2"), etag='"v1"')
    await rig.poller.run_cycle()
    rig.fetcher.serve(url, items("3", "1", "2"), etag='"v2"')
    await rig.poller.run_cycle()
    assert len(rig.sink.published) == 1
    for _ in range(3):
        # A new process: a new poller over the same database, the feed re-emitting everything.
        await rig.store.close()
        rig.store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'poll.db'}")
        rig.poller = rig.make_poller()
        rig.fetcher.serve(url, items("3", "2", "1"), etag='"changed"')
        await rig.poller.run_cycle()
    assert len(rig.sink.published) == 1


async def test_items_stored_but_not_announced_are_announced_after_a_restart(rig: Rig) -> None:
    url = "https://a.example/feed"
    feed = await rig.store.add_feed(url, rig.clock())
    await rig.store.store_items(feed.id, [], rig.clock(), announce_first=0)
    await rig.store.store_items(feed.id, items("9"), rig.clock(), announce_first=0)
    rig.fetcher.serve(url, items("9"))
    await rig.poller.run_cycle()
    assert [item.title for item in rig.sink.published] == ["9"]
    await rig.poller.run_cycle()
    assert len(rig.sink.published) == 1


async def test_backoff_doubles_caps_and_disables_once(rig: Rig) -> None:
    url = "https://a.example/feed"
    feed = await rig.store.add_feed(url, rig.clock())
    rig.fetcher.answers[url] = HttpStatusError("http 500", status=500)
    delays = []
    for _ in range(6):
        before = rig.clock()
        await rig.poller.run_cycle(due_only=True)
        info = await rig.store.get_feed(feed.id)
        if info.disabled_reason:
            break
        assert info.next_poll_at is not None
        delays.append(info.next_poll_at - before)
        rig.clock.advance(info.next_poll_at - before)
    assert delays == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]
    assert info.consecutive_failures == 4
    assert len(rig.sink.disabled) == 1
    assert "http 500" in (info.disabled_reason or "")
    rig.clock.advance(timedelta(days=1))
    await rig.poller.run_cycle()
    assert len(rig.fetcher.calls) == 4, "a disabled feed is not polled"


async def test_backoff_is_capped() -> None:
    assert POLICY.retry_delay(30, None) == timedelta(hours=2)
    assert POLICY.retry_delay(1, 3600) == timedelta(hours=1)
    assert POLICY.retry_delay(1, 10**9) == timedelta(hours=24)


async def test_retry_after_is_honoured(rig: Rig) -> None:
    url = "https://a.example/feed"
    feed = await rig.store.add_feed(url, rig.clock())
    rig.fetcher.answers[url] = HttpStatusError("http 429", status=429, retry_after=3600)
    await rig.poller.run_cycle()
    rig.fetcher.serve(url, items("1"))
    rig.clock.advance(timedelta(minutes=59))
    await rig.poller.run_cycle(due_only=True)
    await rig.poller.run_cycle()
    assert len(rig.fetcher.calls) == 1, "no poll before Retry-After, not even with run --once"
    rig.clock.advance(timedelta(minutes=2))
    await rig.poller.run_cycle(due_only=True)
    assert len(rig.fetcher.calls) == 2
    assert (await rig.store.get_feed(feed.id)).consecutive_failures == 0


async def test_success_after_failures_recovers(rig: Rig) -> None:
    url = "https://a.example/feed"
    feed = await rig.store.add_feed(url, rig.clock())
    rig.fetcher.answers[url] = FetchTimeout("timeout")
    await rig.poller.run_cycle()
    await rig.store.enable_feed(feed.id, rig.clock())
    rig.fetcher.serve(url, items("1"))
    await rig.poller.run_cycle()
    info = await rig.store.get_feed(feed.id)
    assert (info.consecutive_failures, info.last_error) == (0, None)


async def test_enable_resets_a_disabled_feed(rig: Rig) -> None:
    url = "https://a.example/feed"
    feed = await rig.store.add_feed(url, rig.clock())
    rig.fetcher.answers[url] = HttpStatusError("http 404", status=404)
    for _ in range(4):
        await rig.poller.run_cycle()
        rig.clock.advance(timedelta(days=1))
    assert (await rig.store.get_feed(feed.id)).disabled_reason
    await rig.store.enable_feed(feed.id, rig.clock())
    rig.fetcher.serve(url, items("1"))
    report = await rig.poller.run_cycle(due_only=True)
    assert report.outcomes == {"unchanged": 1}


async def test_one_slow_feed_does_not_delay_the_others(rig: Rig) -> None:
    slow, fast = "https://slow.example/feed", "https://fast.example/feed"
    await rig.store.add_feed(slow, rig.clock())
    fast_feed = await rig.store.add_feed(fast, rig.clock())
    rig.fetcher.serve(slow, items("s"))
    rig.fetcher.serve(fast, items("f"))
    rig.fetcher.delays[slow] = 1.0
    started = time.monotonic()
    cycle = asyncio.create_task(rig.poller.run_cycle())
    while await rig.store.item_count(fast_feed.id) == 0:
        await asyncio.sleep(0.01)
    assert time.monotonic() - started < 0.5
    report = await cycle
    assert report.feeds == 2


async def test_unexpected_errors_stay_inside_their_feed(rig: Rig) -> None:
    bad, good = "https://bad.example/feed", "https://good.example/feed"
    await rig.store.add_feed(bad, rig.clock())
    await rig.store.add_feed(good, rig.clock())

    def explode(url: str, validators: Validators | None) -> object:
        raise RuntimeError("bug")

    rig.fetcher.answers[bad] = explode  # type: ignore[assignment]
    rig.fetcher.serve(good, items("1"))
    report = await rig.poller.run_cycle()
    assert report.outcomes == {"failed": 1, "unchanged": 1}
    assert "internal error" in report.errors[bad]


async def test_scheduler_entry_skips_feeds_not_due(rig: Rig) -> None:
    url = "https://a.example/feed"
    feed = await rig.store.add_feed(url, rig.clock())
    rig.fetcher.serve(url, items("1"))
    assert (await rig.poller.poll_feed_id(feed.id)).outcome == "unchanged"
    assert (await rig.poller.poll_feed_id(feed.id)).outcome == "skipped"
    rig.clock.advance(timedelta(minutes=10))
    assert (await rig.poller.poll_feed_id(feed.id)).outcome == "not_modified"
    assert (await rig.poller.poll_feed_id(999)).outcome == "skipped"


async def test_scheduler_entry_respects_backoff_shorter_than_half_an_interval(rig: Rig) -> None:
    url = "https://a.example/feed"
    feed = await rig.store.add_feed(url, rig.clock())
    rig.fetcher.answers[url] = HttpStatusError("http 500", status=500)
    assert (await rig.poller.poll_feed_id(feed.id)).outcome == "failed"
    rig.clock.advance(timedelta(minutes=4))
    assert (await rig.poller.poll_feed_id(feed.id)).outcome == "skipped", "5-minute backoff"
    rig.clock.advance(timedelta(minutes=2))
    assert (await rig.poller.poll_feed_id(feed.id)).outcome == "failed"
