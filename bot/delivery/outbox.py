"""The sender side of the outbox (RELIABILITY §3.5, D1-D5): one lane per destination.

Each destination (channel) has a lane that sends its rows strictly in order, one at a time,
with its platform's pacing. A hang, a 429 or a Retry-After holds the lane's head row, and so
every row behind it, rows queued later included, but never another lane. A lane sends only
once its platform is ready (Discord's gateway READY, Slack's ``auth.test``), so rows a crash
left in ``sending`` are reconciled after login, never before it.

Each row is claimed (``sending``, attempt counted) in one transaction, sent through its
platform's Notifier with the row's deterministic key, and marked ``sent`` with the platform's
message id in a second one. A row attempted before (a crash or a lost answer in between) is
sent with ``since``: the notifier first looks for the row's own marker in the channel back to
when the row was queued and returns the message it finds instead of posting a second one, so
no de-duplication window bounds the recovery. Output that cannot be read back (the terminal,
``held_output``) is rendered first and written as its record as sent commits
(``record_then_write``): a crash neither repeats nor loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
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
FINISHED = ("sent", "skipped", "expired", "gone_story")


@dataclass(frozen=True, slots=True)
class OutboxPolicy:
    """Retry, expiry and pacing of delivery."""

    backoff_base: timedelta = timedelta(seconds=30)
    backoff_max: timedelta = timedelta(hours=1)
    # A message still failing this long after it was queued is dropped as stale ("expired").
    max_age: timedelta = timedelta(hours=12)
    # Minimum gap between two posts to one channel, per platform (Slack: about 1 message/s).
    pace: Mapping[str, timedelta] = field(default_factory=dict)
    # How long a lane that is waiting (held row, platform not ready) sleeps before looking again.
    recheck: timedelta = timedelta(seconds=5)
    # How long ``deliver_due`` waits for a platform to become ready before leaving its rows.
    ready_timeout: timedelta = timedelta(seconds=60)
    # How long a stopping ``serve`` lets sends in flight finish before cancelling them.
    grace: timedelta = timedelta(seconds=10)

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
    """Sends outbox rows, one lane per destination; one lane's trouble never holds another."""

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
        self._landing = max((n.in_flight for n in notifiers), default=timedelta(0))
        self._clock = clock
        self._policy = policy or OutboxPolicy()
        self._sleep = sleep
        self._ready: dict[str, asyncio.Task[None]] = {}
        self._last_post: dict[int, datetime] = {}
        self._poked: set[int] = set()

    @property
    def platforms(self) -> list[str]:
        """The platforms this process can deliver to; other rows wait for their platform."""
        return sorted(self._notifiers)

    async def deliver_due(self) -> DeliveryReport:
        """Send what is due now, every destination in its own lane, and return.

        A lane stops at a row that must wait (held, backing off) or when its platform is not
        ready within ``ready_timeout``; rows a crash left in ``sending`` go first.
        """
        report = DeliveryReport()
        destinations = await self._repository.lanes(self.platforms)
        await asyncio.gather(*(self._lane(d, report, None) for d in destinations))
        return report

    async def serve(self, stop: asyncio.Event, wake: asyncio.Event, idle: float) -> None:
        """Keep a lane running for every destination with rows to send, until ``stop``.

        ``wake`` says new rows were queued; otherwise destinations are looked up every
        ``idle`` seconds. A stopping serve lets sends in flight finish for ``grace``.
        """
        lanes: dict[int, asyncio.Task[None]] = {}
        report = DeliveryReport()
        try:
            while not stop.is_set():
                wake.clear()
                try:
                    destinations = await self._repository.lanes(self.platforms)
                except Exception:
                    log.exception("could not read the outbox; retrying shortly")
                    destinations = []
                for destination in destinations:
                    lane = lanes.get(destination)
                    if lane is None or lane.done():
                        lanes[destination] = asyncio.create_task(
                            self._lane(destination, report, stop),
                            name=f"newsbot:lane:{destination}",
                        )
                    else:
                        self._poked.add(destination)
                await sleep_until_set(stop, wake, idle)
        finally:
            running = [lane for lane in lanes.values() if not lane.done()]
            if running:
                await asyncio.wait(running, timeout=self._policy.grace.total_seconds())
            for lane in running:
                lane.cancel()
            await asyncio.gather(*lanes.values(), return_exceptions=True)

    async def _lane(
        self, destination_id: int, report: DeliveryReport, stop: asyncio.Event | None
    ) -> None:
        """One destination's rows, oldest first; ``stop`` None means "only what is due now"."""
        recheck = self._policy.recheck.total_seconds()
        while stop is None or not stop.is_set():
            try:
                entry = await self._repository.head(destination_id, self._clock() - self._landing)
                if entry is None or entry.destination.platform not in self._notifiers:
                    if stop is not None and destination_id in self._poked:
                        self._poked.discard(destination_id)
                        continue
                    return
                wait = (self._due(entry) - self._clock()).total_seconds()
                if wait > 0:
                    if stop is None:
                        return
                    await sleep_until_set(stop, None, min(wait, recheck))
                    continue
                if not await self._platform_ready(entry.destination.platform, stop):
                    if stop is None:
                        return
                    await sleep_until_set(stop, None, recheck)
                    continue
                await self._pace(entry)
                outcome = await self._deliver(entry)
            except Exception:
                log.exception("delivery lane of destination %d failed; retrying", destination_id)
                if stop is None:
                    return
                await sleep_until_set(stop, None, recheck)
                continue
            metrics.delivery(entry.destination.platform, outcome)
            report.outcomes[outcome] += 1
            if outcome not in FINISHED and stop is None:
                return

    def _due(self, entry: OutboxEntry) -> datetime:
        """When a row may go: its hold, and for one a crash left in ``sending``, the end of
        the time its post could still land (a look into the channel before then could miss
        it and post the row twice)."""
        if entry.status == "sending" and entry.claimed_at is not None:
            in_flight = self._notifiers[entry.destination.platform].in_flight
            return max(entry.not_before, entry.claimed_at + in_flight)
        return entry.not_before

    async def _platform_ready(self, platform: str, stop: asyncio.Event | None) -> bool:
        """Wait for the platform's login, shared by its lanes; False if it is not ready yet."""
        task = self._ready.get(platform)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = asyncio.ensure_future(self._notifiers[platform].ready())
            self._ready[platform] = task
        if not task.done():
            timeout = None if stop is not None else self._policy.ready_timeout.total_seconds()
            waiters: list[asyncio.Future[object]] = [asyncio.shield(task)]
            if stop is not None:
                waiters.append(asyncio.ensure_future(stop.wait()))
            _, pending = await asyncio.wait(
                waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()
        if not task.done():
            return False
        if task.cancelled():
            return False
        error = task.exception()
        if error is not None:
            log.warning("%s is not ready to post: %s", platform, error)
            return False
        return True

    async def _pace(self, entry: OutboxEntry) -> None:
        pace = self._policy.pace.get(entry.destination.platform)
        last = self._last_post.get(entry.destination_id)
        if pace is not None and last is not None:
            left = (last + pace - self._clock()).total_seconds()
            if left > 0:
                await self._sleep(left)
        self._last_post[entry.destination_id] = self._clock()

    async def _deliver(self, entry: OutboxEntry) -> str:
        repository = self._repository
        notifier = self._notifiers[entry.destination.platform]
        loaded = await repository.content(entry)
        if loaded is None:
            await repository.finish(entry.id, "failed", "the story no longer exists")
            return "gone_story"
        held = notifier.held_output
        if held is not None:
            with held.holding() as release:
                try:
                    await _send(notifier, loaded, None)
                except Exception:
                    log.exception(
                        "could not write outbox row %s to %s", entry.key, notifier.platform
                    )
            recorded = await repository.record_sent(entry.id, entry.key, self._clock(), release)
            return "sent" if recorded else "skipped"
        if not await repository.claim(entry.id, self._clock()):
            return "skipped"
        # Any earlier attempt may have posted: look for the row's marker since it was queued.
        since = entry.created_at if entry.attempts else None
        try:
            message_id = await _send(notifier, loaded, since)
        except RateLimited as exc:
            return await self._rate_limited(entry, exc)
        except DestinationGone as exc:
            return await self._gone(entry, exc)
        except DeliveryError as exc:
            return await self._transient(entry, entry.attempts + 1, str(exc))
        except Exception as exc:
            log.exception("notifier %s crashed on outbox row %s", notifier.platform, entry.key)
            return await self._transient(entry, entry.attempts + 1, f"internal error: {exc!r}")
        await repository.mark_sent(entry.id, message_id, self._clock())
        return "sent"

    async def _rate_limited(self, entry: OutboxEntry, exc: RateLimited) -> str:
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else self._policy.backoff_base
        until = self._clock() + wait
        log.warning("%s rate-limited; holding the channel for %s", entry.destination, wait)
        await self._repository.retry(entry.id, until, str(exc))
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
        return "retry"


async def _send(notifier: Notifier, entry: OutboxEntry, since: datetime | None) -> str:
    if entry.event is not None:
        return await notifier.send_alert(entry.destination, entry.event, entry.key, since)
    assert entry.digest is not None
    return await notifier.send_digest(entry.destination, entry.digest, entry.key, since)


async def sleep_until_set(stop: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
    """Sleep ``seconds`` or until ``stop`` (or ``wake``) is set."""
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
