"""The driver-only feed reader (bot.storage.direct) agrees with Store, or steps aside."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot.core.models import Validators
from bot.storage.direct import MIGRATIONS, read_feeds, schema_heads
from bot.storage.store import Store
from bot.storage.urls import sqlite_path

NOW = datetime(2026, 11, 26, 12, 0, 30, 123456, tzinfo=UTC)


async def test_reads_what_the_store_reads(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        first = await store.add_feed(
            "https://a.example/feed", NOW, title="A", interval_seconds=900, owner="guild:1"
        )
        await store.add_feed("https://a.example/feed", NOW + timedelta(seconds=1), owner="guild:2")
        second = await store.add_feed("https://b.example/feed", NOW)
        await store.record_success(
            first.id,
            now=NOW,
            next_poll_at=NOW + timedelta(minutes=15),
            validators=Validators(etag='"v1"', last_modified="Wed, 25 Nov 2026 10:00:00 GMT"),
        )
        await store.record_failure(
            second.id, now=NOW, error="HTTP 503", next_poll_at=NOW, max_failures=1
        )
        expected = await store.list_feeds()
    finally:
        await store.close()
    direct = await read_feeds(database_url)
    assert direct == expected
    assert direct is not None
    assert direct[0].owners == ("guild:1", "guild:2")
    assert direct[0].last_success_at == NOW
    assert direct[0].validators == Validators('"v1"', "Wed, 25 Nov 2026 10:00:00 GMT")
    assert direct[1].disabled_reason is not None
    assert direct[1].consecutive_failures == 1


async def test_an_older_schema_is_left_to_the_store(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await (await Store.open(url)).close()
    with sqlite3.connect(tmp_path / "old.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0003'")
    assert await read_feeds(url) is None


async def test_a_missing_or_damaged_file_is_left_to_the_store(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    assert await read_feeds(f"sqlite+aiosqlite:///{missing}") is None
    assert not missing.exists()
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    assert await read_feeds(f"sqlite+aiosqlite:///{damaged}") is None


async def test_reading_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    url = f"sqlite+aiosqlite:///{path}"
    store = await Store.open(url)
    await store.add_feed("https://a.example/feed", NOW)
    await store.close()
    before = path.read_bytes()
    assert await read_feeds(url) is not None
    assert path.read_bytes() == before


async def test_an_unreachable_postgres_is_left_to_the_store() -> None:
    assert await read_feeds("postgresql+asyncpg://nobody@127.0.0.1:9/none") is None


def test_heads_are_alembics() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert schema_heads() == frozenset(ScriptDirectory.from_config(config).get_heads())


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///data/newsbot.db",
        "sqlite+aiosqlite:////abs/path/newsbot.db",
        "sqlite:///relative.db?timeout=5",
        "sqlite+aiosqlite:///with%20space.db",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "postgresql+asyncpg://u:p@h:5432/d",
    ],
)
def test_sqlite_paths_read_as_sqlalchemy_reads_them(url: str) -> None:
    parsed = make_url(url)
    sqlalchemy_says = (
        None
        if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:")
        else Path(parsed.database or "")
    )
    assert sqlite_path(url) == sqlalchemy_says
