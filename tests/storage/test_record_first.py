"""Output nobody can read back (the terminal) is written at the instant its record commits.

A PostgreSQL commit is visible to other sessions before its answer reaches the bot. Printing
after the answer loses an item to a kill in that gap (the next start sees it announced);
printing before COMMIT is sent repeats it. A deferred trigger slows each commit down by a
second so the order can be observed from another connection, asked from another thread while
the write holds the event loop. On SQLite the write follows the commit in the driver's thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import asyncpg
import pytest

from bot.core.errors import StorageUnavailable
from bot.core.models import ParsedItem
from bot.core.stories import Destination
from bot.delivery.outbox import Outbox
from bot.storage.store import Store
from bot.storage.urls import sqlite_path
from tests.delivery.fakes import FakeChat, Posted
from tests.delivery.rig import Rig
from tests.stories.helpers import KIM, TRUMP, analysis

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SLOW_COMMIT = """
CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON items
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON outbox
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
"""
FAILING_COMMIT = """
CREATE FUNCTION failing_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'commit refused by the test'; END $$;
CREATE CONSTRAINT TRIGGER failing_commit AFTER UPDATE ON items
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION failing_commit();
"""
COMMITTING = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COMMIT%'"


def dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


def committing_now(database_url: str) -> int:
    """How many COMMITs PostgreSQL is running, asked from another thread and loop."""

    async def ask() -> int:
        connection = await asyncpg.connect(dsn(database_url))
        try:
            return int(await connection.fetchval(COMMITTING))
        finally:
            await connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, ask()).result(timeout=60)


async def one_pending(store: Store) -> int:
    feed = await store.add_feed("https://a.example/feed", NOW)
    await store.store_items(feed.id, [], NOW, announce_first=0)
    item = ParsedItem(key="g:1", link="https://a.example/1", title="t", summary="s", published=None)
    fresh = await store.store_items(feed.id, [item], NOW, announce_first=0)
    return fresh[0].id


@pytest.fixture
async def postgres(store: Store, database_url: str) -> asyncpg.Connection:
    if not database_url.startswith("postgresql"):
        pytest.skip("the commit order only differs on PostgreSQL")
    watcher = await asyncpg.connect(dsn(database_url))
    yield watcher
    await watcher.close()


async def test_the_write_runs_while_the_commit_is_in_flight(
    store: Store, postgres: asyncpg.Connection, database_url: str
) -> None:
    item_id = await one_pending(store)
    await postgres.execute(SLOW_COMMIT)
    seen: list[int] = []
    await store.record_announced([item_id], lambda: seen.append(committing_now(database_url)))
    assert seen == [1], "the output was written before COMMIT was sent or after its answer"
    assert await store.pending_items() == []


async def test_a_commit_that_fails_after_the_output_leaves_the_item_pending(
    store: Store, postgres: asyncpg.Connection
) -> None:
    item_id = await one_pending(store)
    await postgres.execute(FAILING_COMMIT)
    with pytest.raises(StorageUnavailable):
        await store.record_announced([item_id], lambda: None)
    assert [item.id for item in await store.pending_items()] == [item_id]


async def test_sqlite_writes_once_the_record_is_committed(store: Store, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's commit runs in the driver's thread")
    item_id = await one_pending(store)
    path = sqlite_path(database_url)
    assert path is not None
    seen: list[int] = []

    def write() -> None:
        with sqlite3.connect(path) as other:
            seen.extend(row[0] for row in other.execute("SELECT pending FROM items"))

    await store.record_announced([item_id], write)
    assert seen == [0], "the output was written before the record committed"


class Watched(FakeChat):
    """A held platform that asks PostgreSQL, as each post goes out, whether COMMIT is running."""

    def __init__(self, database_url: str) -> None:
        super().__init__(platform="discord", held=True)
        self.database_url = database_url
        self.seen: list[int] = []

    def _post(self, destination: Destination, posted: Posted) -> str:
        self.seen.append(committing_now(self.database_url))
        return super()._post(destination, posted)


async def test_the_terminal_outbox_writes_while_the_commit_is_in_flight(
    store: Store, postgres: asyncpg.Connection, database_url: str
) -> None:
    rig = Rig(store)
    await rig.subscribe("news")
    hanoi = analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27")
    await rig.publish(await rig.room.item("a.example", "Trump, Kim", hanoi, rig.clock()))
    await postgres.execute(SLOW_COMMIT)
    console = Watched(database_url)
    await Outbox(rig.repos.outbox, [console], clock=rig.clock).deliver_due()
    assert console.seen == [1], "the alert was written before COMMIT was sent or after its answer"
    assert [row.status for row in await rig.rows("news")] == ["sent"]
