"""Hand-written fakes implementing the core Protocols (no MagicMock chains)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.errors import FetchError
from bot.core.models import FeedInfo, NewItem, ParsedFeed, ParsedItem, Validators


@dataclass(frozen=True)
class Fetched:
    """A FetchedFeed value."""

    status: int
    body: bytes
    headers: Mapping[str, str]
    final_url: str
    validators: Validators
    permanent_url: str | None = None


Answer = Callable[[str, Validators | None], Fetched]


class FakeFetcher:
    """Answers per URL with a function, an exception or a fixed feed; records every call."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer | FetchError] = {}
        self.calls: list[tuple[str, Validators | None]] = []
        self.delays: dict[str, float] = {}

    def serve(self, url: str, items: Sequence[ParsedItem], etag: str = '"v1"') -> None:
        """Serve a feed with conditional GET on its ETag."""
        feeds[url] = ParsedFeed(title=f"feed {url}", link=None, items=tuple(items))

        def answer(requested: str, validators: Validators | None) -> Fetched:
            if validators is not None and validators.etag == etag:
                return Fetched(304, b"", {}, requested, Validators(etag=etag))
            return Fetched(200, url.encode(), {}, requested, Validators(etag=etag))

        self.answers[url] = answer

    async def fetch(self, url: str, validators: Validators | None = None) -> Fetched:
        self.calls.append((url, validators))
        if url in self.delays:
            await asyncio.sleep(self.delays[url])
        answer = self.answers[url]
        if isinstance(answer, FetchError):
            raise answer
        return answer(url, validators)


feeds: dict[str, ParsedFeed] = {}


class FakeParser:
    """Returns the ParsedFeed registered for the fetched URL."""

    async def parse(self, body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
        return feeds[body.decode()]


@dataclass
class RecordingSink:
    """Keeps what would have been announced."""

    published: list[NewItem] = field(default_factory=list)
    disabled: list[FeedInfo] = field(default_factory=list)

    async def publish(self, items: Sequence[NewItem]) -> None:
        self.published.extend(items)

    async def feed_disabled(self, feed: FeedInfo) -> None:
        self.disabled.append(feed)


@dataclass
class RecordingPrinter(RecordingSink):
    """An ItemPrinter like the terminal's: inside ``holding`` what it publishes is kept until
    the caller lets it out."""

    _waiting: ContextVar[list[NewItem] | None] = field(
        default_factory=lambda: ContextVar("waiting", default=None)
    )

    async def publish(self, items: Sequence[NewItem]) -> None:
        waiting = self._waiting.get()
        if waiting is None:
            self.published.extend(items)
        else:
            waiting.extend(items)

    @contextmanager
    def holding(self) -> Iterator[Callable[[], None]]:
        waiting: list[NewItem] = []
        token = self._waiting.set(waiting)
        try:
            yield lambda: self.published.extend(waiting)
        finally:
            self._waiting.reset(token)


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def items(*keys: str) -> list[ParsedItem]:
    """Parsed items with guid keys and links derived from them."""
    return [
        ParsedItem(
            key=f"guid:{k}", link=f"https://n.example/{k}", title=k, summary="", published=None
        )
        for k in keys
    ]
