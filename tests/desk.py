"""One hand-written NewsDesk for every platform's command tests: in memory, recording calls."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.core.errors import InvalidInput, NotFound
from bot.core.models import FeedInfo
from bot.core.stories import Destination, Digest, Filters, Mode, Story, Subscription

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@dataclass
class FakeNewsDesk:
    """Implements bot.core.ports.NewsDesk in memory; records every call.

    Feeds and stories are one list whatever the channel: tenancy is the real Desk's
    (tests/platforms/test_tenancy.py runs it through both platforms).

    ``gate``, when set, holds every call until it is opened: a slow core.
    """

    stories: list[Story] = field(default_factory=list)
    feeds: dict[int, FeedInfo] = field(default_factory=dict)
    subscriptions: dict[Destination, Subscription] = field(default_factory=dict)
    watched: dict[Destination, list[str]] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    fail_with: BaseException | None = None
    gate: asyncio.Event | None = None

    async def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with

    def called(self, name: str) -> list[tuple[Any, ...]]:
        """The arguments of every call to ``name``."""
        return [args for called, args in self.calls if called == name]

    async def latest(self, destination: Destination, count: int) -> list[Story]:
        await self._record("latest", count)
        return self.stories[:count]

    async def search(self, destination: Destination, query: str, limit: int = 10) -> list[Story]:
        await self._record("search", query, limit)
        words = query.lower().split()
        found = [s for s in self.stories if all(w in (s.title + s.summary).lower() for w in words)]
        return found[:limit]

    async def story(self, destination: Destination, story_id: int) -> Story:
        await self._record("story", story_id)
        for story in self.stories:
            if story.id == story_id:
                return story
        raise NotFound(f"There is no story #{story_id}.")

    async def upcoming(self, destination: Destination) -> list[Story]:
        await self._record("upcoming")
        return [s for s in self.stories if s.facts.status == "upcoming"]

    def calendar(self, stories: Sequence[Story]) -> bytes:
        self.calls.append(("calendar", (len(stories),)))
        events = "".join(f"BEGIN:VEVENT\r\nUID:story-{s.id}\r\nEND:VEVENT\r\n" for s in stories)
        return f"BEGIN:VCALENDAR\r\n{events}END:VCALENDAR\r\n".encode()

    async def add_feed(self, destination: Destination, url: str) -> FeedInfo:
        await self._record("add_feed", url)
        if any(feed.url == url for feed in self.feeds.values()):
            raise InvalidInput("That feed is already watched.")
        feed = FeedInfo(id=max(self.feeds, default=0) + 1, url=url, title="Added feed")
        self.feeds[feed.id] = feed
        return feed

    async def remove_feed(self, destination: Destination, feed_id: int) -> FeedInfo:
        await self._record("remove_feed", feed_id)
        if feed_id not in self.feeds:
            raise NotFound(f"There is no feed #{feed_id}.")
        return self.feeds.pop(feed_id)

    async def list_feeds(self, destination: Destination) -> list[FeedInfo]:
        await self._record("list_feeds")
        return list(self.feeds.values())

    async def subscribe(
        self,
        destination: Destination,
        mode: Mode,
        schedule: str | None = None,
        timezone: str = "UTC",
        filters: Filters | None = None,
    ) -> Subscription:
        await self._record("subscribe", destination, mode, schedule, timezone, filters)
        subscription = Subscription(destination, mode, schedule, timezone, filters or Filters())
        self.subscriptions[destination] = subscription
        return subscription

    async def unsubscribe(self, destination: Destination) -> None:
        await self._record("unsubscribe", destination)
        self.subscriptions.pop(destination, None)

    async def subscription(self, destination: Destination) -> Subscription | None:
        await self._record("subscription", destination)
        return self.subscriptions.get(destination)

    async def digest_now(self, destination: Destination) -> Digest:
        await self._record("digest_now", destination)
        return Digest("Summit digest", tuple(self.stories), NOW)

    async def watch(self, destination: Destination, term: str) -> list[str]:
        await self._record("watch", destination, term)
        terms = self.watched.setdefault(destination, [])
        if term not in terms:
            terms.append(term)
        return list(terms)

    async def unwatch(self, destination: Destination, term: str) -> list[str]:
        await self._record("unwatch", destination, term)
        terms = self.watched.setdefault(destination, [])
        if term not in terms:
            raise NotFound(f"“{term}” is not watched here.")
        terms.remove(term)
        return list(terms)

    async def watches(self, destination: Destination) -> list[str]:
        await self._record("watches", destination)
        return list(self.watched.get(destination, []))

    async def suggest_stories(
        self, destination: Destination, prefix: str, limit: int = 25
    ) -> list[tuple[int, str]]:
        await self._record("suggest_stories", prefix, limit)
        return [(s.id, s.title) for s in self.stories if prefix.lower() in s.title.lower()][:limit]

    async def suggest_feeds(
        self, destination: Destination, prefix: str, limit: int = 25
    ) -> list[tuple[int, str]]:
        await self._record("suggest_feeds", prefix, limit)
        return [
            (f.id, f.title or f.url)
            for f in self.feeds.values()
            if prefix.lower() in (f.title or f.url).lower()
        ][:limit]
