"""Repositories for stories, subscriptions and watches; no SQL leaves bot/storage.

Unique constraints do the de-duplication: an item joins one story (``story_sources.item_id``),
an outbox row exists once per delivery key (``INSERT … ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import String, func, or_, select, update
from sqlalchemy import cast as cast_
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.core.errors import NotFound
from bot.core.stories import (
    Destination,
    FactChange,
    Filters,
    Mode,
    Story,
    Subscription,
)
from bot.core.tenancy import destination_sees, reaches_new_readers
from bot.delivery.records import (
    DueDigest,
    Watch,
    destination_key,
)
from bot.storage.outbox import OutboxRecord, OutboxRepository
from bot.storage.rows import (
    Readers,
    Repository,
    change_json,
    destination_of,
    destination_row,
    load_stories,
    quotes_json,
    report_of,
    visible_to,
)
from bot.storage.tables import (
    DestinationRow,
    FeedOwnerRow,
    ItemRow,
    StoryChangeRow,
    StoryEventRow,
    StoryRow,
    StorySourceRow,
    SubscriptionRow,
    WatchRow,
)
from bot.stories.cluster import Report, StoryDraft, StoryState
from bot.stories.facts import facts_from_json, facts_to_json

# stories


def _story_values(draft: StoryDraft, now: datetime) -> dict[str, Any]:
    return {
        "title": draft.title[:500],
        "summary": draft.summary,
        "facts": facts_to_json(draft.facts),
        "score": draft.score,
        "reasons": list(draft.reasons),
        "quotes": quotes_json(draft.quotes),
        "status": draft.facts.status,
        "start_date": draft.facts.start_date,
        "end_date": draft.facts.end_date,
        "search_text": draft.search_text,
        "updated_at": now,
    }


class StoryWriter:
    """One transaction of story changes: read candidates, then create or attach."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def knows_item(self, item_id: int) -> bool:
        """True when the item already belongs to a story (a re-published item is a no-op)."""
        found = await self._session.scalar(
            select(StorySourceRow.id).where(StorySourceRow.item_id == item_id)
        )
        return found is not None

    async def candidates(self, since: datetime) -> list[StoryState]:
        """Stories active since ``since`` or dated on or after it, with their reports."""
        rows = list(
            await self._session.scalars(
                select(StoryRow).where(
                    or_(StoryRow.updated_at >= since, StoryRow.start_date >= since.date())
                )
            )
        )
        reports: dict[int, list[Report]] = defaultdict(list)
        if rows:
            for source in await self._session.scalars(
                select(StorySourceRow)
                .where(StorySourceRow.story_id.in_([row.id for row in rows]))
                .order_by(StorySourceRow.id)
            ):
                reports[source.story_id].append(report_of(source))
        return [
            StoryState(row.id, facts_from_json(row.facts), tuple(reports[row.id])) for row in rows
        ]

    async def create(self, draft: StoryDraft, report: Report, now: datetime) -> int:
        """A new story opened by ``report``; returns its id."""
        row = StoryRow(first_seen=now, **_story_values(draft, now))
        self._session.add(row)
        await self._session.flush()
        await self._add_source(row.id, report, now)
        return row.id

    async def attach(
        self,
        story_id: int,
        draft: StoryDraft,
        report: Report,
        changes: Sequence[FactChange],
        now: datetime,
    ) -> None:
        """Add ``report`` to a story, store its new draft and the key facts that changed."""
        await self._add_source(story_id, report, now)
        await self._session.execute(
            update(StoryRow).where(StoryRow.id == story_id).values(**_story_values(draft, now))
        )
        self._session.add_all(
            StoryChangeRow(
                story_id=story_id,
                at=c.at,
                field=c.field,
                old=c.old,
                new=c.new,
                item_id=report.item_id,
            )
            for c in changes
        )

    async def add_event(
        self,
        story_id: int,
        kind: str,
        changes: Sequence[FactChange],
        now: datetime,
        item_ids: Sequence[int] | None = None,
    ) -> int:
        """Record an event caused by the reports ``item_ids`` (None: all); returns its id."""
        row = StoryEventRow(
            story_id=story_id,
            kind=kind,
            changes=[change_json(change) for change in changes],
            item_ids=None if item_ids is None else sorted(set(item_ids)),
            routed=False,
            created_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def reaches_new_readers(self, story_id: int, item_ids: Sequence[int]) -> bool:
        """True when the reports ``item_ids`` show the story to a server or workspace that
        did not read any of its other reports (bot.core.tenancy)."""
        others = (
            select(StorySourceRow.item_id)
            .where(StorySourceRow.story_id == story_id, StorySourceRow.item_id.not_in(item_ids))
            .scalar_subquery()
        )
        before = await _owners_of_items(self._session, ItemRow.id.in_(others))
        now = await _owners_of_items(self._session, ItemRow.id.in_(list(item_ids)))
        return reaches_new_readers(before, now)

    async def _add_source(self, story_id: int, report: Report, now: datetime) -> None:
        self._session.add(
            StorySourceRow(
                story_id=story_id,
                item_id=report.item_id,
                title=report.title[:500],
                link=report.link,
                outlet=(report.outlet or "")[:500] or None,
                published=report.published,
                facts=facts_to_json(report.facts),
                score=report.score,
                summary=report.summary,
                reasons=list(report.reasons),
                quotes=quotes_json(report.quotes),
                signature=report.signature,
                terms=sorted(report.terms),
                added_at=now,
            )
        )
        await self._session.flush()


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class StoryRepository(Repository):
    """Stories, their sources and change history."""

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[StoryWriter]:
        """A transaction for changing stories; committed when the block ends without error."""
        async with self._sessions.begin() as session:
            yield StoryWriter(session)

    # Every read takes ``readers`` (bot.core.tenancy.readers_of): stories are shown only as
    # reports of their feeds tell them; None shows all (the operator, replays, exports).

    async def get(self, story_id: int, readers: Readers = None) -> Story:
        """One story; raises NotFound, also for a story none of ``readers`` sees."""
        async with self._sessions() as session:
            row = await session.get(StoryRow, story_id)
            found = [] if row is None else await load_stories(session, [row], readers)
            if not found:
                raise NotFound(f"no story with id {story_id}: try /summit latest")
            return found[0]

    async def get_many(self, story_ids: Sequence[int], readers: Readers = None) -> list[Story]:
        """The stories that still exist (and ``readers`` see) among ``story_ids``, in order."""
        async with self._sessions() as session:
            rows = {
                row.id: row
                for row in await session.scalars(
                    select(StoryRow).where(StoryRow.id.in_(list(story_ids)))
                )
            }
            chosen = [rows[i] for i in story_ids if i in rows]
            return await load_stories(session, chosen, readers)

    async def latest(self, count: int, readers: Readers = None) -> list[Story]:
        """The most recently updated stories."""
        query = select(StoryRow).where(visible_to(readers))
        return await self._list(query.order_by(StoryRow.updated_at.desc()), count, readers)

    async def all_stories(self) -> list[Story]:
        """Every story, oldest first (for replays and exports, not for chat)."""
        async with self._sessions() as session:
            rows = list(await session.scalars(select(StoryRow).order_by(StoryRow.id)))
            return await load_stories(session, rows)

    async def recent(
        self, since: datetime, limit: int = 200, readers: Readers = None
    ) -> list[Story]:
        """Stories updated at or after ``since``, newest first."""
        query = select(StoryRow).where(StoryRow.updated_at >= since, visible_to(readers))
        return await self._list(query.order_by(StoryRow.updated_at.desc()), limit, readers)

    async def search(
        self, words: Sequence[str], limit: int, readers: Readers = None
    ) -> list[Story]:
        """Stories whose text (as ``readers`` see it) holds every word, newest first."""
        query = select(StoryRow).where(visible_to(readers))
        for word in words:
            query = query.where(StoryRow.search_text.like(_like(word.casefold()), escape="\\"))
        query = query.order_by(StoryRow.updated_at.desc())
        return await self._list(query, limit, readers, words)

    async def upcoming(
        self, today: date, recent_since: datetime, limit: int = 50, readers: Readers = None
    ) -> list[Story]:
        """Summits still ahead or under way; undated upcoming ones if recently reported."""
        last_day = func.coalesce(StoryRow.end_date, StoryRow.start_date)
        query = select(StoryRow).where(
            visible_to(readers),
            or_(StoryRow.status.is_(None), StoryRow.status.not_in(["concluded", "cancelled"])),
            or_(
                last_day >= today,
                (StoryRow.start_date.is_(None))
                & (StoryRow.status == "upcoming")
                & (StoryRow.updated_at >= recent_since),
            ),
        )
        order = (StoryRow.start_date.is_(None), StoryRow.start_date, StoryRow.id)
        return await self._list(query.order_by(*order), limit, readers)

    async def suggest(
        self, text: str, limit: int, readers: Readers = None
    ) -> list[tuple[int, str]]:
        """(id, title) of recent stories whose id starts with or text contains ``text``."""
        query = select(StoryRow).where(visible_to(readers)).order_by(StoryRow.updated_at.desc())
        words: list[str] = []
        if text.strip().isdigit():
            query = query.where(cast_(StoryRow.id, String).like(f"{text.strip()}%"))
        elif text.strip():
            words = [text.strip()]
            query = query.where(StoryRow.search_text.like(_like(words[0].casefold()), "\\"))
        stories = await self._list(query, limit, readers, words)
        return [(story.id, story.title) for story in stories]

    async def _list(
        self, query: Any, limit: int, readers: Readers, words: Sequence[str] = ()
    ) -> list[Story]:
        async with self._sessions() as session:
            rows = list(await session.scalars(query.limit(limit)))
            return await load_stories(session, rows, readers, words)


# destinations, subscriptions and watches


def _filters_json(filters: Filters) -> dict[str, Any]:
    return {
        "participants": list(filters.participants),
        "countries": list(filters.countries),
        "keywords": list(filters.keywords),
        "min_score": filters.min_score,
    }


def _filters(data: dict[str, Any]) -> Filters:
    return Filters(
        participants=tuple(data.get("participants") or ()),
        countries=tuple(data.get("countries") or ()),
        keywords=tuple(data.get("keywords") or ()),
        min_score=float(data.get("min_score") or 0.0),
    )


def _subscription(row: SubscriptionRow, destination: DestinationRow) -> Subscription:
    return Subscription(
        destination=destination_of(destination),
        mode=cast("Mode", row.mode),
        schedule=row.schedule,
        timezone=row.timezone,
        filters=_filters(row.filters),
        disabled_reason=destination.disabled_reason,
    )


async def _owners_of_items(session: AsyncSession, items: Any) -> set[str]:
    """Every owner of a feed that carried an item meeting the condition ``items``."""
    query = select(FeedOwnerRow.owner).join(ItemRow, ItemRow.feed_id == FeedOwnerRow.feed_id)
    return set(await session.scalars(query.where(items).distinct()))


async def _owners(session: AsyncSession, story_id: int, item_ids: Sequence[int] | None) -> set[str]:
    """Every owner of a feed that carried the reports ``item_ids`` (None: all the story's)."""
    if item_ids is None:
        story = select(StorySourceRow.item_id).where(StorySourceRow.story_id == story_id)
        return await _owners_of_items(session, ItemRow.id.in_(story.scalar_subquery()))
    return await _owners_of_items(session, ItemRow.id.in_(list(item_ids)))


class SubscriptionRepository(Repository):
    """Per-destination subscriptions and watches."""

    async def subscribe(
        self, subscription: Subscription, next_digest_at: datetime | None, now: datetime
    ) -> Subscription:
        """Create or replace the destination's subscription; re-enables a disabled destination."""
        async with self._sessions.begin() as session:
            destination = await destination_row(session, subscription.destination, now)
            assert destination is not None
            destination.disabled_reason = None
            destination.disabled_at = None
            row = await session.scalar(
                select(SubscriptionRow).where(SubscriptionRow.destination_id == destination.id)
            )
            if row is None:
                row = SubscriptionRow(destination_id=destination.id, created_at=now)
                session.add(row)
            row.mode = subscription.mode
            row.schedule = subscription.schedule
            row.timezone = subscription.timezone
            row.filters = _filters_json(subscription.filters)
            row.next_digest_at = next_digest_at
            row.updated_at = now
            await session.flush()
            return _subscription(row, destination)

    async def unsubscribe(self, destination: Destination) -> bool:
        """Remove the destination's subscription; False when there was none."""
        async with self._sessions.begin() as session:
            found = await self._row(session, destination)
            if found is None:
                return False
            await session.delete(found[0])
            return True

    async def get(self, destination: Destination) -> Subscription | None:
        """The destination's subscription, or None."""
        async with self._sessions() as session:
            found = await self._row(session, destination)
            return None if found is None else _subscription(*found)

    async def alert_targets(
        self, story_id: int | None = None, item_ids: Sequence[int] | None = None
    ) -> tuple[list[Subscription], list[Watch]]:
        """Enabled subscriptions that want alerts, and watches of enabled destinations.

        With ``story_id``, only destinations whose server or workspace reads a feed that
        carried the reports ``item_ids`` (None: any report of the story), its own or the
        operator's shared ones (bot.core.tenancy).
        """
        async with self._sessions() as session:
            owners = None if story_id is None else await _owners(session, story_id, item_ids)
            subscriptions = [
                _subscription(row, destination)
                for row, destination in (
                    await session.execute(
                        select(SubscriptionRow, DestinationRow)
                        .join(DestinationRow, DestinationRow.id == SubscriptionRow.destination_id)
                        .where(
                            DestinationRow.disabled_reason.is_(None),
                            SubscriptionRow.mode.in_(["alerts", "both"]),
                        )
                        .order_by(SubscriptionRow.id)
                    )
                ).all()
                if owners is None or destination_sees(destination_of(destination), owners)
            ]
            watches = [
                Watch(destination_of(destination), term)
                for term, destination in (
                    await session.execute(
                        select(WatchRow.term, DestinationRow)
                        .join(DestinationRow, DestinationRow.id == WatchRow.destination_id)
                        .where(DestinationRow.disabled_reason.is_(None))
                        .order_by(WatchRow.id)
                    )
                ).all()
                if owners is None or destination_sees(destination_of(destination), owners)
            ]
            return subscriptions, watches

    async def due_digests(self, now: datetime) -> list[DueDigest]:
        """Enabled subscriptions whose next digest time is at or before ``now``."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(SubscriptionRow, DestinationRow)
                    .join(DestinationRow, DestinationRow.id == SubscriptionRow.destination_id)
                    .where(
                        DestinationRow.disabled_reason.is_(None),
                        SubscriptionRow.next_digest_at.is_not(None),
                        SubscriptionRow.next_digest_at <= now,
                    )
                    .order_by(SubscriptionRow.next_digest_at, SubscriptionRow.id)
                )
            ).all()
            return [
                DueDigest(
                    _subscription(row, destination),
                    cast("datetime", row.next_digest_at),
                    row.last_digest_at,
                )
                for row, destination in rows
            ]

    async def add_watch(
        self, destination: Destination, term: str, now: datetime, limit: int
    ) -> list[str] | None:
        """Watch ``term``; returns every watched term, or None when ``limit`` is reached."""
        async with self._sessions.begin() as session:
            row = await destination_row(session, destination, now)
            assert row is not None
            terms = await self._terms(session, row.id)
            if term.casefold() in {t.casefold() for t in terms}:
                return terms
            if len(terms) >= limit:
                return None
            statement = (
                self._insert()(WatchRow)
                .values(destination_id=row.id, term=term, term_key=term.casefold(), created_at=now)
                .on_conflict_do_nothing(index_elements=["destination_id", "term_key"])
            )
            await session.execute(statement)
            return await self._terms(session, row.id)

    async def remove_watch(self, destination: Destination, term: str) -> list[str] | None:
        """Stop watching ``term``; returns the remaining terms, or None if it was not watched."""
        async with self._sessions.begin() as session:
            row = await destination_row(session, destination, None)
            if row is None:
                return None
            watch = await session.scalar(
                select(WatchRow).where(
                    WatchRow.destination_id == row.id, WatchRow.term_key == term.casefold()
                )
            )
            if watch is None:
                return None
            await session.delete(watch)
            await session.flush()
            return await self._terms(session, row.id)

    async def watches(self, destination: Destination) -> list[str]:
        """The terms a destination watches, oldest first."""
        async with self._sessions() as session:
            row = await destination_row(session, destination, None)
            return [] if row is None else await self._terms(session, row.id)

    async def _terms(self, session: AsyncSession, destination_id: int) -> list[str]:
        return list(
            await session.scalars(
                select(WatchRow.term)
                .where(WatchRow.destination_id == destination_id)
                .order_by(WatchRow.id)
            )
        )

    async def _row(
        self, session: AsyncSession, destination: Destination
    ) -> tuple[SubscriptionRow, DestinationRow] | None:
        found = (
            await session.execute(
                select(SubscriptionRow, DestinationRow)
                .join(DestinationRow, DestinationRow.id == SubscriptionRow.destination_id)
                .where(DestinationRow.key == destination_key(destination))
            )
        ).first()
        return None if found is None else (found[0], found[1])


@dataclass(frozen=True, slots=True)
class Repositories:
    """The newsdesk repositories over one engine."""

    stories: StoryRepository
    subscriptions: SubscriptionRepository
    outbox: OutboxRepository

    @classmethod
    def over(cls, engine: AsyncEngine) -> Repositories:
        """All three repositories sharing ``engine`` (e.g. ``Store.engine``)."""
        return cls(
            StoryRepository(engine), SubscriptionRepository(engine), OutboxRepository(engine)
        )


__all__ = [
    "OutboxRecord",
    "OutboxRepository",
    "Repositories",
    "StoryRepository",
    "StoryWriter",
    "SubscriptionRepository",
]
