"""The Sink that turns analysed summit items into stories and story events into outbox rows."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from bot.core.models import FeedInfo, NewItem
from bot.core.ports import Sink
from bot.core.stories import EventKind
from bot.ops import metrics
from bot.storage.newsdesk import StoryRepository
from bot.stories.cluster import ClusterPolicy, Report, assign, draft, report_from_item
from bot.stories.facts import key_changes

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class StorySink:
    """Files each summit item under its story (new or existing) and records what changed.

    A new story gives a "new" event, changed key facts one "update" event, and another outlet
    repeating known facts none. Events are stored with the story in one transaction; ``route``
    (the delivery Router's ``route_pending``) then turns them into outbox rows.
    """

    def __init__(
        self,
        stories: StoryRepository,
        *,
        clock: Clock,
        route: Callable[[], Awaitable[object]] | None = None,
        policy: ClusterPolicy | None = None,
        operator: Sink | None = None,
    ) -> None:
        self._stories = stories
        self._clock = clock
        self._route = route
        self._policy = policy or ClusterPolicy()
        self._operator = operator

    async def publish(self, items: Sequence[NewItem]) -> None:
        """Add every summit item to its story; one bad item is logged and skipped."""
        events = 0
        for item in items:
            if not item.is_summit:
                continue
            try:
                _, kind = await self.add(report_from_item(item))
                if kind is not None:
                    metrics.summit_story(kind)
            except Exception:
                log.exception("could not file item %s (%s) under a story", item.id, item.link)
                continue
            events += kind is not None
        if events and self._route is not None:
            await self._route()

    async def add(self, report: Report) -> tuple[int | None, EventKind | None]:
        """File one report; returns its story id and the event kind it caused, if any."""
        now = self._clock()
        async with self._stories.writing() as writer:
            if await writer.knows_item(report.item_id):
                return None, None
            candidates = await writer.candidates(report.published - self._policy.horizon)
            match = assign(report, candidates, self._policy)
            if match is None:
                story_id = await writer.create(draft([report]), report, now)
                await writer.add_event(story_id, "new", (), now)
                log.info("new story %d: %s", story_id, report.title)
                return story_id, "new"
            story = next(c for c in candidates if c.id == match.story_id)
            updated = draft([*story.reports, report])
            changes = key_changes(story.facts, updated.facts, now)
            await writer.attach(story.id, updated, report, changes, now)
            log.info(
                "item %d joins story %d (%s)%s",
                report.item_id,
                story.id,
                "; ".join(match.reasons),
                f", changed: {', '.join(c.field for c in changes)}" if changes else "",
            )
            if not changes:
                return story.id, None
            await writer.add_event(story.id, "update", changes, now)
            return story.id, "update"

    async def feed_disabled(self, feed: FeedInfo) -> None:
        """Tell the operator's sink, if any; the log always says it."""
        log.warning("feed %s disabled: %s", feed.url, feed.disabled_reason)
        if self._operator is not None:
            await self._operator.feed_disabled(feed)
