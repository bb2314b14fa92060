"""Row conversions and shared helpers of the newsdesk repositories (internal to storage)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.stories import Destination, FactChange, Quote, Source, Story, distinct_sources
from bot.delivery.records import destination_key
from bot.storage.tables import (
    DestinationRow,
    FeedOwnerRow,
    ItemRow,
    StoryChangeRow,
    StoryRow,
    StorySourceRow,
)
from bot.stories.cluster import Report, draft
from bot.stories.facts import facts_from_json

Readers = Collection[str] | None
"""The feed owners whose reports are shown (bot.core.tenancy.readers_of); None: all."""


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


def report_of(row: StorySourceRow) -> Report:
    """A stored story source as the report clustering and drafting work on."""
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
        quotes=quotes_of(row.quotes),
        signature=bytes(row.signature),
        terms=frozenset(row.terms or ()),
    )


def read_by(readers: Collection[str]) -> Any:
    """The ids of items from feeds that one of ``readers`` owns (a subquery)."""
    return (
        select(ItemRow.id)
        .join(FeedOwnerRow, FeedOwnerRow.feed_id == ItemRow.feed_id)
        .where(FeedOwnerRow.owner.in_(list(readers)))
    )


def visible_to(readers: Readers) -> Any:
    """A condition on StoryRow: the story has a report that ``readers`` see."""
    if readers is None:
        return StoryRow.id.is_not(None)
    return StoryRow.id.in_(
        select(StorySourceRow.story_id).where(StorySourceRow.item_id.in_(read_by(readers)))
    )


async def load_stories(
    session: AsyncSession,
    rows: Sequence[StoryRow],
    readers: Readers = None,
    words: Sequence[str] = (),
) -> list[Story]:
    """Whole stories (sources and change history) for story rows, in the rows' order.

    With ``readers``, each story as their reports alone tell it: other reports, the facts
    only they gave and their changes are left out, and a story none of them reported is
    dropped; so is a partly seen story whose own text lacks one of ``words``.
    """
    ids = [row.id for row in rows]
    if not ids:
        return []
    reports: dict[int, list[StorySourceRow]] = defaultdict(list)
    for source in await session.scalars(
        select(StorySourceRow).where(StorySourceRow.story_id.in_(ids)).order_by(StorySourceRow.id)
    ):
        reports[source.story_id].append(source)
    changes: dict[int, list[StoryChangeRow]] = defaultdict(list)
    for change in await session.scalars(
        select(StoryChangeRow).where(StoryChangeRow.story_id.in_(ids)).order_by(StoryChangeRow.id)
    ):
        changes[change.story_id].append(change)
    seen: set[int] | None = None
    if readers is not None:
        items = [source.item_id for story in reports.values() for source in story]
        seen = set(await session.scalars(read_by(readers).where(ItemRow.id.in_(items))))
    stories = []
    for row in rows:
        shown = [s for s in reports[row.id] if seen is None or s.item_id in seen]
        if seen is not None and not shown:
            continue
        if len(shown) == len(reports[row.id]):
            stories.append(_story(row, shown, changes[row.id]))
            continue
        assert seen is not None
        partial = _partial(row, shown, [c for c in changes[row.id] if c.item_id in seen])
        if all(word.casefold() in partial[1] for word in words):
            stories.append(partial[0])
    return stories


def _sources(rows: Sequence[StorySourceRow]) -> tuple[Source, ...]:
    return distinct_sources(
        [Source(row.item_id, row.title, row.link, row.outlet, row.published) for row in rows]
    )


def _changes(rows: Sequence[StoryChangeRow]) -> tuple[FactChange, ...]:
    return tuple(FactChange(at=c.at, field=c.field, old=c.old, new=c.new) for c in rows)


def _story(
    row: StoryRow, sources: Sequence[StorySourceRow], changes: Sequence[StoryChangeRow]
) -> Story:
    return Story(
        id=row.id,
        title=row.title,
        summary=row.summary,
        facts=facts_from_json(row.facts),
        score=row.score,
        reasons=tuple(row.reasons),
        sources=_sources(sources),
        first_seen=row.first_seen,
        updated_at=row.updated_at,
        changes=_changes(changes),
        quotes=quotes_of(row.quotes),
    )


def _partial(
    row: StoryRow, sources: Sequence[StorySourceRow], changes: Sequence[StoryChangeRow]
) -> tuple[Story, str]:
    """The story drafted again from the reports shown, and its search text."""
    shown = draft([report_of(source) for source in sources])
    story = Story(
        id=row.id,
        title=shown.title,
        summary=shown.summary,
        facts=shown.facts,
        score=shown.score,
        reasons=shown.reasons,
        sources=_sources(sources),
        first_seen=min(source.added_at for source in sources),
        updated_at=max(source.added_at for source in sources),
        changes=_changes(changes),
        quotes=shown.quotes,
    )
    return story, shown.search_text


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
