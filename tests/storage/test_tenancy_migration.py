"""Migration 0004_tenancy keeps every existing feed, gives it to the operator, and merges one
feed stored under two spellings (issue 11.4, issue 10.5)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.storage.db import MIGRATIONS, create_engine
from bot.storage.store import DuplicateFeed, Store

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _old_rows(connection: Connection) -> None:
    feed = (
        "INSERT INTO feeds (id, url, consecutive_failures, seeded, created_at) "
        "VALUES (:id, :url, 0, 1, '2026-11-01 00:00:00')"
    )
    item = (
        "INSERT INTO items (feed_id, key, link, title, summary, first_seen, pending) "
        "VALUES (:feed, :key, NULL, 't', 's', '2026-11-01 00:00:00', 0)"
    )
    for feed_id, url in [
        (1, "http://localhost:8080/feed.xml"),
        (2, "https://example.com/rss"),
        (3, "http://127.0.0.1:8080/feed.xml/"),
    ]:
        connection.execute(text(feed), {"id": feed_id, "url": url})
    for feed_id, key in [(1, "a"), (1, "b"), (2, "x"), (3, "b"), (3, "c")]:
        connection.execute(text(item), {"feed": feed_id, "key": key})


async def test_existing_feeds_are_kept_for_the_operator_and_duplicates_merged(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_to, "0003")
        await connection.run_sync(_old_rows)
    await engine.dispose()

    store = await Store.open(url)
    try:
        feeds = await store.list_feeds()
        assert [(f.id, f.url, f.owners) for f in feeds] == [
            (1, "http://localhost:8080/feed.xml", ("operator",)),
            (2, "https://example.com/rss", ("operator",)),
        ]
        # The duplicate's new item moved over; the item both had is kept once.
        assert await store.item_count(1) == 3
        assert await store.item_count() == 4
        for spelling in ("http://127.0.0.1:8080/feed.xml", "https://EXAMPLE.com/rss/"):
            try:
                await store.add_feed(spelling, NOW)
            except DuplicateFeed:
                continue
            raise AssertionError(f"{spelling} was added twice")
    finally:
        await store.close()
