"""APScheduler 3.x wiring: one job per feed, spread by a deterministic phase; no logic here.

Job options are chosen on purpose (RELIABILITY F1, §3.3): ``coalesce`` so a suspended host
runs one catch-up poll instead of sixty; ``max_instances=1`` so a slow feed never overlaps
itself (the fetcher's deadline guarantees no run lasts for ever); ``misfire_grace_time=None``
so a busy event loop or a suspended host delays a poll instead of silently skipping it (with
coalescing, "however late" still means once). Skipped runs are logged and counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

FEED_JOB_PREFIX = "newsbot:feed:"
SYNC_JOB_ID = "newsbot:sync-feeds"


def next_fire(cron: str, timezone: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` that a 5-field crontab fires in ``timezone``.

    Returned as aware UTC; raises ValueError for a bad expression and KeyError (zoneinfo's
    ZoneInfoNotFoundError) for an unknown time zone.
    """
    trigger = CronTrigger.from_crontab(cron, timezone=timezone)
    fire = trigger.get_next_fire_time(after, after)
    if fire is None:
        raise ValueError(f"the schedule {cron!r} never fires again")
    return fire.astimezone(UTC)  # type: ignore[no-any-return]


def phase(url: str, interval: timedelta) -> timedelta:
    """A stable offset in [0, interval) from the URL, so 1,000 feeds do not fire at once."""
    digest = hashlib.sha256(url.encode("utf-8")).digest()
    seconds = int.from_bytes(digest[:8], "big") % max(int(interval.total_seconds()), 1)
    return timedelta(seconds=seconds)


class PollScheduler:
    """Keeps one interval job per enabled feed and a job that re-reads the feed list."""

    def __init__(
        self,
        poll_feed: Callable[[int], Awaitable[object]],
        list_feeds: Callable[[], Awaitable[list[tuple[int, str, timedelta]]]],
        *,
        sync_every: timedelta = timedelta(minutes=1),
        clock: Callable[[], datetime],
    ) -> None:
        self._poll_feed = poll_feed
        self._list_feeds = list_feeds
        self._sync_every = sync_every
        self._clock = clock
        self._running: set[asyncio.Task[object]] = set()
        self._stopping = False
        self.skipped: Counter[str] = Counter()
        self.scheduler = AsyncIOScheduler(
            timezone="UTC",
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": None,
            },
        )
        self.scheduler.add_listener(
            self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR
        )

    async def start(self) -> None:
        """Create the jobs for the current feeds and start firing them."""
        await self.sync()
        self.scheduler.add_job(
            self._guarded,
            IntervalTrigger(seconds=self._sync_every.total_seconds(), timezone="UTC"),
            args=[self.sync],
            id=SYNC_JOB_ID,
            replace_existing=True,
        )
        self.scheduler.start()

    async def stop(self) -> None:
        """Stop firing new runs and cancel the running ones (a SIGTERM mid-poll is quiet).

        A cancelled poll rolls its transaction back; items already committed but not yet
        announced are announced after the next start.
        """
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _guarded(self, run: Callable[..., Awaitable[object]], *args: object) -> None:
        """Run one job; a cancellation caused by ``stop`` ends it quietly, not as an error."""
        task = asyncio.current_task()
        if task is None or self._stopping:
            return
        self._running.add(task)
        try:
            await run(*args)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
        finally:
            self._running.discard(task)

    @property
    def running(self) -> bool:
        """True while the scheduler fires jobs."""
        return bool(self.scheduler.running)

    async def sync(self) -> None:
        """Add jobs for new feeds and drop jobs of removed or disabled ones."""
        feeds = {feed_id: (url, every) for feed_id, url, every in await self._list_feeds()}
        existing = {
            int(job.id.removeprefix(FEED_JOB_PREFIX))
            for job in self.scheduler.get_jobs()
            if job.id.startswith(FEED_JOB_PREFIX)
        }
        for feed_id in existing - feeds.keys():
            self.scheduler.remove_job(f"{FEED_JOB_PREFIX}{feed_id}")
        now = self._clock()
        for feed_id in feeds.keys() - existing:
            url, every = feeds[feed_id]
            self.scheduler.add_job(
                self._guarded,
                IntervalTrigger(
                    seconds=every.total_seconds(),
                    start_date=now + phase(url, every),
                    timezone="UTC",
                ),
                args=[self._poll_feed, feed_id],
                id=f"{FEED_JOB_PREFIX}{feed_id}",
                name=url,
                replace_existing=True,
            )

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            self.skipped["missed"] += 1
            log.warning(
                "poll job %s missed its run time; it will run at the next one", event.job_id
            )
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self.skipped["still_running"] += 1
            log.warning("poll job %s skipped: the previous run is still going", event.job_id)
        elif isinstance(event, JobExecutionEvent) and event.exception is not None:
            log.error("poll job %s crashed: %r", event.job_id, event.exception)
