"""Composition root: builds every collaborator from Settings and owns start/stop order."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

from bot.core.errors import ConfigError, NewsbotError
from bot.core.models import FeedInfo
from bot.core.ports import Sink
from bot.ingest.article import ArticleReader
from bot.ingest.fetch import Fetcher, FetchLimits
from bot.ingest.parse import ParserPool
from bot.ingest.poll import Clock, CycleReport, Poller, PollPolicy, utcnow
from bot.ingest.safety import AddressPolicy
from bot.ingest.schedule import PollScheduler
from bot.nlp.service import SummitAnalyzer
from bot.platforms.console.sink import ConsoleSink
from bot.settings import Settings
from bot.storage.db import sqlite_path
from bot.storage.store import DuplicateFeed, Store

log = logging.getLogger(__name__)

DEFAULTS_LOADED = "default_feeds_loaded"


@dataclass(frozen=True, slots=True)
class DefaultFeed:
    """One entry of ``config/feeds.toml``."""

    url: str
    title: str | None = None


def read_feed_list(path: Path) -> list[DefaultFeed]:
    """Read the reviewed default feed list; a broken file is a clear ConfigError."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the feed list {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the feed list {path} is not valid TOML: {exc}") from exc
    feeds = data.get("feeds", [])
    if not isinstance(feeds, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("url"), str) for entry in feeds
    ):
        raise ConfigError(f"{path}: expected [[feeds]] tables, each with a url")
    return [DefaultFeed(url=entry["url"], title=entry.get("title")) for entry in feeds]


def policy_from(settings: Settings) -> PollPolicy:
    """The poll policy the settings describe."""
    poll = settings.poll
    return PollPolicy(
        interval=timedelta(seconds=poll.interval_seconds),
        backoff_base=timedelta(seconds=poll.backoff_base_seconds),
        backoff_max=timedelta(seconds=poll.backoff_max_seconds),
        max_failures=poll.max_failures,
        max_retry_after=timedelta(seconds=poll.max_retry_after_seconds),
        announce_first=poll.first_poll_announce,
    )


def limits_from(settings: Settings) -> FetchLimits:
    """The fetch limits the settings describe."""
    fetch = settings.fetch
    return FetchLimits(
        total_timeout=fetch.timeout_seconds,
        connect_timeout=fetch.connect_timeout_seconds,
        max_bytes=fetch.max_bytes,
        max_redirects=fetch.max_redirects,
        per_host=fetch.per_host,
        total_connections=max(settings.poll.concurrency, fetch.per_host),
        user_agent=fetch.user_agent,
    )


class App:
    """Everything one newsbot process runs, opened and closed in a fixed order."""

    def __init__(
        self, settings: Settings, store: Store, fetcher: Fetcher, poller: Poller, clock: Clock
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self.poller = poller
        self.clock = clock
        self.policy = AddressPolicy(settings.allow_hosts)

    async def load_default_feeds(self) -> int:
        """Add the reviewed default feeds once, on the very first start."""
        if await self.store.get_meta(DEFAULTS_LOADED) is not None:
            return 0
        path = self.settings.feeds_file
        added = 0
        if path.is_file():
            for entry in read_feed_list(path):
                try:
                    url = self.policy.check_url(entry.url)
                    await self.store.add_feed(url, self.clock(), title=entry.title)
                    added += 1
                except DuplicateFeed:
                    continue
                except NewsbotError as exc:
                    log.warning("skipping default feed %s: %s", entry.url, exc)
        else:
            log.warning("default feed list %s not found; starting with no feeds", path)
        await self.store.set_meta(DEFAULTS_LOADED, str(added))
        return added

    async def run_once(self) -> CycleReport:
        """One poll cycle over every enabled feed."""
        return await self.poller.run_cycle(due_only=False)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Catch up on due feeds, then let the scheduler poll each feed on its own interval."""
        report = await self.poller.run_cycle(due_only=True)
        log.info(
            "start-up cycle: %d feed(s) polled, %d new item(s)", report.feeds, report.new_items
        )
        scheduler = PollScheduler(
            self.poller.poll_feed_id,
            self._enabled_feeds,
            clock=self.clock,
        )
        await scheduler.start()
        log.info("polling; press Ctrl+C to stop")
        try:
            await stop.wait()
        finally:
            scheduler.stop()

    async def _enabled_feeds(self) -> list[tuple[int, str, timedelta]]:
        feeds = await self.store.list_feeds()
        return [
            (feed.id, feed.url, self.poller.interval_of(feed))
            for feed in feeds
            if feed.disabled_reason is None
        ]


@contextlib.asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """The store alone, for CLI commands that only read or edit feeds."""
    store = await Store.open(settings.database_url)
    try:
        yield store
    finally:
        await store.close()


@contextlib.contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Hold an exclusive lock beside a SQLite file so two bots never share one database."""
    path = sqlite_path(settings.database_url)
    if path is None:
        yield None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = (path.parent / (path.name + ".lock")).open("w")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ConfigError(
                f"another newsbot is already running on {path}; stop it first "
                "(SQLite must have one writer: share data through PostgreSQL instead)"
            ) from exc
        yield None
    finally:
        handle.close()


@contextlib.asynccontextmanager
async def build_app(
    settings: Settings, *, sink: Sink | None = None, clock: Clock = utcnow
) -> AsyncIterator[App]:
    """Open store, fetcher and parser pool, wire the poller, and close all in reverse order."""
    policy = AddressPolicy(settings.allow_hosts)
    chosen_sink: Sink = sink or ConsoleSink(show_all=settings.console.show_all)
    async with open_store(settings) as store, Fetcher(policy, limits_from(settings)) as fetcher:
        reader = ArticleReader(fetcher) if settings.nlp.fetch_articles else None
        analyzer = SummitAnalyzer(
            settings.nlp.model,
            settings.nlp.batch_size,
            read_article=reader.read if reader is not None else None,
        )
        parser = ParserPool(
            max_workers=settings.parse.workers, memory_limit_mb=settings.parse.memory_limit_mb
        )
        try:
            await analyzer.start()
            poller = Poller(
                store,
                fetcher,
                parser,
                chosen_sink,
                policy_from(settings),
                analyzer=analyzer,
                concurrency=settings.poll.concurrency,
                clock=clock,
            )
            app = App(settings, store, fetcher, poller, clock)
            await app.load_default_feeds()
            yield app
        finally:
            parser.close()
            analyzer.close()


def describe_feed(feed: FeedInfo) -> str:
    """One line per feed for ``feeds list``."""
    state = "ok"
    if feed.disabled_reason:
        state = f"DISABLED: {feed.disabled_reason}"
    elif feed.consecutive_failures:
        state = f"failing ({feed.consecutive_failures}): {feed.last_error}"
    title = feed.title or "(untitled)"
    return f"{feed.id:>4}  {title[:40]:<40}  {feed.url}\n      {state}"
