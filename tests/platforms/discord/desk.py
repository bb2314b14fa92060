"""A hand-written NewsDesk for command tests, and story factories (plain, hostile, huge)."""

from __future__ import annotations

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

# Everything a hostile feed can put in a title (RELIABILITY C1, C3, C4).
INJECTION = (
    "@everyone @here <@&123456789012345678> <@123456789012345678> "
    "[https://bank.example](https://evil.example) # HUGE -# tiny ||spoiler|| ```code``` "
    "[click](javascript:alert(1))"
)
HOSTILE_LINKS = (
    "javascript:alert(1)",
    "data:,x",
    "",
    "http://intranet/",
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
            Source(1, "Leaders to meet in Geneva", "https://www.reuters.com/a", "Reuters", NOW),
            Source(2, "Geneva summit set", "https://apnews.com/b", "AP", NOW),
        ),
        first_seen=NOW,
        updated_at=NOW,
        changes=(FactChange(NOW, "venue", None, "Villa La Grange"),),
        quotes=(Quote("Joe Biden", "We will talk."),),
    )
    return replace(story, **overrides)


def hostile_story(story_id: int = 666) -> Story:
    """Injection in every text field, and only links Discord would refuse."""
    facts = StoryFacts(
        participants=(Participant(INJECTION, INJECTION, INJECTION),),
        city=INJECTION,
        country=INJECTION,
        venue=INJECTION,
        start_date=date(2026, 12, 1),
        status="postponed",
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
    """Every field far over Discord's limits (C5)."""
    big = "Summit " * 2000
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
            status="ongoing",
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
    """Implements bot.core.ports.NewsDesk in memory; records every call."""

    stories: list[Story] = field(default_factory=lambda: [make_story(1), make_story(2)])
    feeds: dict[int, FeedInfo] = field(default_factory=lambda: {1: make_feed(1)})
    subscriptions: dict[Destination, Subscription] = field(default_factory=dict)
    watched: dict[Destination, list[str]] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    fail_with: NewsbotError | Exception | None = None

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if self.fail_with is not None:
            raise self.fail_with

    def called(self, name: str) -> list[tuple[Any, ...]]:
        """The arguments of every call to ``name``."""
        return [args for called, args in self.calls if called == name]

    async def latest(self, count: int) -> list[Story]:
        self._record("latest", count)
        return self.stories[:count]

    async def search(self, query: str, limit: int = 10) -> list[Story]:
        self._record("search", query, limit)
        words = query.lower().split()
        found = [s for s in self.stories if all(w in (s.title + s.summary).lower() for w in words)]
        return found[:limit]

    async def story(self, story_id: int) -> Story:
        self._record("story", story_id)
        for story in self.stories:
            if story.id == story_id:
                return story
        raise NotFound(f"There is no story #{story_id}.")

    async def upcoming(self) -> list[Story]:
        self._record("upcoming")
        return [s for s in self.stories if s.facts.status == "upcoming"]

    def calendar(self, stories: Sequence[Story]) -> bytes:
        self.calls.append(("calendar", (len(stories),)))
        events = "".join(f"BEGIN:VEVENT\r\nUID:story-{s.id}\r\nEND:VEVENT\r\n" for s in stories)
        return f"BEGIN:VCALENDAR\r\n{events}END:VCALENDAR\r\n".encode()

    async def add_feed(self, url: str) -> FeedInfo:
        self._record("add_feed", url)
        if any(feed.url == url for feed in self.feeds.values()):
            raise InvalidInput("That feed is already watched.")
        feed = make_feed(max(self.feeds, default=0) + 1, url=url, title="Added feed")
        self.feeds[feed.id] = feed
        return feed

    async def remove_feed(self, feed_id: int) -> FeedInfo:
        self._record("remove_feed", feed_id)
        if feed_id not in self.feeds:
            raise NotFound(f"There is no feed #{feed_id}.")
        return self.feeds.pop(feed_id)

    async def list_feeds(self) -> list[FeedInfo]:
        self._record("list_feeds")
        return list(self.feeds.values())

    async def subscribe(
        self,
        destination: Destination,
        mode: Mode,
        schedule: str | None = None,
        timezone: str = "UTC",
        filters: Filters | None = None,
    ) -> Subscription:
        self._record("subscribe", destination, mode, schedule, timezone, filters)
        subscription = Subscription(destination, mode, schedule, timezone, filters or Filters())
        self.subscriptions[destination] = subscription
        return subscription

    async def unsubscribe(self, destination: Destination) -> None:
        self._record("unsubscribe", destination)
        self.subscriptions.pop(destination, None)

    async def subscription(self, destination: Destination) -> Subscription | None:
        self._record("subscription", destination)
        return self.subscriptions.get(destination)

    async def digest_now(self, destination: Destination) -> Digest:
        self._record("digest_now", destination)
        return Digest("Summit digest", tuple(self.stories), NOW)

    async def watch(self, destination: Destination, term: str) -> list[str]:
        self._record("watch", destination, term)
        terms = self.watched.setdefault(destination, [])
        if term not in terms:
            terms.append(term)
        return list(terms)

    async def unwatch(self, destination: Destination, term: str) -> list[str]:
        self._record("unwatch", destination, term)
        terms = self.watched.setdefault(destination, [])
        if term not in terms:
            raise NotFound(f"“{term}” is not watched here.")
        terms.remove(term)
        return list(terms)

    async def watches(self, destination: Destination) -> list[str]:
        self._record("watches", destination)
        return list(self.watched.get(destination, []))

    async def suggest_stories(self, prefix: str, limit: int = 25) -> list[tuple[int, str]]:
        self._record("suggest_stories", prefix, limit)
        return [(s.id, s.title) for s in self.stories if prefix.lower() in s.title.lower()][:limit]

    async def suggest_feeds(self, prefix: str, limit: int = 25) -> list[tuple[int, str]]:
        self._record("suggest_feeds", prefix, limit)
        return [
            (f.id, f.title or f.url)
            for f in self.feeds.values()
            if prefix.lower() in (f.title or f.url).lower()
        ][:limit]
