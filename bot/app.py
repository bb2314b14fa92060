"""Composition root: builds every collaborator from Settings and owns start/stop order."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import tomllib
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, TextIO

from bot.core.errors import ConfigError, InvalidInput, NewsbotError, StorageUnavailable
from bot.core.models import FeedInfo
from bot.core.ports import Notifier
from bot.core.stories import Destination
from bot.core.tenancy import OPERATOR
from bot.delivery.outbox import OutboxPolicy
from bot.delivery.service import DeliveryService
from bot.ingest.article import ArticleReader
from bot.ingest.fetch import Fetcher
from bot.ingest.poll import Clock, CycleReport, Poller, PollPolicy, utcnow
from bot.ingest.pool import ParserPool
from bot.ingest.safety import AddressPolicy
from bot.ingest.schedule import PollScheduler
from bot.nlp.service import SummitAnalyzer
from bot.ops.health import HealthServer
from bot.ops.resources import limits_from, open_store
from bot.ops.summary import FeedHealth, cycle_summary, feed_health
from bot.platforms.console.notifier import ConsoleNotifier
from bot.platforms.console.sink import ConsoleSink
from bot.platforms.console.terminal import Terminal
from bot.settings import Settings
from bot.storage.newsdesk import Repositories
from bot.storage.store import DuplicateFeed, Store
from bot.storage.urls import sqlite_path
from bot.stories.desk import Desk
from bot.stories.sink import StorySink

if TYPE_CHECKING:
    from bot.platforms.discord.bot import NewsBot
    from bot.platforms.discord.notifier import DiscordNotifier
    from bot.platforms.slack.app import SlackBot

log = logging.getLogger(__name__)

DEFAULTS_LOADED = "default_feeds_loaded"
TERMINAL = Destination("console", "terminal")
TERMINAL_DIGEST = "0 8 * * *"
CHAT_LEASE = "chat"
CHAT_LEASE_TTL = timedelta(seconds=30)


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


class App:
    """Everything one newsbot process runs, opened and closed in a fixed order."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        fetcher: Fetcher,
        poller: Poller,
        clock: Clock,
        *,
        parser: ParserPool,
        delivery: DeliveryService,
        desk: Desk,
        discord_bot: NewsBot | None = None,
        discord_notifier: DiscordNotifier | None = None,
        slack_bot: SlackBot | None = None,
        health: HealthServer | None = None,
        warm_up: Awaitable[None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self.poller = poller
        self.clock = clock
        self.parser = parser
        self.delivery = delivery
        self.desk = desk
        self.discord_bot = discord_bot
        self.discord_notifier = discord_notifier
        self.slack_bot = slack_bot
        self.health = health
        self._warm_up = warm_up
        self.policy = AddressPolicy(settings.allow_hosts)
        self._logged_in = False
        self._scheduler: PollScheduler | None = None

    @property
    def scheduling(self) -> bool:
        """True while the poll scheduler fires jobs (for /healthz)."""
        return self._scheduler is not None and self._scheduler.running

    def platforms(self) -> dict[str, bool]:
        """Each delivery platform and whether it is connected (for /healthz)."""
        connected: dict[str, bool] = {}
        if not self.settings.chat_configured:
            connected["console"] = True
        if self.discord_bot is not None:
            connected["discord"] = self.discord_bot.is_ready()
        if self.slack_bot is not None:
            connected["slack"] = True
        return connected

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
        """One poll cycle over every enabled feed, then deliver what it produced."""
        if self.discord_bot is not None and not self._logged_in:
            await self.discord_bot.login_rest()
            self._logged_in = True
            if self.discord_notifier is not None:
                self.discord_notifier.use_rest_login()
        await self.delivery.start()
        await self._warmed()
        report = await self.poller.run_cycle(due_only=False)
        await self.delivery.tick()
        return report

    async def _warmed(self) -> None:
        """Wait for the summit pipeline to load; a missing model fails here, before a poll."""
        if self._warm_up is not None:
            await self._warm_up

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Deliver, answer commands and poll each feed on its own interval until ``stop``.

        A SIGTERM (``stop``) during the start-up cycle cancels it: items stored so far are
        analysed and announced after the next start. Each platform's delivery lanes start
        sending (and reconciling rows a crash left in flight) once that platform is ready.
        """
        tasks = [asyncio.create_task(self._lead(stop), name="newsbot:lead")]
        scheduler = PollScheduler(self.poller.poll_feed_id, self._enabled_feeds, clock=self.clock)
        self._scheduler = scheduler
        stopped = asyncio.create_task(stop.wait(), name="newsbot:stop")
        try:
            if self.health is not None:
                await self.health.start()
            catch_up = asyncio.create_task(self._start_up_cycle(), name="newsbot:start-up")
            await asyncio.wait([catch_up, stopped], return_when=asyncio.FIRST_COMPLETED)
            if not catch_up.done():
                catch_up.cancel()
                await asyncio.gather(catch_up, return_exceptions=True)
                return
            catch_up.result()
            await scheduler.start()
            log.info("polling; press Ctrl+C to stop")
            done, _ = await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopped:
                    task.result()
        finally:
            await scheduler.stop()
            stop.set()
            await asyncio.gather(stopped, *tasks, return_exceptions=True)
            if self.health is not None:
                await self.health.close()

    async def _lead(self, stop: asyncio.Event) -> None:
        """Deliver and hold the chat connections; with replicas, only while leading.

        Replicas on one PostgreSQL database all poll (each feed is leased per poll), but one
        chat connection per platform and one sender per outbox are what keeps every message
        single: the replica holding the ``chat`` lease does both. A leader that cannot renew
        its lease in time stops, so two leaders never overlap; a standby takes over within
        ``CHAT_LEASE_TTL`` of a leader's death.
        """
        if self.store.shared:
            if not await self._wait_for_chat_lease(stop):
                return
            log.info("this replica (%s) now holds the chat connections", self.store.replica)
        tasks = [asyncio.create_task(self.delivery.run(stop), name="newsbot:delivery")]
        if self.store.shared:
            tasks.append(asyncio.create_task(self._keep_chat_lease(stop), name="newsbot:lease"))
        try:
            await self.delivery.start()
            if self.discord_bot is not None:
                tasks.append(
                    asyncio.create_task(self.discord_bot.serve(stop), name="newsbot:discord")
                )
            if self.slack_bot is not None:
                tasks.append(asyncio.create_task(self.slack_bot.serve(stop), name="newsbot:slack"))
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.store.shared:
                with contextlib.suppress(NewsbotError):
                    await self.store.release_lease(CHAT_LEASE)

    async def _wait_for_chat_lease(self, stop: asyncio.Event) -> bool:
        """Stand by until this replica holds the chat lease; False if stopped first."""
        announced = False
        while not stop.is_set():
            try:
                if await self.store.hold_lease(CHAT_LEASE, self.clock(), CHAT_LEASE_TTL):
                    return True
            except NewsbotError as exc:
                log.warning("cannot take the chat lease yet: %s", exc)
            if not announced:
                log.info("another replica holds the chat connections; polling only")
                announced = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CHAT_LEASE_TTL.total_seconds() / 3)
        return False

    async def _keep_chat_lease(self, stop: asyncio.Event) -> None:
        """Renew the chat lease; give up (and stop) before it could lapse under us."""
        held_until = self.clock() + CHAT_LEASE_TTL
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CHAT_LEASE_TTL.total_seconds() / 3)
            if stop.is_set():
                return
            now = self.clock()
            try:
                held = await self.store.hold_lease(CHAT_LEASE, now, CHAT_LEASE_TTL)
            except NewsbotError as exc:
                if self.clock() + CHAT_LEASE_TTL / 3 >= held_until:
                    raise StorageUnavailable(
                        f"cannot renew the chat lease ({exc}); stopping so that another "
                        "replica takes over"
                    ) from exc
                log.warning("chat lease renewal failed, retrying: %s", exc)
                continue
            if not held:
                raise StorageUnavailable(
                    "another replica took over the chat connections; restart this one"
                )
            held_until = now + CHAT_LEASE_TTL

    async def _start_up_cycle(self) -> None:
        await self._warmed()
        report = await self.poller.run_cycle(due_only=True)
        summary = cycle_summary(report, await self.store.list_feeds())
        log.info("start-up cycle: %s", summary)

    async def add_checked_feed(self, url: str, owner: str = OPERATOR) -> FeedInfo:
        """Fetch and parse a feed before ``owner`` watches it: a typo or a web page is refused."""
        normal = self.policy.check_url(url)
        fetched = await self.fetcher.fetch(normal)
        parsed = await self.parser.parse(fetched.body, fetched.headers, fetched.final_url)
        target = fetched.permanent_url or normal
        try:
            return await self.store.add_feed(target, self.clock(), title=parsed.title, owner=owner)
        except DuplicateFeed as exc:
            raise InvalidInput(f"{exc}; see the feed list") from None

    async def _enabled_feeds(self) -> list[tuple[int, str, timedelta]]:
        feeds = await self.store.list_feeds()
        return [
            (feed.id, feed.url, self.poller.interval_of(feed))
            for feed in feeds
            if feed.disabled_reason is None
        ]


@contextlib.contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Hold an exclusive lock on the SQLite file itself so two bots never share one database.

    The lock belongs to the file (its inode), not to a path: a hard link or a second mount of
    the same file meets the same lock. ``flock`` never touches SQLite's own POSIX locks.
    """
    path = sqlite_path(settings.database_url)
    if path is None:
        yield None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle: IO[bytes] = path.open("ab")
    except OSError as exc:
        raise ConfigError(f"cannot open the SQLite database {path}: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ConfigError(
                f"another newsbot is already running on {path} (or on a link to the same "
                "file); stop it first (SQLite must have one writer: share data through "
                "PostgreSQL instead)"
            ) from exc
        yield None
    finally:
        handle.close()


@contextlib.asynccontextmanager
async def build_app(
    settings: Settings,
    *,
    clock: Clock = utcnow,
    notifiers: Sequence[Notifier] = (),
    console: TextIO | None = None,
) -> AsyncIterator[App]:
    """Open store, fetcher, parser pool and extractor, wire polling, stories and delivery.

    With no chat token the terminal is a destination of its own (alerts and a daily digest);
    ``notifiers`` adds platforms (tests pass fakes). Everything closes in reverse order.
    """
    policy = AddressPolicy(settings.allow_hosts)
    async with open_store(settings) as store, Fetcher(policy, limits_from(settings)) as fetcher:
        reader = ArticleReader(fetcher) if settings.nlp.fetch_articles else None
        analyzer = SummitAnalyzer(
            settings.nlp.model,
            settings.nlp.batch_size,
            read_article=reader.read if reader is not None else None,
        )
        parser = ParserPool(
            max_workers=settings.parse.workers,
            memory_limit_mb=settings.parse.memory_limit_mb,
            time_limit=settings.parse.time_limit_seconds,
        )
        discord_bot: NewsBot | None = None
        discord_notifier: DiscordNotifier | None = None
        # spaCy loads on its own thread while the chat platforms log in and delivery recovers
        # rows a crash left: alerts already queued wait for nobody's pipeline.
        warm_up = asyncio.ensure_future(analyzer.start())
        try:
            repositories = Repositories.over(store.engine)

            # The desk, the Discord bot and delivery need each other; these closures are
            # only called once everything below exists.
            async def add_feed(url: str, owner: str) -> FeedInfo:
                return await app.add_checked_feed(url, owner)

            def wake() -> None:
                delivery.wake()

            desk = Desk(repositories, store, add_feed, clock=clock, wake=wake)
            chosen: list[Notifier] = list(notifiers)
            output = Terminal(console)
            terminal = not settings.chat_configured
            if terminal:
                chosen.append(ConsoleNotifier(output))
            # A platform's library (~13 MB for discord.py and slack-bolt) loads only with its token.
            if settings.discord.token is not None:
                from bot.platforms.discord.bot import NewsBot  # noqa: PLC0415
                from bot.platforms.discord.notifier import DiscordNotifier  # noqa: PLC0415

                discord_bot = NewsBot(settings.discord, desk)
                discord_notifier = DiscordNotifier(discord_bot)
                chosen.append(discord_notifier)
            slack_bot = None
            if settings.slack.bot_token is not None:
                from bot.platforms.slack.app import SlackBot  # noqa: PLC0415

                slack_bot = SlackBot(
                    settings.slack,
                    desk,
                    admin_group=settings.slack.admin_group,
                    http_host=settings.slack.http_host,
                    http_port=settings.slack.http_port,
                    base_url=settings.slack.api_base_url,
                )
                chosen.append(slack_bot.notifier)
            delivery = DeliveryService.build(
                repositories,
                chosen,
                clock=clock,
                policy=OutboxPolicy(pace={"slack": timedelta(seconds=1)}),
            )
            item_sink = ConsoleSink(output, show_all=settings.console.show_all)
            stories = StorySink(
                repositories.stories, clock=clock, route=delivery.route, operator=item_sink
            )
            poller = Poller(
                store,
                fetcher,
                parser,
                stories,
                policy_from(settings),
                analyzer=analyzer,
                announced=item_sink if settings.console.show_all else None,
                concurrency=settings.poll.concurrency,
                clock=clock,
            )
            health: HealthServer | None = None
            if settings.health_port is not None:

                async def outbox_depth() -> int:
                    counts = await repositories.outbox.counts()
                    return counts["pending"] + counts["sending"]

                async def feeds() -> FeedHealth:
                    return feed_health(await store.list_feeds())

                health = HealthServer(
                    settings.health_port,
                    database=store.feed_count,
                    feeds=feeds,
                    scheduler_running=lambda: app.scheduling,
                    platforms=lambda: app.platforms(),  # noqa: PLW0108 - app is bound below
                    outbox_depth=outbox_depth,
                    storage_problem=lambda: store.storage_problem,
                )
            app = App(
                settings,
                store,
                fetcher,
                poller,
                clock,
                parser=parser,
                delivery=delivery,
                desk=desk,
                discord_bot=discord_bot,
                discord_notifier=discord_notifier,
                slack_bot=slack_bot,
                health=health,
                warm_up=warm_up,
            )
            await app.load_default_feeds()
            if terminal:
                await desk.subscribe(TERMINAL, "both", TERMINAL_DIGEST, "UTC")
            yield app
        finally:
            if discord_bot is not None:
                await discord_bot.close()
            await parser.aclose()
            analyzer.close()
            await asyncio.gather(warm_up, return_exceptions=True)
