"""The storage interface the rest of newsbot uses; no SQL leaves this module."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.errors import NewsbotError, NotFound, StorageUnavailable
from bot.core.models import FeedInfo, NewItem, ParsedItem, Validators
from bot.settings import mask_url_password
from bot.storage.db import create_engine, migrate
from bot.storage.tables import AnalysisRow, FeedRow, ItemRow, MetaRow, UTCDateTime

FEEDS = cast("Table", FeedRow.__table__)
ITEMS = cast("Table", ItemRow.__table__)


class DuplicateFeed(NewsbotError):
    """The feed URL is already watched."""


class Store:
    """Feeds and items on SQLite or PostgreSQL, behind one interface."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer per file. Queueing our own writers here is cheaper than letting
        # them meet SQLite's busy handler, which sleeps and retries while holding a pool slot.
        self._write_lock: contextlib.AbstractAsyncContextManager[object] = (
            asyncio.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        # Statements of the polling hot path are built once so SQLAlchemy's cache serves them.
        postgres = engine.dialect.name == "postgresql"
        self._feed_for_items = _FEED_FOR_ITEMS.with_for_update() if postgres else _FEED_FOR_ITEMS
        self._insert_items_statement = (
            (pg_insert if postgres else sqlite_insert)(ITEMS)
            .on_conflict_do_nothing(index_elements=["feed_id", "key"])
            .returning(ITEMS.c.id, ITEMS.c.key, ITEMS.c.pending)
        )

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction on a Core connection, queued behind our other writers."""
        async with self._write_lock, self.engine.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def _session_writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction on an ORM session, queued behind our other writers."""
        async with self._write_lock, self._sessions.begin() as session:
            yield session

    @classmethod
    async def open(cls, url: str) -> Store:
        """Create the engine and apply pending migrations."""
        engine = create_engine(url)
        try:
            await migrate(engine)
        except (OSError, SQLAlchemyError) as exc:
            await engine.dispose()
            raise StorageUnavailable(_open_failure(url, exc)) from exc
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    async def close(self) -> None:
        """Release every connection."""
        await self.engine.dispose()

    # feeds

    async def add_feed(
        self,
        url: str,
        now: datetime,
        title: str | None = None,
        interval_seconds: int | None = None,
    ) -> FeedInfo:
        """Watch a new URL; raises DuplicateFeed when it is already watched."""
        async with self._session_writing() as session:
            row = FeedRow(
                url=url,
                title=title,
                created_at=now,
                next_poll_at=now,
                interval_seconds=interval_seconds,
                consecutive_failures=0,
                seeded=False,
            )
            session.add(row)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise DuplicateFeed(f"{url} is already watched") from exc
            return _feed_info(row)

    async def list_feeds(self) -> list[FeedInfo]:
        """Every feed, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(select(FeedRow).order_by(FeedRow.id))
            return [_feed_info(row) for row in rows]

    async def feed_count(self) -> int:
        """How many feeds exist (to know whether defaults must be loaded)."""
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count(FeedRow.id))) or 0)

    async def get_feed(self, feed_id: int) -> FeedInfo:
        """One feed by id; raises NotFound."""
        async with self._sessions() as session:
            row = await session.get(FeedRow, feed_id)
            if row is None:
                raise NotFound(f"no feed with id {feed_id}: see `newsbot feeds list`")
            return _feed_info(row)

    async def remove_feed(self, feed_id: int) -> FeedInfo:
        """Stop watching a feed and forget its items; raises NotFound."""
        async with self._session_writing() as session:
            row = await session.get(FeedRow, feed_id)
            if row is None:
                raise NotFound(f"no feed with id {feed_id}: see `newsbot feeds list`")
            info = _feed_info(row)
            await session.execute(delete(ItemRow).where(ItemRow.feed_id == feed_id))
            await session.delete(row)
            return info

    async def pollable_feeds(self, now: datetime, *, due_only: bool) -> list[FeedInfo]:
        """Enabled feeds; with ``due_only`` those whose next poll time has come.

        Without ``due_only`` (one manual cycle) feeds still waiting out a failure backoff or a
        Retry-After are left alone, so ``run --once`` stays polite too.
        """
        query = select(FeedRow).where(FeedRow.disabled_reason.is_(None))
        if due_only:
            query = query.where((FeedRow.next_poll_at.is_(None)) | (FeedRow.next_poll_at <= now))
        else:
            query = query.where(
                (FeedRow.consecutive_failures == 0)
                | (FeedRow.next_poll_at.is_(None))
                | (FeedRow.next_poll_at <= now)
            )
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(FeedRow.id))
            return [_feed_info(row) for row in rows]

    async def record_success(
        self,
        feed_id: int,
        *,
        now: datetime,
        next_poll_at: datetime,
        validators: Validators,
        title: str | None = None,
        new_url: str | None = None,
    ) -> None:
        """A poll worked (200 or 304): reset failures, keep validators, maybe adopt a 301."""
        await self.record_poll(
            feed_id,
            now=now,
            next_poll_at=next_poll_at,
            validators=validators,
            title=title,
            new_url=new_url,
        )

    async def record_poll(
        self,
        feed_id: int,
        *,
        now: datetime,
        next_poll_at: datetime,
        validators: Validators,
        items: Sequence[ParsedItem] = (),
        announce_first: int = 0,
        title: str | None = None,
        new_url: str | None = None,
    ) -> list[NewItem]:
        """One successful poll in one transaction: new items stored, the feed row updated.

        Returns the items never seen before (see ``store_items``). A permanent redirect is
        adopted only here, after its target parsed, and only if no other feed has that URL.
        """
        async with self._writing() as conn:
            stored: list[NewItem] = []
            if items:
                stored = await self._insert_items(conn, feed_id, items, now, announce_first)
            params: dict[str, object] = {
                "p_feed_id": feed_id,
                "p_etag": validators.etag,
                "p_last_modified": validators.last_modified,
                "p_now": now,
                "p_next_poll_at": next_poll_at,
                "p_title": title[:500] if title else None,
                "p_url": None,
            }
            if new_url is not None:
                taken = await conn.scalar(select(FEEDS.c.id).where(FEEDS.c.url == new_url))
                params["p_url"] = new_url if taken is None else None
            await conn.execute(_POLLED, params)
        return stored

    async def record_failure(
        self,
        feed_id: int,
        *,
        now: datetime,
        error: str,
        next_poll_at: datetime,
        max_failures: int,
    ) -> FeedInfo:
        """A poll failed: count it, schedule the retry, disable at the threshold (once)."""
        async with self._session_writing() as session:
            row = await session.get(FeedRow, feed_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no feed with id {feed_id}")
            row.consecutive_failures += 1
            row.last_error = error[:1000]
            row.last_polled_at = now
            row.next_poll_at = next_poll_at
            if row.consecutive_failures >= max_failures and row.disabled_reason is None:
                row.disabled_reason = (
                    f"disabled after {row.consecutive_failures} consecutive failures; "
                    f"last error: {error}"
                )[:1000]
            return _feed_info(row)

    async def enable_feed(self, feed_id: int, now: datetime) -> FeedInfo:
        """Re-enable a disabled feed and poll it at once."""
        async with self._session_writing() as session:
            row = await session.get(FeedRow, feed_id)
            if row is None:
                raise NotFound(f"no feed with id {feed_id}: see `newsbot feeds list`")
            row.disabled_reason = None
            row.consecutive_failures = 0
            row.next_poll_at = now
            return _feed_info(row)

    async def get_meta(self, key: str) -> str | None:
        """A fact about this installation, or None."""
        async with self._sessions() as session:
            row = await session.get(MetaRow, key)
            return None if row is None else row.value

    async def set_meta(self, key: str, value: str) -> None:
        """Record a fact about this installation."""
        async with self._session_writing() as session:
            await session.merge(MetaRow(key=key, value=value))

    # items

    async def store_items(
        self, feed_id: int, items: Sequence[ParsedItem], now: datetime, *, announce_first: int
    ) -> list[NewItem]:
        """Insert the items never seen before and return them, ``pending`` if to be announced.

        An item counts as seen when its key or its link is already stored for the feed, so a
        changed GUID with the same link, or a re-emitted old item, is not new. The first poll
        of a feed records everything and announces only the ``announce_first`` newest.
        """
        async with self._writing() as conn:
            return await self._insert_items(conn, feed_id, items, now, announce_first)

    async def _insert_items(
        self,
        conn: AsyncConnection,
        feed_id: int,
        items: Sequence[ParsedItem],
        now: datetime,
        announce_first: int,
    ) -> list[NewItem]:
        feed = (await conn.execute(self._feed_for_items, {"p_feed_id": feed_id})).one_or_none()
        if feed is None:
            raise NotFound(f"no feed with id {feed_id}")
        if not feed.seeded:
            await conn.execute(_SEEDED, {"p_feed_id": feed_id})
        fresh = await _unseen(conn, feed_id, items)
        if not fresh:
            return []
        announce = len(fresh) if feed.seeded else announce_first
        rows = [
            {
                "feed_id": feed_id,
                "key": item.key,
                "link": item.link,
                "title": item.title,
                "summary": item.summary,
                "published": item.published,
                "first_seen": now,
                "pending": index < announce,
            }
            for index, item in enumerate(fresh)
        ]
        result = await conn.execute(self._insert_items_statement, rows)
        inserted = {key: (item_id, pending) for item_id, key, pending in result}
        return [
            NewItem(
                id=inserted[item.key][0],
                feed_id=feed_id,
                feed_title=feed.title,
                feed_url=feed.url,
                link=item.link,
                title=item.title,
                summary=item.summary,
                published=item.published,
                first_seen=now,
                pending=inserted[item.key][1],
            )
            for item in fresh
            if item.key in inserted
        ]

    async def pending_items(self, limit: int = 500) -> list[NewItem]:
        """Items stored but not yet announced (e.g. the bot stopped in between)."""
        query = (
            select(ItemRow, FeedRow, AnalysisRow.data)
            .join(FeedRow, FeedRow.id == ItemRow.feed_id)
            .outerjoin(AnalysisRow, AnalysisRow.item_id == ItemRow.id)
            .where(ItemRow.pending.is_(True))
            .order_by(ItemRow.id)
            .limit(limit)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
            return [_new_item_from_row(item, feed, data) for item, feed, data in rows]

    async def save_analyses(
        self, analyses: Sequence[tuple[int, dict[str, Any]]], now: datetime
    ) -> None:
        """Keep the extractor's verdict per item (re-analysis replaces the old one)."""
        if not analyses:
            return
        async with self._session_writing() as session:
            for item_id, data in analyses:
                await session.merge(
                    AnalysisRow(
                        item_id=item_id,
                        is_summit=bool(data.get("is_summit")),
                        score=float(data.get("score") or 0.0),
                        data=data,
                        created_at=now,
                    )
                )

    async def analysis_of(self, item_id: int) -> dict[str, Any] | None:
        """The stored analysis of one item, or None."""
        async with self._sessions() as session:
            row = await session.get(AnalysisRow, item_id)
            return None if row is None else dict(row.data)

    async def mark_announced(self, item_ids: Sequence[int]) -> None:
        """Record that these items reached the sinks."""
        if not item_ids:
            return
        async with self._session_writing() as session:
            await session.execute(
                update(ItemRow).where(ItemRow.id.in_(list(item_ids))).values(pending=False)
            )

    async def item_count(self, feed_id: int | None = None) -> int:
        """How many items are stored, overall or for one feed."""
        query = select(func.count(ItemRow.id))
        if feed_id is not None:
            query = query.where(ItemRow.feed_id == feed_id)
        async with self._sessions() as session:
            return int(await session.scalar(query) or 0)


def _open_failure(url: str, exc: Exception) -> str:
    """One sentence saying why the database did not open and what to do about it."""
    where = mask_url_password(url)
    if url.startswith("sqlite"):
        text = str(exc).lower()
        if "not a database" in text or "malformed" in text:
            return (
                f"the SQLite database {where} is damaged or not a database: restore it from a "
                "backup, or move the file away to start with an empty one"
            )
        if "readonly" in text or "unable to open" in text or isinstance(exc, PermissionError):
            return (
                f"cannot write the SQLite database {where} or its directory: give the user "
                "running newsbot write access (chown) or set NEWSBOT_DATABASE_URL elsewhere"
            )
        return (
            f"cannot open the SQLite database {where} ({type(exc).__name__}): check the file "
            "and its directory, or rerun with --log-level DEBUG for the details"
        )
    return (
        f"cannot open the database {where} ({type(exc).__name__}): check that it is "
        "running and that NEWSBOT_DATABASE_URL is right"
    )


_FEED_FOR_ITEMS = select(FEEDS.c.seeded, FEEDS.c.title, FEEDS.c.url).where(
    FEEDS.c.id == bindparam("p_feed_id")
)
_SEEDED = update(FEEDS).where(FEEDS.c.id == bindparam("p_feed_id")).values(seeded=True)
_POLLED = (
    update(FEEDS)
    .where(FEEDS.c.id == bindparam("p_feed_id"))
    .values(
        seeded=True,
        etag=bindparam("p_etag"),
        last_modified=bindparam("p_last_modified"),
        last_polled_at=bindparam("p_now", type_=UTCDateTime()),
        last_success_at=bindparam("p_now", type_=UTCDateTime()),
        next_poll_at=bindparam("p_next_poll_at", type_=UTCDateTime()),
        consecutive_failures=0,
        last_error=None,
        # A title, once known (given with `feeds add --title` or first parsed), is kept.
        title=func.coalesce(FEEDS.c.title, bindparam("p_title", type_=String())),
        url=func.coalesce(bindparam("p_url", type_=String()), FEEDS.c.url),
    )
)
_SEEN = select(ITEMS.c.key, ITEMS.c.link).where(
    ITEMS.c.feed_id == bindparam("feed_id"),
    or_(
        ITEMS.c.key.in_(bindparam("keys", expanding=True)),
        ITEMS.c.link.in_(bindparam("links", expanding=True)),
    ),
)


async def _unseen(
    conn: AsyncConnection, feed_id: int, items: Sequence[ParsedItem]
) -> list[ParsedItem]:
    """The items whose key and link are both unknown for the feed, first occurrence only."""
    keys = sorted({item.key for item in items})
    links = sorted({item.link for item in items if item.link})
    known_keys: set[str] = set()
    known_links: set[str] = set()
    for start in range(0, max(len(keys), len(links)), 500):
        params = {
            "feed_id": feed_id,
            "keys": keys[start : start + 500],
            "links": links[start : start + 500],
        }
        for key, link in await conn.execute(_SEEN, params):
            known_keys.add(key)
            if link:
                known_links.add(link)
    fresh: list[ParsedItem] = []
    for item in items:
        if item.key in known_keys or (item.link and item.link in known_links):
            continue
        known_keys.add(item.key)
        if item.link:
            known_links.add(item.link)
        fresh.append(item)
    return fresh


def _feed_info(row: FeedRow) -> FeedInfo:
    return FeedInfo(
        id=row.id,
        url=row.url,
        title=row.title,
        consecutive_failures=row.consecutive_failures or 0,
        last_error=row.last_error,
        disabled_reason=row.disabled_reason,
        next_poll_at=row.next_poll_at,
        last_success_at=row.last_success_at,
        interval_seconds=row.interval_seconds,
        validators=Validators(etag=row.etag, last_modified=row.last_modified),
    )


def _new_item_from_row(item: ItemRow, feed: FeedRow, data: dict[str, Any] | None) -> NewItem:
    return NewItem(
        id=item.id,
        feed_id=feed.id,
        feed_title=feed.title,
        feed_url=feed.url,
        link=item.link,
        title=item.title,
        summary=item.summary,
        published=item.published,
        first_seen=item.first_seen,
        pending=item.pending,
        analysis=None if data is None else dict(data),
    )
