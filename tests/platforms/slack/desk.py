"""A hand-written NewsDesk for Slack command tests, and story factories (plain, hostile, huge)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from bot.core.errors import InvalidInput, NewsbotError, NotFound
from bot.core.models import FeedInfo
from bot.core.stories import (
    Destination,
    Digest,
    FactChange,
    Filters,
    Mode,
    Participant,
    Quote,
    Source,
    Story,
    StoryFacts,
    Subscription,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

# Everything a hostile feed can put in a title that Slack would treat as syntax (C2).
INJECTION = (
    "<!channel> <!here> <!everyone> <@U0123ABC> <#C0123ABC> <!subteam^S0123> "
    "<https://evil.example|https://bank.example> @channel @here @everyone "
    "AT&T &amp; &lt;b&gt; <script>x</script>"
)
HOSTILE_LINKS = (
    "javascript:alert(1)",
    "data:,x",
    "",
    "http://intranet/",
    "https://evil.example/a|https://bank.example",
    "https://evil.example/<!channel>",
    "https://example.com/" + "a" * 3000,
)


def make_story(story_id: int = 1, **overrides: Any) -> Story:
    """A plausible summit story."""
    story = Story(
        id=story_id,
        title=f"Leaders to meet in Geneva (story {story_id})",
        summary="The two leaders will meet in Geneva next month. Aides are preparing an agenda.",
        facts=StoryFacts(
            participants=(
                Participant("Xi Jinping", "President", "China"),
                Participant("Joe Biden", "President", "United States"),
            ),
            city="Geneva",
            country="Switzerland",
            venue="Villa La Grange",
            start_date=date(2026, 12, 12),
            end_date=date(2026, 12, 13),
            status="upcoming",
            agenda=("trade", "climate"),
        ),
        score=0.93,
        reasons=("two heads of state", "a meeting verb", "a date ahead"),
        sources=(
            Source(
                1, "Leaders to meet in Geneva", "https://www.reuters.com/a?x=1&y=2", "Reuters", NOW
            ),
            Source(2, "Geneva summit set", "https://apnews.com/b", "AP", NOW),
        ),
        first_seen=NOW,
        updated_at=NOW,
        changes=(FactChange(NOW, "venue", None, "Villa La Grange"),),
        quotes=(Quote("Joe Biden", "We will talk."),),
    )
    return replace(story, **overrides)


def hostile_story(story_id: int = 666) -> Story:
    """Injection in every text field, and only links Slack must not link."""
    facts = StoryFacts(
        participants=(Participant(INJECTION, INJECTION, INJECTION),),
        city=INJECTION,
        country=INJECTION,
        venue=INJECTION,
        start_date=date(2026, 12, 1),
        status="upcoming",
        agenda=(INJECTION,),
    )
    return Story(
        id=story_id,
        title=INJECTION,
        summary=INJECTION + ". " + INJECTION,
        facts=facts,
        score=0.5,
        reasons=(INJECTION,),
        sources=tuple(
            Source(index, INJECTION, link, INJECTION, NOW)
            for index, link in enumerate(HOSTILE_LINKS)
        ),
        first_seen=NOW,
        updated_at=NOW,
        changes=(FactChange(NOW, "venue", INJECTION, INJECTION),),
        quotes=(Quote(INJECTION, INJECTION),),
    )


def huge_story(story_id: int = 999) -> Story:
    """Every field far over Slack's limits (C5)."""
    big = "Summit & <talks> " * 800
    return Story(
        id=story_id,
        title="T" * 10_000,
        summary="S" * 50_000,
        facts=StoryFacts(
            participants=tuple(Participant(f"Leader {n} " + "x" * 300) for n in range(200)),
            city=big,
            country=big,
            venue=big,
            start_date=date(2026, 1, 1),
            end_date=date(2027, 2, 1),
            status="upcoming",
            agenda=tuple(big for _ in range(40)),
        ),
        score=1.0,
        reasons=tuple(big for _ in range(40)),
        sources=tuple(
            Source(n, big, f"https://outlet{n}.example.com/{'p' * 500}", big, NOW)
            for n in range(300)
        ),
        first_seen=NOW,
        updated_at=NOW,
        changes=tuple(FactChange(NOW, f"field_{n}" * 30, big, big) for n in range(100)),
        quotes=tuple(Quote(big, big) for _ in range(50)),
    )


def make_feed(feed_id: int = 1, **overrides: Any) -> FeedInfo:
    """A healthy feed."""
    feed = FeedInfo(
        id=feed_id, url=f"https://news{feed_id}.example.com/rss", title=f"News {feed_id}"
    )
    return replace(feed, **overrides)


@dataclass
class FakeNewsDesk:
    """Implements bot.core.ports.NewsDesk in memory; records every call.

    ``gate``, when set, holds every call until it is opened: a slow core.
    """

    stories: list[Story] = field(default_factory=lambda: [make_story(1), make_story(2)])
    feeds: dict[int, FeedInfo] = field(default_factory=lambda: {1: make_feed(1)})
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

    async def latest(self, count: int) -> list[Story]:
        await self._record("latest", count)
        return self.stories[:count]

    async def search(self, query: str, limit: int = 10) -> list[Story]:
        await self._record("search", query, limit)
        words = query.lower().split()
        found = [s for s in self.stories if all(w in (s.title + s.summary).lower() for w in words)]
        return found[:limit]

    async def story(self, story_id: int) -> Story:
        await self._record("story", story_id)
        for story in self.stories:
            if story.id == story_id:
                return story
        raise NotFound(f"There is no story #{story_id}.")

    async def upcoming(self) -> list[Story]:
        await self._record("upcoming")
        return [s for s in self.stories if s.facts.status == "upcoming"]

    def calendar(self, stories: Sequence[Story]) -> bytes:
        self.calls.append(("calendar", (len(stories),)))
        events = "".join(f"BEGIN:VEVENT\r\nUID:story-{s.id}\r\nEND:VEVENT\r\n" for s in stories)
        return f"BEGIN:VCALENDAR\r\n{events}END:VCALENDAR\r\n".encode()

    async def add_feed(self, url: str) -> FeedInfo:
        await self._record("add_feed", url)
        if any(feed.url == url for feed in self.feeds.values()):
            raise InvalidInput("That feed is already watched.")
        feed = make_feed(max(self.feeds, default=0) + 1, url=url, title="Added feed")
        self.feeds[feed.id] = feed
        return feed

    async def remove_feed(self, feed_id: int) -> FeedInfo:
        await self._record("remove_feed", feed_id)
        if feed_id not in self.feeds:
            raise NotFound(f"There is no feed #{feed_id}.")
        return self.feeds.pop(feed_id)

    async def list_feeds(self) -> list[FeedInfo]:
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

    async def suggest_stories(self, prefix: str, limit: int = 25) -> list[tuple[int, str]]:
        await self._record("suggest_stories", prefix, limit)
        return [(s.id, s.title) for s in self.stories if prefix.lower() in s.title.lower()][:limit]

    async def suggest_feeds(self, prefix: str, limit: int = 25) -> list[tuple[int, str]]:
        await self._record("suggest_feeds", prefix, limit)
        return [(f.id, f.title or f.url) for f in self.feeds.values()][:limit]


def fails(error: NewsbotError | Exception) -> FakeNewsDesk:
    """A desk whose every call raises ``error``."""
    return FakeNewsDesk(fail_with=error)
