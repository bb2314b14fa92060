"""The polling recipe: fetch -> parse -> keep new -> store -> analyse -> announce, per feed.

Every failure stays inside its feed: it is counted, backed off and, at the threshold, the feed
is disabled with one reason. Nothing here knows about a scheduler or a chat platform.

An item is announced only with its verdict: stored items wait (``pending``) until their
analysis is stored too, or their analysis failed for good and that is stored with the reason.
A crash during the article fetch or spaCy leaves them pending without one; the next cycle
analyses them before announcing anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bot.core.errors import (
    FeedParseError,
    FetchError,
    NewsbotError,
    NotFound,
    StorageUnavailable,
)
from bot.core.models import FeedInfo, NewItem
from bot.core.ports import FeedFetcher, FeedParser, ItemAnalyzer, ItemPrinter, Sink
from bot.ops import metrics
from bot.storage.store import DEFAULT_LEASE, Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Outcome = Literal["new", "unchanged", "not_modified", "failed", "skipped"]


def utcnow() -> datetime:
    """The current time, aware UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """How often feeds are polled and how failures are handled (RELIABILITY A8)."""

    interval: timedelta = timedelta(minutes=15)
    backoff_base: timedelta = timedelta(minutes=5)
    backoff_max: timedelta = timedelta(hours=24)
    max_failures: int = 10
    max_retry_after: timedelta = timedelta(hours=24)
    announce_first: int = 0

    def retry_delay(self, failures: int, retry_after: float | None) -> timedelta:
        """Exponential backoff, capped, and never sooner than the server's Retry-After."""
        exponent = min(max(failures - 1, 0), 30)
        delay = min(self.backoff_base * (1 << exponent), self.backoff_max)
        if retry_after is not None and retry_after > 0:
            delay = max(delay, min(timedelta(seconds=retry_after), self.max_retry_after))
        return delay


@dataclass(slots=True)
class CycleReport:
    """What one cycle over all feeds did, for the terminal and the tests."""

    outcomes: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    new_items: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def feeds(self) -> int:
        """Number of feeds polled."""
        return sum(self.outcomes.values())


@dataclass(frozen=True, slots=True)
class FeedResult:
    """The outcome of polling one feed."""

    outcome: Outcome
    new_items: tuple[NewItem, ...] = ()
    error: str | None = None
    reason: str | None = None


class Poller:
    """Runs the recipe for one feed or a whole cycle; the scheduler only says when."""

    def __init__(
        self,
        store: Store,
        fetcher: FeedFetcher,
        parser: FeedParser,
        sink: Sink,
        policy: PollPolicy,
        *,
        analyzer: ItemAnalyzer | None = None,
        announced: ItemPrinter | None = None,
        concurrency: int = 50,
        clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._analyzer = analyzer
        self._fetcher = fetcher
        self._parser = parser
        self._sink = sink
        self._announced = announced
        self._policy = policy
        self._clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._announce_lock = asyncio.Lock()

    async def poll_feed(self, feed: FeedInfo) -> FeedResult:
        """Poll one feed; never raises for anything the feed, the network or the disk did."""
        async with self._slots:
            try:
                result = await self._poll(feed)
            except StorageUnavailable as exc:
                # The database failed, not the feed: nothing is counted against it, and the
                # store has logged the cause once.
                return FeedResult("failed", error=str(exc))
        metrics.poll(result.outcome)
        if result.new_items:
            await self.announce(result.new_items)
        return result

    async def poll_feed_id(self, feed_id: int) -> FeedResult:
        """Scheduler entry point: poll a feed by id if it is enabled, due and free.

        Half an interval of slack keeps a job that fires a little before ``next_poll_at`` from
        waiting a whole extra interval; a failing feed gets no slack, so its backoff holds.
        The claim is a lease: replicas on one database poll each feed once, and a lease left
        by a dead replica expires within an interval.
        """
        try:
            interval = self.interval_of(await self._store.get_feed(feed_id))
            feed = await self._store.claim_feed(
                feed_id, self._clock(), slack=interval / 2, lease=min(interval, DEFAULT_LEASE)
            )
        except NotFound:
            return FeedResult("skipped")
        except StorageUnavailable as exc:
            return FeedResult("failed", error=str(exc))
        if feed is None:
            return FeedResult("skipped")
        return await self.poll_feed(feed)

    def interval_of(self, feed: FeedInfo) -> timedelta:
        """The feed's own interval, or the default one."""
        if feed.interval_seconds:
            return timedelta(seconds=feed.interval_seconds)
        return self._policy.interval

    async def run_cycle(self, *, due_only: bool = False) -> CycleReport:
        """Poll every enabled feed concurrently; one slow or broken feed delays no other."""
        started = asyncio.get_running_loop().time()
        await self.flush_pending()
        feeds = await self._store.pollable_feeds(self._clock(), due_only=due_only)
        results = await asyncio.gather(*(self.poll_feed(feed) for feed in feeds))
        report = CycleReport()
        for feed, result in zip(feeds, results, strict=True):
            report.outcomes[result.outcome] += 1
            report.new_items += len(result.new_items)
            if result.error:
                report.errors[feed.url] = result.error
            if result.reason:
                report.failures[result.reason] += 1
        report.seconds = asyncio.get_running_loop().time() - started
        return report

    async def flush_pending(self) -> None:
        """Analyse, then announce, items an earlier run stored but did not announce."""
        pending = await self._store.pending_items()
        if not pending:
            return
        unanalysed = [item for item in pending if item.analysis is None]
        if unanalysed and self._analyzer is not None:
            log.info("analysing %d item(s) left from an earlier run", len(unanalysed))
            verdicts = {item.id: item for item in await self._analyse(unanalysed, self._clock())}
            pending = [verdicts.get(item.id, item) for item in pending]
        log.info("announcing %d item(s) left from an earlier run", len(pending))
        await self.announce(pending)

    async def announce(self, items: Sequence[NewItem]) -> None:
        """Hand analysed items to the sink, then record each as announced as it is printed.

        The sink files stories idempotently, so a crash before the record repeats nothing.
        ``announced`` (the terminal's item printer) renders each item first and writes it as
        its own record commits: a kill never prints an item twice nor loses one.
        """
        ready = [item for item in items if self._analyzer is None or item.analysis is not None]
        if not ready:
            return
        async with self._announce_lock:
            await self._sink.publish(ready)
            printer = self._announced
            if printer is None:
                await self._store.record_announced([item.id for item in ready])
                return
            for item in ready:
                with printer.holding() as release:
                    await printer.publish([item])
                await self._store.record_announced([item.id], release)

    async def _poll(self, feed: FeedInfo) -> FeedResult:
        now = self._clock()
        try:
            fetched = await self._fetcher.fetch(feed.url, feed.validators)
            next_poll = now + self.interval_of(feed)
            if fetched.status == 304:
                await self._store.record_poll(
                    feed.id, now=now, next_poll_at=next_poll, validators=fetched.validators
                )
                return FeedResult("not_modified")
            # Relative links and GUIDs resolve against the URL the feed was added with, so a
            # move (an adopted 301, a changing 302 target) changes no item key.
            base = feed.identity or feed.url
            parsed = await self._parser.parse(fetched.body, fetched.headers, base)
            if parsed.warning:
                log.warning("feed %s is not well formed but readable: %s", feed.url, parsed.warning)
            stored = await self._store.record_poll(
                feed.id,
                now=now,
                next_poll_at=next_poll,
                validators=fetched.validators,
                items=parsed.items,
                announce_first=self._policy.announce_first,
                title=parsed.title,
                new_url=fetched.permanent_url,
            )
        except StorageUnavailable:
            raise
        except (FetchError, FeedParseError) as exc:
            metrics.fetch_failure(exc.reason)
            retry_after = exc.retry_after if isinstance(exc, FetchError) else None
            return await self._fail(feed, now, str(exc), retry_after, exc.reason)
        except NewsbotError as exc:
            metrics.fetch_failure(type(exc).__name__)
            return await self._fail(feed, now, str(exc), None, type(exc).__name__)
        except Exception:
            metrics.fetch_failure("internal")
            log.exception("unexpected error while polling %s", feed.url)
            return await self._fail(feed, now, "internal error (see the log)", None, "internal")
        if stored and self._analyzer is not None:
            stored = await self._analyse(stored, now)
        metrics.items(len(stored), summit=sum(item.is_summit for item in stored))
        new_items = tuple(item for item in stored if item.pending)
        return FeedResult("new" if new_items else "unchanged", new_items)

    async def _analyse(self, items: Sequence[NewItem], now: datetime) -> list[NewItem]:
        """Attach and store the extractor's verdict on every item.

        A failing batch is retried item by item; an item whose own analysis fails is stored as
        not a summit story with the reason, so it is announced once and never analysed again.
        """
        assert self._analyzer is not None
        try:
            with metrics.timed_extraction():
                analyses = await self._analyzer.analyse(items)
        except Exception:
            log.exception(
                "analysis failed for a batch of %d item(s); retrying one by one", len(items)
            )
            analyses = [await self._analyse_one(item) for item in items]
        await self._store.save_analyses(
            [(item.id, data) for item, data in zip(items, analyses, strict=True)], now
        )
        return [replace(item, analysis=data) for item, data in zip(items, analyses, strict=True)]

    async def _analyse_one(self, item: NewItem) -> dict[str, Any]:
        assert self._analyzer is not None
        try:
            with metrics.timed_extraction():
                return (await self._analyzer.analyse([item]))[0]
        except Exception as exc:
            log.exception("analysis of item %s (%s) failed for good", item.id, item.link)
            return {"is_summit": False, "score": 0.0, "failed": f"analysis failed: {exc!r}"[:500]}

    async def _fail(
        self, feed: FeedInfo, now: datetime, error: str, retry_after: float | None, reason: str
    ) -> FeedResult:
        delay = self._policy.retry_delay(feed.consecutive_failures + 1, retry_after)
        updated = await self._store.record_failure(
            feed.id,
            now=now,
            error=error,
            next_poll_at=now + delay,
            max_failures=self._policy.max_failures,
        )
        log.warning(
            "feed %s failed (%d in a row), next try in %s: %s",
            feed.url,
            updated.consecutive_failures,
            delay,
            error,
        )
        if updated.disabled_reason and feed.disabled_reason is None:
            log.error("feed %s disabled: %s", feed.url, updated.disabled_reason)
            await self._sink.feed_disabled(updated)
        return FeedResult("failed", error=error, reason=reason)
