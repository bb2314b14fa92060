"""A fake chat platform that de-duplicates by delivery key, as Discord does by nonce."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from bot.core.errors import DeliveryError
from bot.core.ports import HeldOutput
from bot.core.stories import Destination, Digest, StoryEvent


class Crash(BaseException):
    """The process dying between the platform's answer and our commit."""


@dataclass(frozen=True)
class Posted:
    """A message visible in a channel."""

    channel: str
    key: str
    kind: str
    title: str
    changes: tuple[str, ...] = ()
    stories: tuple[int, ...] = ()


@dataclass
class FakeChat:
    """A Notifier recording every request; errors are queued per channel."""

    platform: str = "discord"
    held: bool = False  # like the terminal: posts wait until the outbox lets them out
    in_flight: timedelta = timedelta(seconds=35)
    ready_calls: int = 0
    messages: list[Posted] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    errors: dict[str, list[Exception]] = field(default_factory=lambda: defaultdict(list))
    gone: dict[str, Exception] = field(default_factory=dict)
    admin_notices: list[tuple[str, str]] = field(default_factory=list)
    crash_after_post: bool = False
    by_key: dict[str, str] = field(default_factory=dict)
    hang: dict[str, float] = field(default_factory=dict)  # channel → seconds a post hangs
    gate: asyncio.Event | None = None  # when set, ready() waits for it (a login)
    sinces: list[tuple[str, datetime | None]] = field(default_factory=list)
    _waiting: ContextVar[list[Callable[[], str]] | None] = field(
        default_factory=lambda: ContextVar("waiting", default=None)
    )

    @property
    def held_output(self) -> HeldOutput | None:
        return self if self.held else None

    @contextmanager
    def holding(self) -> Iterator[Callable[[], None]]:
        waiting: list[Callable[[], str]] = []
        token = self._waiting.set(waiting)

        def release() -> None:
            for post in waiting:
                post()

        try:
            yield release
        finally:
            self._waiting.reset(token)

    def channel(self, channel: str) -> list[Posted]:
        """Messages visible in one channel."""
        return [message for message in self.messages if message.channel == channel]

    async def ready(self) -> None:
        self.ready_calls += 1
        if self.gate is not None:
            await self.gate.wait()

    async def send_alert(
        self, destination: Destination, event: StoryEvent, key: str, since: datetime | None = None
    ) -> str:
        changes = tuple(f"{c.field}:{c.old}->{c.new}" for c in event.changes)
        posted = Posted(destination.channel_id, key, event.kind, event.story.title, changes)
        return await self._send(destination, posted, since)

    async def send_digest(
        self, destination: Destination, digest: Digest, key: str, since: datetime | None = None
    ) -> str:
        ids = tuple(story.id for story in digest.stories)
        posted = Posted(destination.channel_id, key, "digest", digest.title, stories=ids)
        return await self._send(destination, posted, since)

    async def notify_admins(self, destination: Destination, reason: str) -> None:
        self.admin_notices.append((destination.channel_id, reason))

    async def _send(self, destination: Destination, posted: Posted, since: datetime | None) -> str:
        self.sinces.append((posted.key, since))
        hang = self.hang.get(destination.channel_id)
        if hang:
            await asyncio.sleep(hang)
            self.requests.append((destination.channel_id, posted.key))
            raise DeliveryError("the platform did not answer in time")
        waiting = self._waiting.get()
        if waiting is not None:
            waiting.append(partial(self._post, destination, posted))
            return f"held:{posted.key}"
        return self._post(destination, posted)

    def _post(self, destination: Destination, posted: Posted) -> str:
        self.requests.append((destination.channel_id, posted.key))
        if destination.channel_id in self.gone:
            raise self.gone[destination.channel_id]
        queue = self.errors.get(destination.channel_id)
        if queue:
            raise queue.pop(0)
        if posted.key in self.by_key:  # Discord: same nonce → the existing message
            return self.by_key[posted.key]
        self.messages.append(posted)
        message_id = f"m{len(self.messages)}"
        self.by_key[posted.key] = message_id
        if self.crash_after_post:
            self.crash_after_post = False
            raise Crash
        return message_id
