"""APScheduler wiring (RELIABILITY F1): late runs still run once; overlaps are counted."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bot.ingest.poll import utcnow
from bot.ingest.schedule import FEED_JOB_PREFIX, PollScheduler, phase


class Feeds:
    """A mutable feed list and a counter of polls per feed."""

    def __init__(self, *feeds: tuple[int, str, timedelta]) -> None:
        self.feeds = list(feeds)
        self.polls: Counter[int] = Counter()
        self.poll_seconds = 0.0

    async def list(self) -> list[tuple[int, str, timedelta]]:
        return list(self.feeds)

    async def poll(self, feed_id: int) -> None:
        self.polls[feed_id] += 1
        if self.poll_seconds:
            await asyncio.sleep(self.poll_seconds)


def test_phase_is_stable_and_spread() -> None:
    interval = timedelta(minutes=15)
    offsets = {phase(f"https://feed{i}.example/rss", interval) for i in range(1000)}
    assert phase("https://a.example/", interval) == phase("https://a.example/", interval)
    assert all(timedelta(0) <= offset < interval for offset in offsets)
    assert len(offsets) > 500, "1,000 feeds must not share a handful of start times"


async def test_jobs_follow_the_feed_list() -> None:
    feeds = Feeds((1, "https://a/", timedelta(minutes=5)), (2, "https://b/", timedelta(hours=1)))
    scheduler = PollScheduler(feeds.poll, feeds.list, clock=utcnow)
    await scheduler.start()
    try:
        ids = {job.id for job in scheduler.scheduler.get_jobs()}
        assert {f"{FEED_JOB_PREFIX}1", f"{FEED_JOB_PREFIX}2"} <= ids
        feeds.feeds = [(2, "https://b/", timedelta(hours=1)), (3, "https://c/", timedelta(hours=1))]
        await scheduler.sync()
        ids = {job.id for job in scheduler.scheduler.get_jobs()}
        assert f"{FEED_JOB_PREFIX}1" not in ids
        assert f"{FEED_JOB_PREFIX}3" in ids
        job = scheduler.scheduler.get_job(f"{FEED_JOB_PREFIX}2")
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time is None
    finally:
        await scheduler.stop()


async def _due_now(scheduler: PollScheduler, feed_id: int, when: datetime) -> None:
    scheduler.scheduler.modify_job(f"{FEED_JOB_PREFIX}{feed_id}", next_run_time=when)
    scheduler.scheduler.wakeup()


async def test_a_blocked_event_loop_delays_the_poll_but_does_not_skip_it() -> None:
    feeds = Feeds((1, "https://a/", timedelta(minutes=1)))
    scheduler = PollScheduler(feeds.poll, feeds.list, clock=utcnow)
    await scheduler.start()
    try:
        await _due_now(scheduler, 1, datetime.now(UTC) + timedelta(milliseconds=200))
        time.sleep(5)  # the loop is blocked past the due time (e.g. a long synchronous task)
        for _ in range(100):
            if feeds.polls[1]:
                break
            await asyncio.sleep(0.02)
        assert feeds.polls[1] == 1
        assert scheduler.skipped["missed"] == 0
    finally:
        await scheduler.stop()


async def test_an_hour_asleep_gives_one_coalesced_poll_not_sixty() -> None:
    feeds = Feeds((1, "https://a/", timedelta(minutes=1)))
    scheduler = PollScheduler(feeds.poll, feeds.list, clock=utcnow)
    await scheduler.start()
    try:
        await _due_now(scheduler, 1, datetime.now(UTC) - timedelta(hours=1))
        await asyncio.sleep(0.5)
        assert feeds.polls[1] == 1
        job = scheduler.scheduler.get_job(f"{FEED_JOB_PREFIX}1")
        assert job.next_run_time > datetime.now(UTC)
    finally:
        await scheduler.stop()


async def test_an_overrunning_poll_skips_the_next_run_and_counts_it() -> None:
    feeds = Feeds((1, "https://a/", timedelta(seconds=1)))
    feeds.poll_seconds = 2.5
    scheduler = PollScheduler(feeds.poll, feeds.list, clock=utcnow)
    await scheduler.start()
    try:
        await _due_now(scheduler, 1, datetime.now(UTC))
        await asyncio.sleep(2.2)
        assert feeds.polls[1] == 1
        assert scheduler.skipped["still_running"] >= 1
    finally:
        await scheduler.stop()


async def test_stopping_during_a_poll_cancels_it_without_an_error_or_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    feeds = Feeds((1, "https://a/", timedelta(minutes=5)))
    feeds.poll_seconds = 30
    scheduler = PollScheduler(feeds.poll, feeds.list, clock=utcnow)
    await scheduler.start()
    await _due_now(scheduler, 1, datetime.now(UTC))
    for _ in range(200):
        if feeds.polls[1]:
            break
        await asyncio.sleep(0.01)
    assert feeds.polls[1] == 1
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    await scheduler.stop()
    await asyncio.sleep(0.05)  # apscheduler's done-callbacks run on the next loop turns
    assert time.monotonic() - started < 5
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
