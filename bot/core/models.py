"""Platform-neutral domain records passed between ingest, storage and sinks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators kept per feed for conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One entry of a feed, normalised; ``key`` is stable across polls (guid -> link -> hash)."""

    key: str
    link: str | None
    title: str
    summary: str
    published: datetime | None
    guid: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed; ``warning`` holds the bozo message when entries were still recovered."""

    title: str | None
    link: str | None
    items: tuple[ParsedItem, ...]
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """A feed as the rest of the app sees it; ``owners`` as in bot.core.tenancy."""

    id: int
    url: str
    title: str | None
    consecutive_failures: int = 0
    last_error: str | None = None
    disabled_reason: str | None = None
    next_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    interval_seconds: int | None = None
    validators: Validators = Validators()
    # The URL the feed was added with; item keys resolve relative GUIDs against it.
    identity: str | None = None
    owners: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item seen for the first time; ``pending`` when it still has to be announced.

    ``analysis`` is the summit extractor's JSON object (see ``newsbot extract --json``).
    """

    id: int
    feed_id: int
    feed_title: str | None
    feed_url: str
    link: str | None
    title: str
    summary: str
    published: datetime | None
    first_seen: datetime
    pending: bool = True
    analysis: dict[str, Any] | None = None

    @property
    def is_summit(self) -> bool:
        """True when the extractor judged this item a summit story."""
        return bool(self.analysis and self.analysis.get("is_summit"))
