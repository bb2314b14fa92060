"""The Sink that turns analysed summit items into stories and story events into outbox rows."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.models import FeedInfo, NewItem
from bot.core.ports import Sink
from bot.core.stories import EventKind, FactChange
from bot.ops import metrics
from bot.storage.newsdesk import StoryRepository, StoryWriter
from bot.stories.cluster import ClusterPolicy, Report, best_match, draft, report_from_item
from bot.stories.facts import key_changes, net_changes

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Filed:
    """Where one report went: its story, the event it would cause, and the facts it changed."""

    item_id: int
    story_id: int
    kind: EventKind | None
    changes: tuple[FactChange, ...]


Clock = Callable[[], datetime]
NEAR_MISS = 0.6  # a candidate this close to the threshold is logged with its evidence


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
        await self.file_items(items)

    async def file_items(self, items: Sequence[NewItem]) -> list[Filed | None]:
        """File each summit item (None for others and for failures) and record one event per
        story: a poll's several reports of one story give one alert, not one each.

        Stories and their events commit together, so a crash never leaves a filed report
        without its event (a re-published item is known and would never get one). If the
        batch fails, each item is filed in a transaction of its own and a bad one skipped.
        """
        reports: dict[int, Report] = {}
        for index, item in enumerate(items):
            if item.is_summit:
                try:
                    reports[index] = report_from_item(item)
                except Exception:
                    log.exception("could not read item %s (%s) as a report", item.id, item.link)
        try:
            filed, kinds = await self._file_together(reports)
        except Exception:
            log.exception("could not file %d item(s) together; filing one by one", len(reports))
            filed, kinds = {}, []
            for index, report in reports.items():
                try:
                    one, one_kinds = await self._file_together({index: report})
                except Exception:
                    log.exception("could not file item %s under a story", report.item_id)
                    continue
                filed.update(one)
                kinds += one_kinds
        for kind in kinds:
            metrics.summit_story(kind)
        if kinds and self._route is not None:
            await self._route()
        return [filed.get(index) for index in range(len(items))]

    async def add(self, report: Report) -> tuple[int | None, EventKind | None]:
        """File one report and record its event; returns its story id and the event kind."""
        filed, _ = await self._file_together({0: report})
        result = filed.get(0)
        if result is None:
            return None, None
        return result.story_id, result.kind

    async def _file_together(
        self, reports: dict[int, Report]
    ) -> tuple[dict[int, Filed], list[EventKind]]:
        """File reports (by position) and record their events, all in one transaction."""
        filed: dict[int, Filed] = {}
        if not reports:
            return filed, []
        async with self._stories.writing() as writer:
            for index, report in reports.items():
                result = await self._file(writer, report)
                if result is not None:
                    filed[index] = result
            kinds = await self._record(writer, list(filed.values()))
        return filed, kinds

    async def _file(self, writer: StoryWriter, report: Report) -> Filed | None:
        """File one report under its story (None when it was filed before); no event yet."""
        now = self._clock()
        if await writer.knows_item(report.item_id):
            return None
        candidates = await writer.candidates(report.published - self._policy.horizon)
        match = best_match(report, candidates, self._policy)
        if match is None or match.score < self._policy.model.threshold:
            story_id = await writer.create(draft([report]), report, now)
            log.info("new story %d: %s", story_id, report.title)
            if match is not None and match.score >= NEAR_MISS * self._policy.model.threshold:
                log.info(
                    "item %d stays apart from story %d (%s)",
                    report.item_id,
                    match.story_id,
                    "; ".join(match.reasons),
                )
            return Filed(report.item_id, story_id, "new", ())
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
        return Filed(report.item_id, story.id, "update" if changes else None, changes)

    async def _record(self, writer: StoryWriter, filed: Sequence[Filed]) -> list[EventKind]:
        """One event per story: "new" if the story opened in this batch, else its net changes."""
        by_story: dict[int, list[Filed]] = {}
        for result in filed:
            by_story.setdefault(result.story_id, []).append(result)
        kinds: list[EventKind] = []
        now = self._clock()
        for story_id, results in by_story.items():
            # Only readers of the reports behind an event hear of it (bot.core.tenancy).
            if any(result.kind == "new" for result in results):
                items = [result.item_id for result in results]
                await writer.add_event(story_id, "new", (), now, items)
                kinds.append("new")
            elif changes := net_changes([c for result in results for c in result.changes]):
                items = [result.item_id for result in results if result.changes]
                await writer.add_event(story_id, "update", changes, now, items)
                kinds.append("update")
            elif await writer.reaches_new_readers(story_id, items := [r.item_id for r in results]):
                # Nothing new to earlier readers, but news to a server or workspace whose
                # feed carried the story for the first time: it gets the story as new.
                await writer.add_event(story_id, "update", (), now, items)
                kinds.append("update")
        return kinds

    async def feed_disabled(self, feed: FeedInfo) -> None:
        """Tell the operator's sink, if any; the log always says it."""
        log.warning("feed %s disabled: %s", feed.url, feed.disabled_reason)
        if self._operator is not None:
            await self._operator.feed_disabled(feed)
