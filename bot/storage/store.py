"""The storage interface the rest of newsbot uses; no SQL leaves this module."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
)
from bot.core.feedurl import clean_url, identity
from bot.core.models import FeedInfo, NewItem, ParsedItem, Validators
from bot.core.tenancy import OPERATOR, sees
from bot.settings import mask_url_password
from bot.storage.db import (
    create_engine,
    describe_database_error,
    is_disk_full,
    migrate,
    record_then_write,
    storage_problem,
)
from bot.storage.direct import FEEDS_QUERY, OWNERS_QUERY, feed_infos
from bot.storage.groupcommit import GroupCommit
from bot.storage.tables import (
    AnalysisRow,
    FeedOwnerRow,
    FeedRow,
    ItemRow,
    LeaseRow,
    MetaRow,
    UTCDateTime,
)

log = logging.getLogger(__name__)

FEEDS = cast("Table", FeedRow.__table__)
ITEMS = cast("Table", ItemRow.__table__)
LEASES = cast("Table", LeaseRow.__table__)

# Longer values are not kept (a URL index entry must fit; validators are optional anyway).
MAX_FEED_URL = 2048
_MAX_ETAG = 500
_MAX_LAST_MODIFIED = 100
# Long enough for a fetch, a parse and the write; a dead replica's feeds wait no longer.
DEFAULT_LEASE = timedelta(minutes=2)
# How long a SQLite poll write without items waits for others to share its commit.
POLL_LINGER_S = 0.01


class DuplicateFeed(InvalidInput):
    """The feed (under this or another spelling of its URL) is already watched."""


def _replica_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def ended(owner: str) -> bool:
    """True when the lease holder ``owner`` is a process of this host that no longer runs.

    A ``kill -9`` leaves its leases behind; waiting them out would hold a restarted bot's
    polls (and, on PostgreSQL, its chat connections) for minutes. Another host's replica, or
    a process still running, is never judged ended: its lease runs out as before.
    """
    host, _, rest = owner.partition(":")
    pid, _, _ = rest.partition(":")
    if host != socket.gethostname()[:60] or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # e.g. another user's process: alive
    return False


class Store:
    """Feeds and items on SQLite or PostgreSQL, behind one interface."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Names this process in feed and named leases (replicas on one PostgreSQL database).
        self.replica = _replica_name()
        self._problem: str | None = None
        self._where = engine.url.render_as_string(hide_password=True)
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer per file. Queueing our own writers here is cheaper than letting
        # them meet SQLite's busy handler, which sleeps and retries while holding a pool slot.
        self._write_lock: contextlib.AbstractAsyncContextManager[object] = (
            asyncio.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        # Statements of the polling hot path are built once so SQLAlchemy's cache serves them.
        postgres = engine.dialect.name == "postgresql"
        self._feeds_for_items = _FEEDS_FOR_ITEMS.with_for_update() if postgres else _FEEDS_FOR_ITEMS
        # SQLite pays an fsync per commit and has one writer: concurrent polls share commits
        # and bulk statements. PostgreSQL already groups concurrent commits in its WAL writer.
        self._group: GroupCommit[AsyncConnection, _Poll, list[NewItem]] | None = (
            None
            if postgres
            else GroupCommit(self._writing, self._record_polls, linger=POLL_LINGER_S)
        )
        self._insert_items_statement = (
            (pg_insert if postgres else sqlite_insert)(ITEMS)
            .on_conflict_do_nothing(index_elements=["feed_id", "key"])
            .returning(ITEMS.c.id, ITEMS.c.feed_id, ITEMS.c.key, ITEMS.c.pending)
        )

    @property
    def storage_problem(self) -> str | None:
        """Why the last write failed (e.g. a full disk), or None once writes work (for /healthz)."""
        return self._problem

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction on a Core connection, queued behind our other writers."""
        async with self._failures(), self._write_lock, self.engine.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def _session_writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction on an ORM session, queued behind our other writers."""
        async with self._failures(), self._write_lock, self._sessions.begin() as session:
            yield session

    @contextlib.asynccontextmanager
    async def _failures(self) -> AsyncIterator[None]:
        """Turn a database failure into one sentence; log it once when writes start failing.

        SQLAlchemy's own message carries the statement and its parameters (25 KB for a batch
        of items), so it never reaches a log line above DEBUG.
        """
        try:
            yield
        except (DBAPIError, OSError) as exc:
            if isinstance(exc, IntegrityError):
                raise
            problem = storage_problem(exc, self._where)
            if problem != self._problem:
                log.error("storage is failing: %s; newsbot keeps retrying", problem)
            else:
                log.debug("storage still failing: %s", problem, exc_info=True)
            self._problem = problem
            raise StorageUnavailable(problem) from exc
        if self._problem is not None:
            log.info("storage works again (it failed with: %s)", self._problem)
            self._problem = None

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
        """Finish the writes in flight, then release every connection."""
        if self._group is not None:
            await self._group.wait_idle()
        await self.engine.dispose()

    # feeds

    async def add_feed(
        self,
        url: str,
        now: datetime,
        title: str | None = None,
        interval_seconds: int | None = None,
        *,
        owner: str = OPERATOR,
    ) -> FeedInfo:
        """Subscribe ``owner`` to a feed; raises DuplicateFeed when it already sees that feed.

        The URL is stored in its clean form and identified by ``bot.core.feedurl.identity``, so
        another spelling of a watched feed is the same feed. A feed another owner already has
        gains an owner and is still fetched once.
        """
        address, key = clean_url(url), identity(url)
        for attempt in range(2):
            try:
                async with self._session_writing() as session:
                    return await self._subscribe(
                        session,
                        address=address,
                        key=key,
                        now=now,
                        title=title,
                        interval_seconds=interval_seconds,
                        owner=owner,
                    )
            except IntegrityError:
                # Another writer added the same feed at the same moment: it exists now.
                if attempt:
                    raise DuplicateFeed(f"{address} is already watched") from None
        raise AssertionError("unreachable")

    async def _subscribe(
        self,
        session: AsyncSession,
        *,
        address: str,
        key: str,
        now: datetime,
        title: str | None,
        interval_seconds: int | None,
        owner: str,
    ) -> FeedInfo:
        row = await session.scalar(select(FeedRow).where(FeedRow.url_key == key))
        if row is None:
            row = FeedRow(
                url=address,
                url_key=key,
                title=title,
                created_at=now,
                next_poll_at=now,
                interval_seconds=interval_seconds,
                consecutive_failures=0,
                seeded=False,
            )
            session.add(row)
            await session.flush()
        owners = await _owners(session, [row.id])
        if owner in owners[row.id] or OPERATOR in owners[row.id]:
            shared = owner not in owners[row.id]
            where = " for every server and workspace by newsbot's operator" if shared else ""
            raise DuplicateFeed(f"{row.url} is already watched{where} (feed #{row.id})")
        session.add(FeedOwnerRow(feed_id=row.id, owner=owner, added_at=now))
        await session.flush()
        return _feed_info(row, (*owners[row.id], owner))

    async def list_feeds(self, owner: str | None = None) -> list[FeedInfo]:
        """Every feed, oldest first; with ``owner``, only the feeds that owner sees."""
        async with self._sessions() as session:
            feeds = (await session.execute(text(FEEDS_QUERY))).all()
            owners = (await session.execute(text(OWNERS_QUERY))).all()
            return feed_infos(feeds, owners, owner)

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

    async def remove_feed(self, feed_id: int, owner: str | None = None) -> FeedInfo:
        """Unsubscribe ``owner`` (None: every owner) from a feed; raises NotFound.

        The feed stops being polled, and its items are forgotten, once nobody owns it. A feed
        ``owner`` does not see is reported as not found, so its existence does not leak.
        """
        async with self._session_writing() as session:
            row = await session.get(FeedRow, feed_id)
            owners = (await _owners(session, [feed_id]))[feed_id] if row is not None else ()
            if row is None or (owner is not None and not sees(owner, owners)):
                raise NotFound(f"no feed with id {feed_id}: see the feed list")
            if owner is not None and owner not in owners:
                raise PermissionDenied(
                    f"feed #{feed_id} is provided for every server and workspace by newsbot's "
                    "operator; only the operator can remove it (`newsbot feeds remove`)"
                )
            left = () if owner is None else tuple(o for o in owners if o != owner)
            info = _feed_info(row, left)
            if left:
                await session.execute(
                    delete(FeedOwnerRow).where(
                        FeedOwnerRow.feed_id == feed_id, FeedOwnerRow.owner == owner
                    )
                )
                return info
            await session.execute(delete(ItemRow).where(ItemRow.feed_id == feed_id))
            await session.delete(row)
            return info

    async def pollable_feeds(
        self, now: datetime, *, due_only: bool, lease: timedelta = DEFAULT_LEASE
    ) -> list[FeedInfo]:
        """Enabled feeds leased to this replica for ``lease``; with ``due_only`` only due ones.

        Without ``due_only`` (one manual cycle) feeds still waiting out a failure backoff or a
        Retry-After are left alone, so ``run --once`` stays polite too. A feed another live
        replica holds is left to it; a lease past its time is taken over.
        """
        if due_only:
            wanted = or_(FEEDS.c.next_poll_at.is_(None), FEEDS.c.next_poll_at <= now)
        else:
            wanted = or_(
                FEEDS.c.consecutive_failures == 0,
                FEEDS.c.next_poll_at.is_(None),
                FEEDS.c.next_poll_at <= now,
            )
        return await self._claim(and_(FEEDS.c.disabled_reason.is_(None), wanted), now, lease)

    async def claim_feed(
        self, feed_id: int, now: datetime, *, slack: timedelta, lease: timedelta
    ) -> FeedInfo | None:
        """Lease one enabled feed to this replica if it is due (within ``slack``) and free.

        ``slack`` is granted only to feeds without failures, so a failing feed's backoff holds.
        None means the feed is gone, disabled, not due, or being polled by another replica.
        """
        horizon = case((FEEDS.c.consecutive_failures == 0, now + slack), else_=now)
        due = or_(FEEDS.c.next_poll_at.is_(None), FEEDS.c.next_poll_at <= horizon)
        condition = and_(FEEDS.c.id == feed_id, FEEDS.c.disabled_reason.is_(None), due)
        claimed = await self._claim(condition, now, lease)
        return claimed[0] if claimed else None

    async def release_feed(self, feed_id: int) -> None:
        """Give up this replica's lease on a feed (a poll that ended without recording)."""
        async with self._writing() as conn:
            await conn.execute(
                update(FEEDS)
                .where(FEEDS.c.id == feed_id, FEEDS.c.lease_owner == self.replica)
                .values(lease_owner=None, lease_until=None)
            )

    async def _claim(self, condition: Any, now: datetime, lease: timedelta) -> list[FeedInfo]:
        """Lease the matching free feeds to this replica; other replicas' rows are skipped."""
        free = or_(
            FEEDS.c.lease_owner.is_(None),
            FEEDS.c.lease_owner == self.replica,
            FEEDS.c.lease_until.is_(None),
            FEEDS.c.lease_until < now,
        )
        query = select(FEEDS.c.id).where(condition, free).order_by(FEEDS.c.id)
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        async with self._writing() as conn:
            await self._free_ended_leases(conn, now)
            ids = list(await conn.scalars(query))
            if not ids:
                return []
            await conn.execute(
                update(FEEDS)
                .where(FEEDS.c.id.in_(ids))
                .values(lease_owner=self.replica, lease_until=now + lease)
            )
            rows = await conn.execute(select(FEEDS).where(FEEDS.c.id.in_(ids)).order_by(FEEDS.c.id))
            return [_feed_info(row) for row in rows]

    async def _free_ended_leases(self, conn: AsyncConnection, now: datetime) -> None:
        """Free the feeds leased to processes of this host that ended (``ended``)."""
        holders = await conn.scalars(
            select(FEEDS.c.lease_owner)
            .where(FEEDS.c.lease_owner != self.replica, FEEDS.c.lease_until >= now)
            .distinct()
        )
        gone = [owner for owner in holders if owner is not None and ended(owner)]
        if gone:
            log.info("taking over the feed leases of ended process(es) %s", ", ".join(gone))
            await conn.execute(
                update(FEEDS)
                .where(FEEDS.c.lease_owner.in_(gone))
                .values(lease_owner=None, lease_until=None)
            )

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

        On SQLite the transaction is shared with concurrent polls (``GroupCommit``); a poll
        that fails there is rerun alone, so it fails nobody else. Returns the items never seen
        before (see ``store_items``). A permanent redirect is adopted only here, after its
        target parsed, and only if no other feed has that URL.
        """

        poll = _Poll(
            _NewItems(feed_id, items, now, announce_first),
            next_poll_at=next_poll_at,
            validators=validators,
            title=title,
            new_url=new_url,
        )
        if self._group is not None:
            # Only a poll without items (a 304) waits to share its commit: it is cheap to
            # write, while one with new items has callers waiting to announce them.
            return await self._group.run(poll, patient=not items)
        async with self._writing() as conn:
            return (await self._record_polls(conn, [poll]))[0]

    async def _record_polls(
        self, conn: AsyncConnection, polls: Sequence[_Poll]
    ) -> list[list[NewItem]]:
        """Store the polls' new items and update their feeds, with a few bulk statements."""
        stored = await self._insert_items(conn, [poll.found for poll in polls])
        updates = [await self._polled(conn, poll) for poll in polls]
        await conn.execute(_POLLED, updates)
        return stored

    async def _polled(self, conn: AsyncConnection, poll: _Poll) -> dict[str, object]:
        """The feed row's new values after a successful poll (see ``_POLLED``)."""
        feed_id, validators, title, new_url = (
            poll.found.feed_id,
            poll.validators,
            poll.title,
            poll.new_url,
        )
        params: dict[str, object] = {
            "p_feed_id": feed_id,
            "p_etag": _fits(validators.etag, _MAX_ETAG),
            "p_last_modified": _fits(validators.last_modified, _MAX_LAST_MODIFIED),
            "p_now": poll.found.now,
            "p_next_poll_at": poll.next_poll_at,
            "p_title": title[:500] if title else None,
            "p_url": None,
            "p_url_key": None,
        }
        if new_url is not None and len(new_url) <= MAX_FEED_URL:
            key = identity(new_url)
            taken = await conn.scalar(
                select(FEEDS.c.id).where(
                    or_(FEEDS.c.url == new_url, FEEDS.c.url_key == key), FEEDS.c.id != feed_id
                )
            )
            if taken is None:
                params["p_url"], params["p_url_key"] = new_url, key
        return params

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
            row.lease_owner = row.lease_until = None
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

    @property
    def shared(self) -> bool:
        """True when other replicas may use this database (PostgreSQL; SQLite has one writer)."""
        return self.engine.dialect.name == "postgresql"

    async def hold_lease(self, name: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the named lease for this replica; False while another replica holds it."""
        insert = pg_insert if self.shared else sqlite_insert
        offer = insert(LEASES).values(name=name, owner=self.replica, until=now + ttl)
        async with self._writing() as conn:
            current = await conn.scalar(select(LEASES.c.owner).where(LEASES.c.name == name))
            free = [LEASES.c.owner == self.replica, LEASES.c.until < now]
            if current is not None and ended(current):
                free.append(LEASES.c.owner == current)  # its holder was killed: no need to wait
            statement = offer.on_conflict_do_update(
                index_elements=[LEASES.c.name],
                set_={"owner": offer.excluded.owner, "until": offer.excluded.until},
                where=or_(*free),
            ).returning(LEASES.c.owner)
            holder: str | None = await conn.scalar(statement)
            return holder == self.replica

    async def release_lease(self, name: str) -> None:
        """Give the named lease up so another replica takes it at once (a clean stop)."""
        async with self._writing() as conn:
            await conn.execute(
                delete(LEASES).where(LEASES.c.name == name, LEASES.c.owner == self.replica)
            )

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
            (stored,) = await self._insert_items(
                conn, [_NewItems(feed_id, items, now, announce_first)]
            )
            await conn.execute(_SEEDED, {"p_feed_id": feed_id})
            return stored

    async def _insert_items(
        self, conn: AsyncConnection, writes: Sequence[_NewItems]
    ) -> list[list[NewItem]]:
        """Each write's items never seen before, inserted; one result list per write."""
        wanted = [write.feed_id for write in writes if write.items]
        if len(set(wanted)) < len(wanted):
            # One feed twice in a batch: the second write must see the first one's items.
            return [(await self._insert_items(conn, [write]))[0] for write in writes]
        if not wanted:
            return [[] for _ in writes]
        feeds = {
            row.id: row
            for row in await conn.execute(self._feeds_for_items, {"p_feed_ids": sorted(wanted)})
        }
        for feed_id in wanted:
            if feed_id not in feeds:
                raise NotFound(f"no feed with id {feed_id}")
        known = await _seen(conn, [write for write in writes if write.items])
        fresh: list[list[ParsedItem]] = []
        rows: list[dict[str, object]] = []
        for write in writes:
            keys, links = known.get(write.feed_id, (set(), set()))
            new = _unseen(write.items, keys, links)
            fresh.append(new)
            if not new:
                continue
            # The first poll of a feed records everything and announces only the newest few.
            announce = len(new) if feeds[write.feed_id].seeded else write.announce_first
            rows.extend(
                {
                    "feed_id": write.feed_id,
                    "key": item.key,
                    "link": item.link,
                    "title": item.title,
                    "summary": item.summary,
                    "published": item.published,
                    "first_seen": write.now,
                    "pending": index < announce,
                }
                for index, item in enumerate(new)
            )
        if not rows:
            return [[] for _ in writes]
        result = await conn.execute(self._insert_items_statement, rows)
        inserted = {(feed_id, key): (item_id, pending) for item_id, feed_id, key, pending in result}
        return [
            [
                NewItem(
                    id=inserted[write.feed_id, item.key][0],
                    feed_id=write.feed_id,
                    feed_title=feeds[write.feed_id].title,
                    feed_url=feeds[write.feed_id].url,
                    link=item.link,
                    title=item.title,
                    summary=item.summary,
                    published=item.published,
                    first_seen=write.now,
                    pending=inserted[write.feed_id, item.key][1],
                )
                for item in new
                if (write.feed_id, item.key) in inserted
            ]
            for write, new in zip(writes, fresh, strict=True)
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

    async def record_announced(
        self, item_ids: Sequence[int], write: Callable[[], None] | None = None
    ) -> None:
        """Record these items as announced and, as the record commits, call ``write``: their
        output, prepared beforehand (``record_then_write``), so that a kill at any point
        leaves the items either pending (the next start announces them) or shown, never lost
        and never shown twice. Items announced already are not written again.
        """
        if not item_ids:
            return
        statement = update(ITEMS).where(ITEMS.c.id.in_(list(item_ids)), ITEMS.c.pending)
        async with self._failures(), self._write_lock:
            if write is not None:
                await record_then_write(self.engine, statement.values(pending=False), write)
                return
            async with self.engine.begin() as conn:
                await conn.execute(statement.values(pending=False))

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
    if is_disk_full(exc):
        return storage_problem(exc, where)
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
        f"cannot open the database {where} ({describe_database_error(exc)}): check that it is "
        "running and that NEWSBOT_DATABASE_URL is right"
    )


_FEEDS_FOR_ITEMS = select(FEEDS.c.id, FEEDS.c.seeded, FEEDS.c.title, FEEDS.c.url).where(
    FEEDS.c.id.in_(bindparam("p_feed_ids", expanding=True))
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
        url_key=func.coalesce(bindparam("p_url_key", type_=String()), FEEDS.c.url_key),
        # SET reads the row as it was, so a feed adopting a 301 keeps its first URL here.
        identity=func.coalesce(FEEDS.c.identity, FEEDS.c.url),
        lease_owner=None,
        lease_until=None,
    )
)
_SEEN = select(ITEMS.c.feed_id, ITEMS.c.key, ITEMS.c.link).where(
    ITEMS.c.feed_id.in_(bindparam("feed_ids", expanding=True)),
    or_(
        ITEMS.c.key.in_(bindparam("keys", expanding=True)),
        ITEMS.c.link.in_(bindparam("links", expanding=True)),
    ),
)


@dataclass(frozen=True, slots=True)
class _NewItems:
    """Items one poll found for one feed, to be stored if never seen before."""

    feed_id: int
    items: Sequence[ParsedItem]
    now: datetime
    announce_first: int


@dataclass(frozen=True, slots=True)
class _Poll:
    """One successful poll, as ``record_poll`` was given it."""

    found: _NewItems
    next_poll_at: datetime
    validators: Validators
    title: str | None
    new_url: str | None


async def _seen(
    conn: AsyncConnection, writes: Sequence[_NewItems]
) -> dict[int, tuple[set[str], set[str]]]:
    """Per feed, which of the writes' keys and links are already stored (one query per 500).

    A row matching another feed's key is kept too: it is only ever tested against its own
    feed's items, where it cannot match wrongly.
    """
    feed_ids = sorted({write.feed_id for write in writes})
    keys = sorted({item.key for write in writes for item in write.items})
    links = sorted({item.link for write in writes for item in write.items if item.link})
    known: dict[int, tuple[set[str], set[str]]] = {}
    for start in range(0, max(len(keys), len(links)), 500):
        params = {
            "feed_ids": feed_ids,
            "keys": keys[start : start + 500],
            "links": links[start : start + 500],
        }
        for feed_id, key, link in await conn.execute(_SEEN, params):
            feed_keys, feed_links = known.setdefault(feed_id, (set(), set()))
            feed_keys.add(key)
            if link:
                feed_links.add(link)
    return known


def _unseen(
    items: Sequence[ParsedItem], known_keys: set[str], known_links: set[str]
) -> list[ParsedItem]:
    """The items whose key and link are both unknown for the feed, first occurrence only."""
    known_keys, known_links = set(known_keys), set(known_links)
    fresh: list[ParsedItem] = []
    for item in items:
        if item.key in known_keys or (item.link and item.link in known_links):
            continue
        known_keys.add(item.key)
        if item.link:
            known_links.add(item.link)
        fresh.append(item)
    return fresh


def _fits(value: str | None, limit: int) -> str | None:
    """The value if it fits its column; an over-long validator is simply not sent back."""
    return value if value is None or len(value) <= limit else None


async def _owners(session: AsyncSession, feed_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Each feed's owners, in the order they subscribed."""
    found: dict[int, list[str]] = {feed_id: [] for feed_id in feed_ids}
    if feed_ids:
        query = (
            select(FeedOwnerRow.feed_id, FeedOwnerRow.owner)
            .where(FeedOwnerRow.feed_id.in_(list(feed_ids)))
            .order_by(FeedOwnerRow.added_at, FeedOwnerRow.owner)
        )
        for feed_id, owner in (await session.execute(query)).all():
            found[feed_id].append(owner)
    return {feed_id: tuple(owners) for feed_id, owners in found.items()}


def _feed_info(row: FeedRow | Row[Any], owners: Sequence[str] = ()) -> FeedInfo:
    return FeedInfo(
        id=row.id,
        url=row.url,
        identity=row.identity or row.url,
        title=row.title,
        consecutive_failures=row.consecutive_failures or 0,
        last_error=row.last_error,
        disabled_reason=row.disabled_reason,
        next_poll_at=row.next_poll_at,
        last_success_at=row.last_success_at,
        interval_seconds=row.interval_seconds,
        validators=Validators(etag=row.etag, last_modified=row.last_modified),
        owners=tuple(owners),
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
