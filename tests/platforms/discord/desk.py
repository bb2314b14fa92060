"""A hand-written NewsDesk for command tests, and story factories (plain, hostile, huge)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from bot.core.models import FeedInfo
from bot.core.stories import (
    FactChange,
    Participant,
    Quote,
    Source,
    Story,
    StoryFacts,
)
from tests.desk import FakeNewsDesk as SharedFakeNewsDesk

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
class FakeNewsDesk(SharedFakeNewsDesk):
    """The shared fake desk, stocked with this platform's stories and one feed."""

    stories: list[Story] = field(default_factory=lambda: [make_story(1), make_story(2)])
    feeds: dict[int, FeedInfo] = field(default_factory=lambda: {1: make_feed(1)})
