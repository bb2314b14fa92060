"""The sender side of the outbox (RELIABILITY §3.5, D1-D5): claim, send, record, retry.

Each row is claimed (``pending → sending``, attempt counted) in one transaction, sent through
its platform's Notifier with the row's deterministic key, and marked ``sent`` with the
platform's message id in a second one. A crash in between leaves the row in ``sending``;
``recover`` re-sends those rows with the same key before anything new is sent, so Discord's
nonce de-duplication returns the message it already has instead of posting a second one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.errors import DeliveryError, DestinationGone, RateLimited
from bot.core.ports import Notifier
from bot.delivery.records import OutboxEntry
from bot.ops import metrics
from bot.storage.outbox import OutboxRepository

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class OutboxPolicy:
    """Retry, expiry, pacing and concurrency of delivery."""

    batch: int = 200
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_max: timedelta = timedelta(hours=1)
    # A message still failing this long after it was queued is dropped as stale ("expired").
    max_age: timedelta = timedelta(hours=12)
    concurrency: int = 8
    # Minimum gap between two posts to one channel, per platform (Slack: about 1 message/s).
    pace: Mapping[str, timedelta] = field(default_factory=dict)
    # Discord de-duplicates a nonce only "in the past few minutes": older re-sends may double.
    dedupe_window: timedelta = timedelta(minutes=5)

    def backoff(self, attempts: int) -> timedelta:
        """Exponential backoff after ``attempts`` failed tries, capped."""
        return min(self.backoff_base * (1 << min(max(attempts - 1, 0), 20)), self.backoff_max)


@dataclass(slots=True)
class DeliveryReport:
    """What one pass did, per outcome ("sent", "retry", "rate_limited", "failed", …)."""

    outcomes: Counter[str] = field(default_factory=Counter)

    def __getitem__(self, outcome: str) -> int:
        return self.outcomes[outcome]


class Outbox:
    """Sends due outbox rows; one destination's trouble never holds up another."""

    def __init__(
        self,
        repository: OutboxRepository,
        notifiers: Sequence[Notifier],
        *,
        clock: Callable[[], datetime],
        policy: OutboxPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._repository = repository
        self._notifiers = {notifier.platform: notifier for notifier in notifiers}
        self._clock = clock
        self._policy = policy or OutboxPolicy()
        self._sleep = sleep
        self._slots = asyncio.Semaphore(self._policy.concurrency)

    @property
    def platforms(self) -> list[str]:
        """The platforms this process can deliver to; other rows wait for their platform."""
        return sorted(self._notifiers)

    async def recover(self) -> DeliveryReport:
        """Re-send rows a crash left in ``sending``, with their original keys (run first)."""
        report = DeliveryReport()
        entries = await self._repository.in_flight(self.platforms)
        now = self._clock()
        for entry in entries:
            claimed = entry.claimed_at or entry.created_at
            if now - claimed > self._policy.dedupe_window:
                log.warning(
                    "re-sending outbox row %s to %s claimed at %s, outside the platform's "
                    "de-duplication window: a duplicate post is possible",
                    entry.key,
                    entry.destination,
                    claimed.isoformat(),
                )
        await self._run(entries, report, again=True)
        return report

    async def deliver_due(self) -> DeliveryReport:
        """Send every due row: destinations in parallel, each destination's rows in order."""
        report = DeliveryReport()
        entries = await self._repository.due(self._clock(), self.platforms, self._policy.batch)
        await self._run(entries, report, again=False)
        return report

    async def next_due(self) -> datetime | None:
        """When the earliest pending row becomes due, for the loop's sleep."""
        return await self._repository.next_due(self.platforms)

    async def _run(
        self, entries: Sequence[OutboxEntry], report: DeliveryReport, again: bool
    ) -> None:
        by_destination: dict[int, list[OutboxEntry]] = {}
        for entry in entries:
            by_destination.setdefault(entry.destination_id, []).append(entry)
        await asyncio.gather(
            *(self._destination(rows, report, again) for rows in by_destination.values())
        )

    async def _destination(
        self, entries: Sequence[OutboxEntry], report: DeliveryReport, again: bool
    ) -> None:
        """Rows of one destination in order; stop at the first that must wait."""
        pace = self._policy.pace.get(entries[0].destination.platform)
        async with self._slots:
            for index, entry in enumerate(entries):
                if index and pace:
                    await self._sleep(pace.total_seconds())
                outcome = await self._deliver(entry, again)
                metrics.delivery(entry.destination.platform, outcome)
                report.outcomes[outcome] += 1
                if outcome not in ("sent", "skipped", "expired", "gone_story"):
                    break

    async def _deliver(self, entry: OutboxEntry, again: bool) -> str:
        repository = self._repository
        if not await repository.claim(entry.id, self._clock(), again=again):
            return "skipped"
        attempts = entry.attempts + 1
        loaded = await repository.content(entry)
        if loaded is None:
            await repository.finish(entry.id, "failed", "the story no longer exists")
            return "gone_story"
        notifier = self._notifiers[entry.destination.platform]
        try:
            if loaded.event is not None:
                message_id = await notifier.send_alert(entry.destination, loaded.event, entry.key)
            else:
                assert loaded.digest is not None
                message_id = await notifier.send_digest(entry.destination, loaded.digest, entry.key)
        except RateLimited as exc:
            return await self._rate_limited(entry, exc)
        except DestinationGone as exc:
            return await self._gone(entry, exc)
        except DeliveryError as exc:
            return await self._transient(entry, attempts, str(exc))
        except Exception as exc:
            log.exception("notifier %s crashed on outbox row %s", notifier.platform, entry.key)
            return await self._transient(entry, attempts, f"internal error: {exc!r}")
        await repository.mark_sent(entry.id, message_id, self._clock())
        return "sent"

    async def _rate_limited(self, entry: OutboxEntry, exc: RateLimited) -> str:
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else self._policy.backoff_base
        until = self._clock() + wait
        log.warning("%s rate-limited; retrying after %s", entry.destination, wait)
        await self._repository.retry(entry.id, until, str(exc))
        await self._repository.hold_destination(entry.destination_id, until)
        return "rate_limited"

    async def _gone(self, entry: OutboxEntry, exc: DestinationGone) -> str:
        reason = str(exc) or "the channel is gone or newsbot lost access to it"
        await self._repository.finish(entry.id, "failed", reason)
        if await self._repository.disable_destination(entry.destination_id, reason, self._clock()):
            log.error("destination %s disabled: %s", entry.destination, reason)
            try:
                await self._notifiers[entry.destination.platform].notify_admins(
                    entry.destination, reason
                )
            except Exception:
                log.exception("could not tell the admins of %s", entry.destination)
        return "gone"

    async def _transient(self, entry: OutboxEntry, attempts: int, error: str) -> str:
        now = self._clock()
        if now - entry.created_at >= self._policy.max_age:
            log.error("outbox row %s to %s expired: %s", entry.key, entry.destination, error)
            await self._repository.finish(entry.id, "expired", error)
            return "expired"
        until = now + self._policy.backoff(attempts)
        log.warning(
            "delivery to %s failed (attempt %d), retrying at %s: %s",
            entry.destination,
            attempts,
            until.isoformat(),
            error,
        )
        await self._repository.retry(entry.id, until, error)
        await self._repository.hold_destination(entry.destination_id, until)
        return "retry"
