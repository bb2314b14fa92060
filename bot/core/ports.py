"""Protocols the core depends on; ingest, storage and platforms implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bot.core.models import FeedInfo, NewItem, ParsedFeed, Validators


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


class ItemAnalyzer(Protocol):
    """Judges items (summit or not, with facts) off the event loop; one JSON object per item."""

    async def analyse(self, items: Sequence[NewItem]) -> list[dict[str, Any]]: ...
