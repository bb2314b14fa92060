"""Opening shared resources from Settings, cheap enough for every CLI command to import.

``bot.app`` wires the whole bot (spaCy, Discord, Slack); a command that only edits feeds must
not pay for that, so the pieces it shares with the app live here.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from bot.core.models import FeedInfo
from bot.ops.preflight import check_database_location
from bot.settings import Settings
from bot.storage.direct import read_feeds

if TYPE_CHECKING:
    from bot.ingest.fetch import FetchLimits
    from bot.storage.store import Store


def limits_from(settings: Settings) -> FetchLimits:
    """The fetch limits the settings describe (aiohttp is imported only by commands that fetch)."""
    from bot.ingest.fetch import FetchLimits

    fetch = settings.fetch
    return FetchLimits(
        total_timeout=fetch.timeout_seconds,
        connect_timeout=fetch.connect_timeout_seconds,
        max_bytes=fetch.max_bytes,
        max_redirects=fetch.max_redirects,
        per_host=fetch.per_host,
        total_connections=max(settings.poll.concurrency, fetch.per_host),
        user_agent=fetch.user_agent,
    )


@contextlib.asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """The migrated store, after checking that a SQLite file's directory is usable."""
    from bot.storage.store import Store

    check_database_location(settings.database_url)
    store = await Store.open(settings.database_url)
    try:
        yield store
    finally:
        await store.close()


async def list_feeds(settings: Settings) -> list[FeedInfo]:
    """Every feed, read directly when the schema allows it (see bot.storage.direct)."""
    check_database_location(settings.database_url)
    feeds = await read_feeds(settings.database_url)
    if feeds is None:
        async with open_store(settings) as store:
            feeds = await store.list_feeds()
    return feeds
