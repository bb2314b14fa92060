"""Platform-neutral records for stories, subscriptions and digests (what adapters render)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

# "ended" is never extracted: a story reads so once its dates have passed with no report of
# how it went (see bot.stories.facts.aged).
Status = Literal["upcoming", "ongoing", "concluded", "cancelled", "postponed", "ended"]
Mode = Literal["alerts", "digest", "both"]
EventKind = Literal["new", "update"]


@dataclass(frozen=True, slots=True)
class Participant:
    """A leader who takes part in a summit."""

    name: str
    title: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class StoryFacts:
    """The current key facts of a story, merged across its sources."""

    participants: tuple[Participant, ...] = ()
    city: str | None = None
    country: str | None = None
    venue: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    status: Status | None = None
    agenda: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Source:
    """One outlet's report that belongs to a story."""

    item_id: int
    title: str
    link: str | None
    outlet: str | None
    published: datetime | None


_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid|ocid|smid|at_\w+)$")


def article_key(source: Source) -> str:
    """What makes two sources one article: the link without scheme, ``www.``, default port,
    trailing slash, fragment and tracking parameters; else outlet, title and day."""
    if source.link:
        parts = urlsplit(source.link.strip())
        host = (parts.hostname or "").removeprefix("www.")
        port = "" if parts.port in (None, 80, 443) else f":{parts.port}"
        query = urlencode(
            sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k.lower()))
        )
        return f"{host}{port}{parts.path.rstrip('/')}?{query}"
    day = source.published.date().isoformat() if source.published else ""
    return f"{(source.outlet or '').casefold()}|{source.title.casefold().strip()}|{day}"


def distinct_sources(sources: Iterable[Source]) -> tuple[Source, ...]:
    """One source per article (the first seen): a feed added twice never doubles the count."""
    seen: dict[str, Source] = {}
    for source in sources:
        seen.setdefault(article_key(source), source)
    return tuple(seen.values())


@dataclass(frozen=True, slots=True)
class FactChange:
    """A key fact that changed: venue announced, dates moved, cancelled, concluded…"""

    at: datetime
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class Quote:
    """A direct quote and who said it."""

    speaker: str
    text: str


@dataclass(frozen=True, slots=True)
class Story:
    """Reports of one summit from one or more outlets, with its facts and their history."""

    id: int
    title: str
    summary: str
    facts: StoryFacts
    score: float
    reasons: tuple[str, ...]
    sources: tuple[Source, ...]
    first_seen: datetime
    updated_at: datetime
    changes: tuple[FactChange, ...] = ()
    quotes: tuple[Quote, ...] = ()

    @property
    def best_link(self) -> str | None:
        """The link of the first source that has one (the report that opened the story)."""
        return next((source.link for source in self.sources if source.link), None)


@dataclass(frozen=True, slots=True)
class StoryEvent:
    """Something worth an alert: a new story, or key facts of a story that changed."""

    kind: EventKind
    story: Story
    changes: tuple[FactChange, ...] = ()
    item_ids: tuple[int, ...] | None = None  # the reports that caused it; None: all


@dataclass(frozen=True, slots=True)
class Destination:
    """A chat channel newsbot posts to; ``platform`` is e.g. "discord", "slack", "console"."""

    platform: str
    channel_id: str
    workspace_id: str | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """A concise list of stories for a destination, rendered the same on every platform."""

    title: str
    stories: tuple[Story, ...]
    generated_at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Filters:
    """Optional narrowing of a subscription; empty means everything."""

    participants: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    min_score: float = 0.0


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel's alert and digest settings."""

    destination: Destination
    mode: Mode
    schedule: str | None = None
    timezone: str = "UTC"
    filters: Filters = field(default_factory=Filters)
    disabled_reason: str | None = None
