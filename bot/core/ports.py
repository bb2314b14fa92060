"""Protocols the core depends on; ingest, storage and platforms implement them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.models import FeedInfo, NewItem, ParsedFeed, Validators
from bot.core.stories import (
    Destination,
    Digest,
    Filters,
    Mode,
    Story,
    StoryEvent,
    Subscription,
)


class FetchedFeed(Protocol):
    """What the poller needs from a fetch result."""

    @property
    def status(self) -> int: ...
    @property
    def body(self) -> bytes: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def final_url(self) -> str: ...
    @property
    def validators(self) -> Validators: ...
    @property
    def permanent_url(self) -> str | None: ...


class FeedFetcher(Protocol):
    """Fetches a feed politely and safely; raises FetchError subclasses."""

    async def fetch(self, url: str, validators: Validators | None = None) -> FetchedFeed: ...


class FeedParser(Protocol):
    """Turns fetched bytes into a ParsedFeed off the event loop; raises FeedParseError."""

    async def parse(self, body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed: ...


class Sink(Protocol):
    """Where announcements go: the terminal, Discord, Slack."""

    async def publish(self, items: Sequence[NewItem]) -> None: ...

    async def feed_disabled(self, feed: FeedInfo) -> None: ...


class HeldOutput(Protocol):
    """Output that cannot be read back (the terminal), whose writes can be held.

    Inside ``holding()`` the current task's writes are kept, not written; the callable it
    yields writes them all at once. The caller runs that callable at the instant the
    matching record commits (``bot.storage.db.record_then_write``), so nothing slow (no
    rendering, no event-loop turn) sits between the two and a kill can neither lose nor
    repeat the output.
    """

    def holding(self) -> AbstractContextManager[Callable[[], None]]: ...


class ItemPrinter(Sink, HeldOutput, Protocol):
    """The terminal's printer of ordinary items (``--show-all``)."""


class ItemAnalyzer(Protocol):
    """Judges items (summit or not, with facts) off the event loop; one JSON object per item."""

    async def analyse(self, items: Sequence[NewItem]) -> list[dict[str, Any]]: ...


class Notifier(Protocol):
    """A chat platform's way to post; raises RateLimited, DestinationGone or DeliveryError.

    ``key`` is the outbox row's deterministic delivery key, carried by the post as a marker
    (Discord's ``nonce`` and embed footer, Slack's message metadata). ``since`` is set when an
    earlier attempt may have reached the platform: the notifier then looks for its marker in
    the channel back to ``since`` and returns that message instead of posting again.
    ``held_output`` is set for output that cannot be read back (the terminal): the outbox
    holds what the notifier writes and lets it out as the row's record as sent commits, so a
    crash neither repeats nor loses it.
    ``in_flight`` is how long after it was sent a post may still land: a row a crash left
    unanswered is looked for in the channel only after that, while later rows go ahead.
    """

    platform: str
    in_flight: timedelta

    @property
    def held_output(self) -> HeldOutput | None: ...

    async def ready(self) -> None:
        """Return once the platform can take posts (logged in); raise DeliveryError if not."""
        ...

    async def send_alert(
        self, destination: Destination, event: StoryEvent, key: str, since: datetime | None = None
    ) -> str: ...

    async def send_digest(
        self, destination: Destination, digest: Digest, key: str, since: datetime | None = None
    ) -> str: ...

    async def notify_admins(self, destination: Destination, reason: str) -> None: ...


class NewsDesk(Protocol):
    """The use cases every chat platform's commands call; platform code never touches storage.

    Everything is asked for with the channel the command came from: the desk keeps each
    server's and workspace's settings its own, and shows it stories only through its own
    feeds' reports (bot.core.tenancy).
    """

    async def latest(self, destination: Destination, count: int) -> list[Story]: ...

    async def search(
        self, destination: Destination, query: str, limit: int = 10
    ) -> list[Story]: ...

    async def story(self, destination: Destination, story_id: int) -> Story: ...

    async def upcoming(self, destination: Destination) -> list[Story]: ...

    def calendar(self, stories: Sequence[Story]) -> bytes: ...

    async def add_feed(self, destination: Destination, url: str) -> FeedInfo: ...

    async def remove_feed(self, destination: Destination, feed_id: int) -> FeedInfo: ...

    async def list_feeds(self, destination: Destination) -> list[FeedInfo]: ...

    async def subscribe(
        self,
        destination: Destination,
        mode: Mode,
        schedule: str | None = None,
        timezone: str = "UTC",
        filters: Filters | None = None,
    ) -> Subscription: ...

    async def unsubscribe(self, destination: Destination) -> None: ...

    async def subscription(self, destination: Destination) -> Subscription | None: ...

    async def digest_now(self, destination: Destination) -> Digest: ...

    async def watch(self, destination: Destination, term: str) -> list[str]: ...

    async def unwatch(self, destination: Destination, term: str) -> list[str]: ...

    async def watches(self, destination: Destination) -> list[str]: ...

    async def suggest_stories(
        self, destination: Destination, prefix: str, limit: int = 25
    ) -> list[tuple[int, str]]: ...

    async def suggest_feeds(
        self, destination: Destination, prefix: str, limit: int = 25
    ) -> list[tuple[int, str]]: ...
