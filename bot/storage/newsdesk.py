"""Repositories for stories, subscriptions, watches and the outbox; no SQL leaves bot/storage.

Unique constraints do the de-duplication: an item joins one story (``story_sources.item_id``),
an outbox row exists once per delivery key (``INSERT … ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import String, func, or_, select, update
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.errors import NotFound
from bot.core.stories import (
    Destination,
    Digest,
    EventKind,
    FactChange,
    Filters,
    Mode,
    Quote,
    Source,
    Story,
    StoryEvent,
    Subscription,
)
from bot.delivery.records import (
    DueDigest,
    OutboxEntry,
    OutboxKind,
    OutboxStatus,
    Watch,
    destination_key,
)
from bot.storage.tables import (
    DestinationRow,
    OutboxRow,
    StoryChangeRow,
    StoryEventRow,
    StoryRow,
    StorySourceRow,
    SubscriptionRow,
    WatchRow,
)
from bot.stories.cluster import Report, StoryDraft, StoryState
from bot.stories.facts import facts_from_json, facts_to_json


class _Repository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    def _insert(self) -> Any:
        return pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert


# stories


def _quotes_json(quotes: Sequence[Quote]) -> list[dict[str, str]]:
    return [{"speaker": quote.speaker, "text": quote.text} for quote in quotes]


def _quotes(data: Sequence[dict[str, str]]) -> tuple[Quote, ...]:
    return tuple(Quote(speaker=q.get("speaker", ""), text=q.get("text", "")) for q in data)


def _change_json(change: FactChange) -> dict[str, Any]:
    return {
        "at": change.at.isoformat(),
        "field": change.field,
        "old": change.old,
        "new": change.new,
    }


def _change(data: dict[str, Any]) -> FactChange:
    return FactChange(
        at=datetime.fromisoformat(data["at"]), field=data["field"], old=data["old"], new=data["new"]
    )


def _report(row: StorySourceRow) -> Report:
    return Report(
        item_id=row.item_id,
        title=row.title,
        link=row.link,
        outlet=row.outlet,
        published=row.published,
        facts=facts_from_json(row.facts),
        score=row.score,
        summary=row.summary,
        reasons=tuple(row.reasons),
        quotes=_quotes(row.quotes),
        signature=bytes(row.signature),
    )


async def _stories(session: AsyncSession, rows: Sequence[StoryRow]) -> list[Story]:
    """Whole stories (sources and change history) for story rows, in the rows' order."""
    ids = [row.id for row in rows]
    if not ids:
        return []
    sources: dict[int, list[Source]] = defaultdict(list)
    for source in await session.scalars(
        select(StorySourceRow).where(StorySourceRow.story_id.in_(ids)).order_by(StorySourceRow.id)
    ):
        sources[source.story_id].append(
            Source(source.item_id, source.title, source.link, source.outlet, source.published)
        )
    changes: dict[int, list[FactChange]] = defaultdict(list)
    for change in await session.scalars(
        select(StoryChangeRow).where(StoryChangeRow.story_id.in_(ids)).order_by(StoryChangeRow.id)
    ):
        changes[change.story_id].append(
            FactChange(at=change.at, field=change.field, old=change.old, new=change.new)
        )
    return [
        Story(
            id=row.id,
            title=row.title,
            summary=row.summary,
            facts=facts_from_json(row.facts),
            score=row.score,
            reasons=tuple(row.reasons),
            sources=tuple(sources[row.id]),
            first_seen=row.first_seen,
            updated_at=row.updated_at,
            changes=tuple(changes[row.id]),
            quotes=_quotes(row.quotes),
        )
        for row in rows
    ]


def _story_values(draft: StoryDraft, now: datetime) -> dict[str, Any]:
    return {
        "title": draft.title[:500],
        "summary": draft.summary,
        "facts": facts_to_json(draft.facts),
        "score": draft.score,
        "reasons": list(draft.reasons),
        "quotes": _quotes_json(draft.quotes),
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
                reports[source.story_id].append(_report(source))
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
            StoryChangeRow(story_id=story_id, at=c.at, field=c.field, old=c.old, new=c.new)
            for c in changes
        )

    async def add_event(
        self, story_id: int, kind: str, changes: Sequence[FactChange], now: datetime
    ) -> int:
        """Record an event to route to destinations; returns its id."""
        row = StoryEventRow(
            story_id=story_id,
            kind=kind,
            changes=[_change_json(change) for change in changes],
            routed=False,
            created_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return row.id

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
                quotes=_quotes_json(report.quotes),
                signature=report.signature,
                added_at=now,
            )
        )
        await self._session.flush()


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class StoryRepository(_Repository):
    """Stories, their sources and change history."""

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[StoryWriter]:
        """A transaction for changing stories; committed when the block ends without error."""
        async with self._sessions.begin() as session:
            yield StoryWriter(session)

    async def get(self, story_id: int) -> Story:
        """One story; raises NotFound."""
        async with self._sessions() as session:
            row = await session.get(StoryRow, story_id)
            if row is None:
                raise NotFound(f"no story with id {story_id}: try /summit latest")
            return (await _stories(session, [row]))[0]

    async def get_many(self, story_ids: Sequence[int]) -> list[Story]:
        """The stories that still exist among ``story_ids``, in that order."""
        async with self._sessions() as session:
            rows = {
                row.id: row
                for row in await session.scalars(
                    select(StoryRow).where(StoryRow.id.in_(list(story_ids)))
                )
            }
            return await _stories(session, [rows[i] for i in story_ids if i in rows])

    async def latest(self, count: int) -> list[Story]:
        """The most recently updated stories."""
        return await self._list(select(StoryRow).order_by(StoryRow.updated_at.desc()), count)

    async def recent(self, since: datetime, limit: int = 200) -> list[Story]:
        """Stories updated at or after ``since``, newest first."""
        query = select(StoryRow).where(StoryRow.updated_at >= since)
        return await self._list(query.order_by(StoryRow.updated_at.desc()), limit)

    async def search(self, words: Sequence[str], limit: int) -> list[Story]:
        """Stories whose text holds every word (case-insensitive), newest first."""
        query = select(StoryRow)
        for word in words:
            query = query.where(StoryRow.search_text.like(_like(word.casefold()), escape="\\"))
        return await self._list(query.order_by(StoryRow.updated_at.desc()), limit)

    async def upcoming(self, today: date, recent_since: datetime, limit: int = 50) -> list[Story]:
        """Summits still ahead or under way; undated upcoming ones if recently reported."""
        last_day = func.coalesce(StoryRow.end_date, StoryRow.start_date)
        query = select(StoryRow).where(
            or_(StoryRow.status.is_(None), StoryRow.status.not_in(["concluded", "cancelled"])),
            or_(
                last_day >= today,
                (StoryRow.start_date.is_(None))
                & (StoryRow.status == "upcoming")
                & (StoryRow.updated_at >= recent_since),
            ),
        )
        order = (StoryRow.start_date.is_(None), StoryRow.start_date, StoryRow.id)
        return await self._list(query.order_by(*order), limit)

    async def suggest(self, text: str, limit: int) -> list[tuple[int, str]]:
        """(id, title) of recent stories whose id starts with or text contains ``text``."""
        query = select(StoryRow.id, StoryRow.title).order_by(StoryRow.updated_at.desc())
        if text.strip().isdigit():
            query = query.where(cast_(StoryRow.id, String).like(f"{text.strip()}%"))
        elif text.strip():
            query = query.where(StoryRow.search_text.like(_like(text.strip().casefold()), "\\"))
        async with self._sessions() as session:
            rows = (await session.execute(query.limit(limit))).all()
            return [(int(story_id), str(title)) for story_id, title in rows]

    async def _list(self, query: Any, limit: int) -> list[Story]:
        async with self._sessions() as session:
            rows = list(await session.scalars(query.limit(limit)))
            return await _stories(session, rows)


# destinations, subscriptions and watches


def _destination(row: DestinationRow) -> Destination:
    return Destination(row.platform, row.channel_id, row.workspace_id)


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
        destination=_destination(destination),
        mode=cast("Mode", row.mode),
        schedule=row.schedule,
        timezone=row.timezone,
        filters=_filters(row.filters),
        disabled_reason=destination.disabled_reason,
    )


async def _destination_row(
    session: AsyncSession, destination: Destination, now: datetime | None
) -> DestinationRow | None:
    """The destination's row; created when ``now`` is given and it does not exist yet."""
    key = destination_key(destination)
    row = await session.scalar(select(DestinationRow).where(DestinationRow.key == key))
    if row is None and now is not None:
        row = DestinationRow(
            key=key,
            platform=destination.platform,
            channel_id=destination.channel_id,
            workspace_id=destination.workspace_id,
            created_at=now,
        )
        session.add(row)
        await session.flush()
    return row


class SubscriptionRepository(_Repository):
    """Per-destination subscriptions and watches."""

    async def subscribe(
        self, subscription: Subscription, next_digest_at: datetime | None, now: datetime
    ) -> Subscription:
        """Create or replace the destination's subscription; re-enables a disabled destination."""
        async with self._sessions.begin() as session:
            destination = await _destination_row(session, subscription.destination, now)
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

    async def alert_targets(self) -> tuple[list[Subscription], list[Watch]]:
        """Enabled subscriptions that want alerts, and watches of enabled destinations."""
        async with self._sessions() as session:
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
            ]
            watches = [
                Watch(_destination(destination), term)
                for term, destination in (
                    await session.execute(
                        select(WatchRow.term, DestinationRow)
                        .join(DestinationRow, DestinationRow.id == WatchRow.destination_id)
                        .where(DestinationRow.disabled_reason.is_(None))
                        .order_by(WatchRow.id)
                    )
                ).all()
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
            row = await _destination_row(session, destination, now)
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
            row = await _destination_row(session, destination, None)
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
            row = await _destination_row(session, destination, None)
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


# the outbox


def _digest_json(digest: Digest) -> dict[str, Any]:
    return {
        "title": digest.title,
        "story_ids": [story.id for story in digest.stories],
        "generated_at": digest.generated_at.isoformat(),
        "note": digest.note,
    }


def _entry(row: OutboxRow, destination: DestinationRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        key=row.delivery_key,
        destination_id=row.destination_id,
        destination=_destination(destination),
        kind=cast("OutboxKind", row.kind),
        status=cast("OutboxStatus", row.status),
        attempts=row.attempts,
        created_at=row.created_at,
        claimed_at=row.claimed_at,
    )


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """An outbox row as tests and operators inspect it."""

    key: str
    destination: Destination
    kind: str
    status: str
    attempts: int
    message_id: str | None
    last_error: str | None
    not_before: datetime


class OutboxRepository(_Repository):
    """Story events waiting to be routed, and outbox rows through their lifecycle."""

    async def unrouted_events(self, limit: int = 100) -> list[tuple[int, StoryEvent]]:
        """Story events not yet turned into outbox rows, oldest first, with their stories."""
        async with self._sessions() as session:
            events = list(
                await session.scalars(
                    select(StoryEventRow)
                    .where(StoryEventRow.routed.is_(False))
                    .order_by(StoryEventRow.id)
                    .limit(limit)
                )
            )
            stories = await self._stories_by_id(session, [event.story_id for event in events])
            return [
                (event.id, self._event(event, stories[event.story_id]))
                for event in events
                if event.story_id in stories
            ]

    async def route(
        self, event_id: int, targets: Sequence[tuple[Destination, str]], now: datetime
    ) -> int:
        """Insert one outbox row per (destination, key) and mark the event routed, atomically."""
        async with self._sessions.begin() as session:
            inserted = 0
            for destination, key in targets:
                inserted += await self._enqueue(
                    session, destination, key, "alert", now, event_id=event_id
                )
            await session.execute(
                update(StoryEventRow).where(StoryEventRow.id == event_id).values(routed=True)
            )
            return inserted

    async def enqueue_digest(
        self,
        destination: Destination,
        key: str,
        digest: Digest | None,
        now: datetime,
        *,
        scheduled_at: datetime | None = None,
        next_digest_at: datetime | None = None,
    ) -> bool:
        """Queue a digest (if any) and, for a scheduled one, move its schedule on, atomically.

        Returns True when a new row was queued (False for an already-queued key).
        """
        async with self._sessions.begin() as session:
            inserted = 0
            if digest is not None:
                inserted = await self._enqueue(
                    session, destination, key, "digest", now, payload=_digest_json(digest)
                )
            if scheduled_at is not None:
                row = await _destination_row(session, destination, None)
                if row is not None:
                    await session.execute(
                        update(SubscriptionRow)
                        .where(SubscriptionRow.destination_id == row.id)
                        .values(next_digest_at=next_digest_at, last_digest_at=scheduled_at)
                    )
            return inserted > 0

    async def due(self, now: datetime, platforms: Sequence[str], limit: int) -> list[OutboxEntry]:
        """Pending rows whose time has come, for enabled destinations on these platforms."""
        return await self._entries(
            (OutboxRow.status == "pending") & (OutboxRow.not_before <= now), platforms, limit
        )

    async def in_flight(self, platforms: Sequence[str]) -> list[OutboxEntry]:
        """Rows left in ``sending`` (a crash between send and commit)."""
        return await self._entries(OutboxRow.status == "sending", platforms, 10_000)

    async def claim(self, entry_id: int, now: datetime, *, again: bool = False) -> bool:
        """Move a row to ``sending`` (from ``pending``, or from ``sending`` with ``again``)."""
        expected = "sending" if again else "pending"
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry_id, OutboxRow.status == expected)
                .values(status="sending", attempts=OutboxRow.attempts + 1, claimed_at=now)
            )
            return bool(getattr(result, "rowcount", 0))

    async def mark_sent(self, entry_id: int, message_id: str, now: datetime) -> None:
        """Record the platform's message id and mark the row sent."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry_id)
                .values(status="sent", message_id=message_id[:200], sent_at=now, last_error=None)
            )

    async def retry(self, entry_id: int, not_before: datetime, error: str) -> None:
        """Put a row back to ``pending`` until ``not_before``."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry_id)
                .values(status="pending", not_before=not_before, last_error=error[:1000])
            )

    async def hold_destination(self, destination_id: int, not_before: datetime) -> None:
        """Keep every pending row of a destination until ``not_before`` (a rate limit)."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.destination_id == destination_id,
                    OutboxRow.status == "pending",
                    OutboxRow.not_before < not_before,
                )
                .values(not_before=not_before)
            )

    async def finish(self, entry_id: int, status: OutboxStatus, error: str) -> None:
        """End a row without sending it: ``failed`` or ``expired``, with the reason."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry_id)
                .values(status=status, last_error=error[:1000])
            )

    async def disable_destination(self, destination_id: int, reason: str, now: datetime) -> bool:
        """Disable a destination and fail its unsent rows; True only for the first caller."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(DestinationRow)
                .where(
                    DestinationRow.id == destination_id, DestinationRow.disabled_reason.is_(None)
                )
                .values(disabled_reason=reason[:1000], disabled_at=now)
            )
            await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.destination_id == destination_id,
                    OutboxRow.status.in_(["pending", "sending"]),
                )
                .values(status="failed", last_error=f"destination disabled: {reason}"[:1000])
            )
            return bool(getattr(result, "rowcount", 0))

    async def content(self, entry: OutboxEntry) -> OutboxEntry | None:
        """The entry with its story event or digest loaded (None when its story is gone)."""
        async with self._sessions() as session:
            row = await session.get(OutboxRow, entry.id)
            if row is None:
                return None
            if row.kind == "alert":
                event = await session.get(StoryEventRow, row.event_id) if row.event_id else None
                if event is None:
                    return None
                stories = await self._stories_by_id(session, [event.story_id])
                if event.story_id not in stories:
                    return None
                return replace(entry, event=self._event(event, stories[event.story_id]))
            payload = row.payload
            story_ids = [int(i) for i in payload.get("story_ids") or []]
            by_id = await self._stories_by_id(session, story_ids)
            digest = Digest(
                title=str(payload.get("title") or "Summit digest"),
                stories=tuple(by_id[i] for i in story_ids if i in by_id),
                generated_at=datetime.fromisoformat(payload["generated_at"]),
                note=payload.get("note"),
            )
            return replace(entry, digest=digest)

    async def records(self, destination: Destination | None = None) -> list[OutboxRecord]:
        """Every outbox row (optionally of one destination), oldest first."""
        query = select(OutboxRow, DestinationRow).join(
            DestinationRow, DestinationRow.id == OutboxRow.destination_id
        )
        if destination is not None:
            query = query.where(DestinationRow.key == destination_key(destination))
        async with self._sessions() as session:
            return [
                OutboxRecord(
                    key=row.delivery_key,
                    destination=_destination(dest),
                    kind=row.kind,
                    status=row.status,
                    attempts=row.attempts,
                    message_id=row.message_id,
                    last_error=row.last_error,
                    not_before=row.not_before,
                )
                for row, dest in (await session.execute(query.order_by(OutboxRow.id))).all()
            ]

    async def counts(self) -> Counter[str]:
        """How many rows are in each status."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(OutboxRow.status, func.count(OutboxRow.id)).group_by(OutboxRow.status)
            )
            return Counter({status: int(count) for status, count in rows.all()})

    async def next_due(self, platforms: Sequence[str]) -> datetime | None:
        """When the earliest pending row of these platforms becomes due."""
        async with self._sessions() as session:
            return await session.scalar(
                select(func.min(OutboxRow.not_before))
                .join(DestinationRow, DestinationRow.id == OutboxRow.destination_id)
                .where(OutboxRow.status == "pending", DestinationRow.platform.in_(list(platforms)))
            )

    async def _enqueue(
        self,
        session: AsyncSession,
        destination: Destination,
        key: str,
        kind: OutboxKind,
        now: datetime,
        *,
        event_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> int:
        row = await _destination_row(session, destination, now)
        assert row is not None
        statement = (
            self._insert()(OutboxRow)
            .values(
                delivery_key=key,
                destination_id=row.id,
                kind=kind,
                event_id=event_id,
                payload=payload or {},
                status="pending",
                attempts=0,
                created_at=now,
                not_before=now,
            )
            .on_conflict_do_nothing(index_elements=["delivery_key"])
            .returning(OutboxRow.id)
        )
        return len((await session.execute(statement)).all())

    async def _entries(self, condition: Any, platforms: Sequence[str], limit: int) -> list[Any]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(OutboxRow, DestinationRow)
                .join(DestinationRow, DestinationRow.id == OutboxRow.destination_id)
                .where(
                    condition,
                    DestinationRow.disabled_reason.is_(None),
                    DestinationRow.platform.in_(list(platforms)),
                )
                .order_by(OutboxRow.id)
                .limit(limit)
            )
            return [_entry(row, destination) for row, destination in rows.all()]

    async def _stories_by_id(self, session: AsyncSession, ids: Sequence[int]) -> dict[int, Story]:
        rows = list(await session.scalars(select(StoryRow).where(StoryRow.id.in_(set(ids)))))
        return {story.id: story for story in await _stories(session, rows)}

    @staticmethod
    def _event(row: StoryEventRow, story: Story) -> StoryEvent:
        kind: EventKind = "new" if row.kind == "new" else "update"
        return StoryEvent(kind, story, tuple(_change(change) for change in row.changes))


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
