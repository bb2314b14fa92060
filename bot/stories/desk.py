"""The NewsDesk: use cases every chat platform's commands call, with input checked here."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol, get_args
from zoneinfo import ZoneInfo

from bot.core.errors import InvalidInput, NotFound
from bot.core.models import FeedInfo
from bot.core.stories import Destination, Digest, Filters, Mode, Story, Subscription
from bot.core.tenancy import OPERATOR, owner_of, readers_of
from bot.delivery.digests import DEFAULT_SCHEDULE, NextFire
from bot.delivery.records import welcome_key
from bot.ingest.schedule import next_fire
from bot.storage.newsdesk import Repositories
from bot.stories.calendar import calendar_ics
from bot.stories.digest import EMPTY_NOTE, build_digest, welcome_digest

MAX_COUNT = 25
MAX_WATCHES = 25
MAX_QUERY = 200
CHOICE_NAME = 100  # Discord's limit for an autocomplete choice's name
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


class FeedCatalog(Protocol):
    """The feed operations the desk needs (``bot.storage.store.Store`` has them)."""

    async def list_feeds(self, owner: str | None = None) -> list[FeedInfo]: ...

    async def remove_feed(self, feed_id: int, owner: str | None = None) -> FeedInfo: ...


AddFeed = Callable[[str, str], Awaitable[FeedInfo]]
"""Fetches, checks and stores a feed for an owner: ``add(url, owner)``."""


def visible_term(term: str) -> str:
    """``term`` without invisible characters (zero-width, bidi controls), spaces collapsed.

    Such characters make two terms look alike, reorder the text shown in lists, and break
    autocomplete, which shows the term as typed.
    """
    shown = "".join(char for char in term if unicodedata.category(char) not in _INVISIBLE)
    return " ".join(shown.split())


def _checked_zone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (KeyError, ValueError) as exc:
        raise InvalidInput(
            f"unknown time zone {timezone!r}: use an IANA name such as Asia/Seoul or UTC"
        ) from exc
    return timezone


def _checked_filters(filters: Filters | None) -> Filters:
    filters = filters or Filters()
    if not 0.0 <= filters.min_score <= 1.0:
        raise InvalidInput("the minimum score must be between 0 and 1")
    return filters


class Desk:
    """Implements ``bot.core.ports.NewsDesk`` over the newsdesk repositories."""

    def __init__(
        self,
        repositories: Repositories,
        feeds: FeedCatalog,
        add_feed: AddFeed,
        *,
        clock: Callable[[], datetime],
        fire: NextFire = next_fire,
        wake: Callable[[], None] | None = None,
        current: timedelta = timedelta(days=14),
    ) -> None:
        self._stories = repositories.stories
        self._subscriptions = repositories.subscriptions
        self._outbox = repositories.outbox
        self._feeds = feeds
        self._add_feed = add_feed
        self._clock = clock
        self._fire = fire
        self._wake = wake
        self._current = current

    # stories: each channel sees them through its own server's or workspace's feeds

    async def latest(self, destination: Destination, count: int) -> list[Story]:
        """The most recently updated stories the channel sees."""
        if not 1 <= count <= MAX_COUNT:
            raise InvalidInput(f"count must be between 1 and {MAX_COUNT}")
        return await self._stories.latest(count, readers_of(destination))

    async def search(self, destination: Destination, query: str, limit: int = 10) -> list[Story]:
        """Stories the channel sees containing every word of ``query``."""
        words = query.split()
        if not words or len(query) > MAX_QUERY:
            raise InvalidInput(f"type one or more words to search for (at most {MAX_QUERY} chars)")
        limit = max(1, min(limit, MAX_COUNT))
        return await self._stories.search(words, limit, readers_of(destination))

    async def story(self, destination: Destination, story_id: int) -> Story:
        """One story with sources and change history as the channel sees it; raises NotFound."""
        return await self._stories.get(story_id, readers_of(destination))

    async def upcoming(self, destination: Destination) -> list[Story]:
        """Summits the channel sees still ahead or under way, soonest first."""
        now = self._clock()
        return await self._stories.upcoming(
            now.date(), now - self._current * 2, readers=readers_of(destination)
        )

    def calendar(self, stories: Sequence[Story]) -> bytes:
        """An .ics file of the dated stories."""
        return calendar_ics(stories, self._clock())

    # feeds: each server or workspace has its own (bot.core.tenancy)

    async def add_feed(self, destination: Destination, url: str) -> FeedInfo:
        """Subscribe the channel's server or workspace to a feed, fetched and checked first."""
        owner = owner_of(destination)
        url = url.strip()
        if not url or len(url) > 2048:
            raise InvalidInput("give the feed's address, e.g. https://example.com/rss")
        return await self._add_feed(url, owner)

    async def remove_feed(self, destination: Destination, feed_id: int) -> FeedInfo:
        """Unsubscribe the channel's server or workspace from a feed; raises NotFound."""
        return await self._feeds.remove_feed(feed_id, owner_of(destination))

    async def list_feeds(self, destination: Destination) -> list[FeedInfo]:
        """The feeds the channel's server or workspace sees: its own and the operator's.

        Other owners of a shared URL are left out of ``owners``: they are none of its business.
        """
        owner = owner_of(destination)
        return [
            replace(feed, owners=tuple(o for o in feed.owners if o in (owner, OPERATOR)))
            for feed in await self._feeds.list_feeds(owner)
        ]

    # subscriptions

    async def subscribe(
        self,
        destination: Destination,
        mode: Mode,
        schedule: str | None = None,
        timezone: str = "UTC",
        filters: Filters | None = None,
    ) -> Subscription:
        """Turn alerts and/or digests on for a channel; the first time, queue a short digest."""
        owner_of(destination)  # a DM or a channel outside any server owns no settings
        if mode not in get_args(Mode):
            raise InvalidInput("mode must be alerts, digest or both")
        timezone = _checked_zone(timezone)
        now = self._clock()
        schedule = " ".join(schedule.split()) if schedule and schedule.strip() else None
        if schedule is None and mode != "alerts":
            schedule = DEFAULT_SCHEDULE
        next_digest_at = None
        if schedule is not None:
            try:
                following = self._fire(schedule, timezone, now)
            except ValueError as exc:
                raise InvalidInput(
                    f"{schedule!r} is not a schedule: use five cron fields, e.g. "
                    "'0 8 * * *' for every day at 08:00"
                ) from exc
            next_digest_at = following if mode != "alerts" else None
        subscription = Subscription(
            destination, mode, schedule, timezone, _checked_filters(filters)
        )
        saved = await self._subscriptions.subscribe(subscription, next_digest_at, now)
        stories = await self._stories.recent(now - self._current, readers=readers_of(destination))
        welcome = welcome_digest(stories, saved.filters, now)
        queued = await self._outbox.enqueue_digest(
            destination, welcome_key(destination), welcome, now
        )
        if queued and self._wake is not None:
            self._wake()
        return saved

    async def unsubscribe(self, destination: Destination) -> None:
        """Turn alerts and digests off for a channel (its watches stay)."""
        owner_of(destination)
        if not await self._subscriptions.unsubscribe(destination):
            raise NotFound("alerts are not on in this channel")

    async def subscription(self, destination: Destination) -> Subscription | None:
        """The channel's settings, or None."""
        owner_of(destination)
        return await self._subscriptions.get(destination)

    async def digest_now(self, destination: Destination) -> Digest:
        """A digest of current stories with the channel's filters, to show right away."""
        owner_of(destination)
        now = self._clock()
        subscription = await self._subscriptions.get(destination)
        stories = await self._stories.recent(now - self._current, readers=readers_of(destination))
        digest = build_digest(
            stories, subscription.filters if subscription else None, now, title="Summit digest"
        )
        return digest if digest.stories else build_digest((), None, now, note=EMPTY_NOTE)

    # watches

    async def watch(self, destination: Destination, term: str) -> list[str]:
        """Alert the channel about any story that mentions ``term``; returns all its terms."""
        owner_of(destination)
        term = visible_term(term)
        if not 2 <= len(term) <= 100 or not any(char.isalnum() for char in term):
            raise InvalidInput(
                "a watch is a name or keyword of 2 to 100 visible characters, e.g. Macron"
            )
        terms = await self._subscriptions.add_watch(destination, term, self._clock(), MAX_WATCHES)
        if terms is None:
            raise InvalidInput(f"this channel already watches {MAX_WATCHES} terms: remove one")
        return terms

    async def unwatch(self, destination: Destination, term: str) -> list[str]:
        """Stop watching ``term``; raises NotFound when it was not watched."""
        owner_of(destination)
        terms = await self._subscriptions.remove_watch(destination, visible_term(term))
        if terms is None:
            raise NotFound(f"this channel does not watch {term!r}")
        return terms

    async def watches(self, destination: Destination) -> list[str]:
        """The terms the channel watches."""
        owner_of(destination)
        return await self._subscriptions.watches(destination)

    # autocomplete

    async def suggest_stories(
        self, destination: Destination, prefix: str, limit: int = 25
    ) -> list[tuple[int, str]]:
        """(id, title) of stories the channel sees whose id starts with or text has ``prefix``."""
        found = await self._stories.suggest(
            prefix[:MAX_QUERY], max(1, min(limit, MAX_COUNT)), readers_of(destination)
        )
        return [(story_id, title[:CHOICE_NAME]) for story_id, title in found]

    async def suggest_feeds(
        self, destination: Destination, prefix: str, limit: int = 25
    ) -> list[tuple[int, str]]:
        """(id, name) of the channel's own feeds whose id, title or address matches ``prefix``."""
        owner = owner_of(destination)
        needle = prefix.strip().casefold()
        found = [
            (feed.id, (feed.title or feed.url)[:CHOICE_NAME])
            for feed in await self._feeds.list_feeds(owner)
            if owner in feed.owners
            and (
                not needle
                or str(feed.id).startswith(needle)
                or needle in (feed.title or "").casefold()
                or needle in feed.url.casefold()
            )
        ]
        return found[: max(1, min(limit, MAX_COUNT))]
