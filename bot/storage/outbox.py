"""The outbox repository: story events waiting to be routed, rows through their lifecycle."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.stories import Destination, Digest, EventKind, Story, StoryEvent
from bot.core.tenancy import readers_of
from bot.delivery.records import OutboxEntry, OutboxKind, OutboxStatus, destination_key
from bot.storage.db import record_then_write
from bot.storage.rows import (
    Readers,
    Repository,
    change_of,
    destination_of,
    destination_row,
    load_stories,
)
from bot.storage.tables import DestinationRow, OutboxRow, StoryEventRow, StoryRow, SubscriptionRow

UNFINISHED = ("pending", "sending")


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
        destination=destination_of(destination),
        kind=cast("OutboxKind", row.kind),
        status=cast("OutboxStatus", row.status),
        attempts=row.attempts,
        created_at=row.created_at,
        claimed_at=row.claimed_at,
        not_before=row.not_before,
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


class OutboxRepository(Repository):
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

    async def event_as_seen(self, event_id: int, readers: Readers) -> StoryEvent | None:
        """The event with its story as ``readers`` see it; None when they do not see it."""
        async with self._sessions() as session:
            event = await session.get(StoryEventRow, event_id)
            if event is None:
                return None
            stories = await self._stories_by_id(session, [event.story_id], readers)
            return self._seen(event, stories[event.story_id]) if stories else None

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
                row = await destination_row(session, destination, None)
                if row is not None:
                    await session.execute(
                        update(SubscriptionRow)
                        .where(SubscriptionRow.destination_id == row.id)
                        .values(next_digest_at=next_digest_at, last_digest_at=scheduled_at)
                    )
            return inserted > 0

    async def lanes(self, platforms: Sequence[str]) -> list[int]:
        """Enabled destinations on these platforms with rows still to send (or in flight)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(OutboxRow.destination_id)
                .join(DestinationRow, DestinationRow.id == OutboxRow.destination_id)
                .where(
                    OutboxRow.status.in_(UNFINISHED),
                    DestinationRow.disabled_reason.is_(None),
                    DestinationRow.platform.in_(list(platforms)),
                )
                .group_by(OutboxRow.destination_id)
                .order_by(func.min(OutboxRow.id))
            )
            return list(rows)

    async def head(self, destination_id: int, settled: datetime) -> OutboxEntry | None:
        """The row a lane sends next: the oldest unfinished row of an enabled destination,
        after those a crash left in ``sending`` since ``settled`` (their posts may still be
        landing; later rows need not wait for them)."""
        landing = (OutboxRow.status == "sending") & (OutboxRow.claimed_at > settled)
        entries = await self._entries(
            (OutboxRow.destination_id == destination_id) & OutboxRow.status.in_(UNFINISHED),
            None,
            1,
            first=case((landing, 1), else_=0),
        )
        return entries[0] if entries else None

    async def claim(self, entry_id: int, now: datetime) -> bool:
        """Move an unfinished row to ``sending``, counting the attempt, before it is sent."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry_id, OutboxRow.status.in_(UNFINISHED))
                .values(status="sending", attempts=OutboxRow.attempts + 1, claimed_at=now)
            )
            return bool(getattr(result, "rowcount", 0))

    async def record_sent(
        self, entry_id: int, message_id: str, now: datetime, write: Callable[[], None]
    ) -> bool:
        """Mark an unfinished row sent and, as the record commits, call ``write``: the row's
        output, prepared beforehand, that cannot be read back (``record_then_write``), so a
        kill at any point leaves the row either to send again or written, never lost and
        never written twice. False, with nothing written, when the row was finished already.
        """
        return await record_then_write(
            self.engine,
            update(OutboxRow)
            .where(OutboxRow.id == entry_id, OutboxRow.status.in_(UNFINISHED))
            .values(
                status="sent",
                attempts=OutboxRow.attempts + 1,
                claimed_at=now,
                message_id=message_id[:200],
                sent_at=now,
                last_error=None,
            ),
            write,
        )

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
        """The entry with its story event or digest loaded (None when its story is gone), each
        story as the destination sees it."""
        readers = readers_of(entry.destination)
        async with self._sessions() as session:
            row = await session.get(OutboxRow, entry.id)
            if row is None:
                return None
            if row.kind == "alert":
                event = await session.get(StoryEventRow, row.event_id) if row.event_id else None
                if event is None:
                    return None
                stories = await self._stories_by_id(session, [event.story_id], readers)
                if event.story_id not in stories:
                    return None
                return replace(entry, event=self._seen(event, stories[event.story_id]))
            payload = row.payload
            story_ids = [int(i) for i in payload.get("story_ids") or []]
            by_id = await self._stories_by_id(session, story_ids, readers)
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
                    destination=destination_of(dest),
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
        row = await destination_row(session, destination, now)
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

    async def _entries(
        self, condition: Any, platforms: Sequence[str] | None, limit: int, first: Any = None
    ) -> list[OutboxEntry]:
        """Rows with their destinations, oldest first (``first`` sorts before the age)."""
        query = (
            select(OutboxRow, DestinationRow)
            .join(DestinationRow, DestinationRow.id == OutboxRow.destination_id)
            .where(condition, DestinationRow.disabled_reason.is_(None))
        )
        if platforms is not None:
            query = query.where(DestinationRow.platform.in_(list(platforms)))
        async with self._sessions() as session:
            order = [OutboxRow.id] if first is None else [first, OutboxRow.id]
            rows = await session.execute(query.order_by(*order).limit(limit))
            return [_entry(row, destination) for row, destination in rows.all()]

    async def _stories_by_id(
        self, session: AsyncSession, ids: Sequence[int], readers: Readers = None
    ) -> dict[int, Story]:
        rows = list(await session.scalars(select(StoryRow).where(StoryRow.id.in_(set(ids)))))
        return {story.id: story for story in await load_stories(session, rows, readers)}

    @classmethod
    def _seen(cls, row: StoryEventRow, story: Story) -> StoryEvent:
        """The event as told to readers whose view is ``story``: a story they read only
        through the event's own reports is new to them, whatever it is to others."""
        event = cls._event(row, story)
        caused = set(event.item_ids or ())
        if event.kind == "update" and caused and {s.item_id for s in story.sources} <= caused:
            return replace(event, kind="new", changes=())
        return event

    @staticmethod
    def _event(row: StoryEventRow, story: Story) -> StoryEvent:
        kind: EventKind = "new" if row.kind == "new" else "update"
        changes = tuple(change_of(change) for change in row.changes)
        item_ids = None if row.item_ids is None else tuple(int(i) for i in row.item_ids)
        return StoryEvent(kind, story, changes, item_ids)
