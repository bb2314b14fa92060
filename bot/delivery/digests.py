"""Scheduled digests: due per subscription by its cron schedule in its IANA time zone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.tenancy import readers_of
from bot.delivery.records import DueDigest, digest_key
from bot.ingest.schedule import next_fire
from bot.storage.newsdesk import OutboxRepository, StoryRepository, SubscriptionRepository
from bot.stories.digest import build_digest, digest_title

log = logging.getLogger(__name__)

NextFire = Callable[[str, str, datetime], datetime]
DEFAULT_SCHEDULE = "0 8 * * *"


class DigestScheduler:
    """Queues each due digest once: the key is (destination, scheduled time), and the row and
    the subscription's next time are written in one transaction, so a restart never doubles it.

    After downtime only the latest missed time is sent (several missed digests coalesce), and
    a digest with no stories is skipped rather than posted empty.
    """

    def __init__(
        self,
        subscriptions: SubscriptionRepository,
        outbox: OutboxRepository,
        stories: StoryRepository,
        *,
        clock: Callable[[], datetime],
        fire: NextFire = next_fire,
        lookback: timedelta = timedelta(days=1),
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._subscriptions = subscriptions
        self._outbox = outbox
        self._stories = stories
        self._clock = clock
        self._fire = fire
        self._lookback = lookback
        self._on_queued = on_queued

    async def enqueue_due(self) -> int:
        """Queue every digest whose time has come; returns how many rows were queued."""
        now = self._clock()
        queued = 0
        for due in await self._subscriptions.due_digests(now):
            try:
                queued += await self._enqueue(due, now)
            except Exception:
                log.exception("digest for %s failed", due.subscription.destination)
        if queued and self._on_queued is not None:
            self._on_queued()
        return queued

    async def _enqueue(self, due: DueDigest, now: datetime) -> int:
        subscription = due.subscription
        schedule = subscription.schedule or DEFAULT_SCHEDULE
        scheduled = due.scheduled_at
        following = self._fire(schedule, subscription.timezone, scheduled)
        while following <= now:
            scheduled, following = following, self._fire(schedule, subscription.timezone, following)
        since = due.since or due.scheduled_at - self._lookback
        readers = readers_of(subscription.destination)
        stories = await self._stories.recent(since, readers=readers)
        digest = build_digest(
            stories,
            subscription.filters,
            now,
            title=digest_title(scheduled, subscription.timezone),
        )
        destination = subscription.destination
        added = await self._outbox.enqueue_digest(
            destination,
            digest_key(destination, scheduled),
            digest if digest.stories else None,
            now,
            scheduled_at=scheduled,
            next_digest_at=following,
        )
        log.info(
            "digest for %s at %s: %d stor(ies)%s",
            destination,
            scheduled.isoformat(),
            len(digest.stories),
            "" if added else " (not queued)",
        )
        return int(added)
