"""Operational faults (issue 14.6) and long values (13.4): a full disk is one clear line and a
degraded /healthz, never a feed failure or SQL in the log; links of any length are stored."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from bot.core.errors import StorageUnavailable
from bot.core.models import ParsedItem, Validators
from bot.ingest.poll import Poller, PollPolicy
from bot.ops.health import HealthServer
from bot.storage.store import Store
from tests.fakes import FakeClock, FakeFetcher, FakeParser, RecordingSink

NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


class DiskLimit:
    """Caps every connection's database size (SQLITE_FULL: 'database or disk is full')."""

    def __init__(self) -> None:
        self.pages: int | None = None

    def __call__(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {self.pages or 1_000_000_000}")
        cursor.close()


@pytest.fixture
async def full_disk(tmp_path: Any) -> AsyncIterator[tuple[Store, DiskLimit]]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'full.db'}")
    limit = DiskLimit()
    event.listen(store.engine.sync_engine, "connect", limit)
    yield store, limit
    await store.close()


async def _fill(store: Store, limit: DiskLimit) -> None:
    async with store.engine.connect() as conn:
        limit.pages = int((await conn.exec_driver_sql("PRAGMA page_count")).scalar_one())
    await store.engine.dispose()  # new connections carry the cap


def _big_items(count: int) -> list[ParsedItem]:
    return [
        ParsedItem(key=f"k{n}", link=None, title="t", summary="s" * 3_000, published=None)
        for n in range(count)
    ]


async def test_a_full_disk_is_one_clear_line_and_a_degraded_health(
    full_disk: tuple[Store, DiskLimit], caplog: pytest.LogCaptureFixture
) -> None:
    store, limit = full_disk
    feed = await store.add_feed("https://a.example/feed", NOW)
    await store.store_items(feed.id, [], NOW, announce_first=0)
    await _fill(store, limit)
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        with pytest.raises(StorageUnavailable, match="is full: free some space"):
            await store.store_items(feed.id, _big_items(50), NOW, announce_first=0)
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1
    line = errors[0].getMessage()
    assert "storage is failing" in line
    assert "INSERT" not in line
    assert len(line) < 300
    assert errors[0].exc_info is None
    assert store.storage_problem is not None

    health = HealthServer(
        0,
        database=store.feed_count,
        scheduler_running=lambda: True,
        storage_problem=lambda: store.storage_problem,
    )
    healthy, body = await health.report()
    assert healthy
    assert body["status"] == "degraded"

    limit.pages = None
    await store.engine.dispose()
    await store.store_items(feed.id, _big_items(2), NOW, announce_first=0)
    assert store.storage_problem is None
    assert (await health.report())[1]["status"] == "ok"


async def test_a_full_disk_during_a_poll_is_not_counted_against_the_feed(
    full_disk: tuple[Store, DiskLimit], caplog: pytest.LogCaptureFixture
) -> None:
    store, limit = full_disk
    fetcher = FakeFetcher()
    url = "https://a.example/feed"
    fetcher.serve(url, _big_items(50))
    poller = Poller(store, fetcher, FakeParser(), RecordingSink(), PollPolicy(), clock=FakeClock())
    feed = await store.add_feed(url, FakeClock()())
    await _fill(store, limit)
    caplog.set_level(logging.WARNING)
    result = await poller.poll_feed(feed)
    assert result.outcome == "failed"
    assert "is full" in (result.error or "")
    limit.pages = None
    await store.engine.dispose()
    after = await store.get_feed(feed.id)
    assert after.consecutive_failures == 0
    assert not any(r.exc_info for r in caplog.records)
    assert all("SELECT" not in r.getMessage() for r in caplog.records)


LONG_LINK = "https://news.example/" + "a" * 3_000
LONG_FEED_URL = "https://news.example/feed?" + "q" * 2_100


async def test_a_3000_character_link_is_stored_and_the_poll_goes_on(store: Store) -> None:
    feed = await store.add_feed("https://a.example/feed", NOW)
    batch = [
        ParsedItem(key="guid:long", link=LONG_LINK, title="long", summary="", published=None),
        ParsedItem(
            key="guid:short", link="https://a.example/1", title="s", summary="", published=None
        ),
    ]
    stored = await store.record_poll(
        feed.id,
        now=NOW,
        next_poll_at=NOW,
        validators=Validators(etag='"' + "e" * 900 + '"', last_modified="x" * 300),
        items=batch,
        new_url=LONG_FEED_URL,
    )
    assert [item.link for item in stored] == [LONG_LINK, "https://a.example/1"]
    again = await store.store_items(feed.id, batch, NOW, announce_first=0)
    assert again == []
    after = await store.get_feed(feed.id)
    assert after.url == "https://a.example/feed"
    assert after.validators == Validators()
