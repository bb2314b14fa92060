"""Row conversions and shared helpers of the newsdesk repositories (internal to storage)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.stories import Destination, FactChange, Quote, Source, Story, distinct_sources
from bot.delivery.records import destination_key
from bot.storage.tables import DestinationRow, StoryChangeRow, StoryRow, StorySourceRow
from bot.stories.facts import facts_from_json


class Repository:
    """Base of the newsdesk repositories: one engine, one session factory."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    def _insert(self) -> Any:
        return pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert


def quotes_json(quotes: Sequence[Quote]) -> list[dict[str, str]]:
    """Quotes as stored."""
    return [{"speaker": quote.speaker, "text": quote.text} for quote in quotes]


def quotes_of(data: Sequence[dict[str, str]]) -> tuple[Quote, ...]:
    """Quotes back from storage."""
    return tuple(Quote(speaker=q.get("speaker", ""), text=q.get("text", "")) for q in data)


def change_json(change: FactChange) -> dict[str, Any]:
    """A fact change as stored in an event."""
    return {
        "at": change.at.isoformat(),
        "field": change.field,
        "old": change.old,
        "new": change.new,
    }


def change_of(data: dict[str, Any]) -> FactChange:
    """A fact change back from an event."""
    return FactChange(
        at=datetime.fromisoformat(data["at"]), field=data["field"], old=data["old"], new=data["new"]
    )


async def load_stories(session: AsyncSession, rows: Sequence[StoryRow]) -> list[Story]:
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
            sources=distinct_sources(sources[row.id]),
            first_seen=row.first_seen,
            updated_at=row.updated_at,
            changes=tuple(changes[row.id]),
            quotes=quotes_of(row.quotes),
        )
        for row in rows
    ]


def destination_of(row: DestinationRow) -> Destination:
    """The destination a row names."""
    return Destination(row.platform, row.channel_id, row.workspace_id)


async def destination_row(
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
