"""A fake chat platform that de-duplicates by delivery key, as Discord does by nonce."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

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
    record_first: bool = False
    ready_calls: int = 0
    messages: list[Posted] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    errors: dict[str, list[Exception]] = field(default_factory=lambda: defaultdict(list))
    gone: dict[str, Exception] = field(default_factory=dict)
    admin_notices: list[tuple[str, str]] = field(default_factory=list)
    crash_after_post: bool = False
    by_key: dict[str, str] = field(default_factory=dict)

    def channel(self, channel: str) -> list[Posted]:
        """Messages visible in one channel."""
        return [message for message in self.messages if message.channel == channel]

    async def ready(self) -> None:
        self.ready_calls += 1

    async def send_alert(
        self, destination: Destination, event: StoryEvent, key: str, since: datetime | None = None
    ) -> str:
        changes = tuple(f"{c.field}:{c.old}->{c.new}" for c in event.changes)
        posted = Posted(destination.channel_id, key, event.kind, event.story.title, changes)
        return self._post(destination, posted)

    async def send_digest(
        self, destination: Destination, digest: Digest, key: str, since: datetime | None = None
    ) -> str:
        ids = tuple(story.id for story in digest.stories)
        posted = Posted(destination.channel_id, key, "digest", digest.title, stories=ids)
        return self._post(destination, posted)

    async def notify_admins(self, destination: Destination, reason: str) -> None:
        self.admin_notices.append((destination.channel_id, reason))

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
