"""Platform-neutral records for stories, subscriptions and digests (what adapters render)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

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
