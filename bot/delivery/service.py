"""The delivery loop that runs beside polling: route events, queue digests, send the outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.core.ports import Notifier
from bot.delivery.digests import DigestScheduler
from bot.delivery.outbox import DeliveryReport, Outbox, OutboxPolicy, sleep_until_set
from bot.delivery.router import Router
from bot.storage.newsdesk import Repositories

log = logging.getLogger(__name__)


class DeliveryService:
    """Owns the order: ``start`` reconciles rows a crash left in flight, then ``run`` loops."""

    def __init__(
        self,
        router: Router,
        digests: DigestScheduler,
        outbox: Outbox,
        *,
        clock: Callable[[], datetime],
        idle: timedelta = timedelta(seconds=5),
    ) -> None:
        self.router = router
        self.digests = digests
        self.outbox = outbox
        self._clock = clock
        self._idle = idle
        self._wake = asyncio.Event()

    @classmethod
    def build(
        cls,
        repositories: Repositories,
        notifiers: Sequence[Notifier],
        *,
        clock: Callable[[], datetime],
        policy: OutboxPolicy | None = None,
        idle: timedelta = timedelta(seconds=5),
    ) -> DeliveryService:
        """Router, digest scheduler and outbox over ``repositories``, waking the loop on news."""
        wake = asyncio.Event()
        router = Router(
            repositories.subscriptions, repositories.outbox, clock=clock, on_routed=wake.set
        )
        digests = DigestScheduler(
            repositories.subscriptions,
            repositories.outbox,
            repositories.stories,
            clock=clock,
            on_queued=wake.set,
        )
        outbox = Outbox(repositories.outbox, notifiers, clock=clock, policy=policy)
        service = cls(router, digests, outbox, clock=clock, idle=idle)
        service._wake = wake
        return service

    async def route(self) -> int:
        """Turn new story events into outbox rows now (the StorySink's ``route``)."""
        queued = await self.router.route_pending()
        if queued:
            self.wake()
        return queued

    def wake(self) -> None:
        """Ask the loop to look at the outbox now (new rows were queued)."""
        self._wake.set()

    async def start(self) -> None:
        """Route events a crash left unrouted (lanes then re-send rows left in ``sending``)."""
        await self.router.route_pending()

    async def tick(self) -> DeliveryReport:
        """One pass: route, queue due digests, send what is due."""
        await self.router.route_pending()
        await self.digests.enqueue_due()
        return await self.outbox.deliver_due()

    async def run(self, stop: asyncio.Event) -> None:
        """Route and queue digests in a loop while the outbox's lanes send, until ``stop``."""
        lanes_wake = asyncio.Event()
        lanes = asyncio.create_task(
            self.outbox.serve(stop, lanes_wake, self._idle.total_seconds()),
            name="newsbot:outbox",
        )
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self.router.route_pending()
                    await self.digests.enqueue_due()
                except Exception:
                    log.exception("delivery pass failed; retrying shortly")
                lanes_wake.set()
                await sleep_until_set(stop, self._wake, self._idle.total_seconds())
        finally:
            if not stop.is_set():
                lanes.cancel()
            await asyncio.gather(lanes, return_exceptions=True)
