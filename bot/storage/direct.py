"""Reading feeds straight through the database driver, for commands that must answer at once.

SQLAlchemy and Alembic cost most of a second to import; ``feeds list`` and ``feeds export`` need
neither when the schema is already at head. These statements are also the ones ``Store`` runs,
so both ways give the same feeds. Anything unusual (no file yet, an older schema, a driver
error) returns None and the caller opens the full ``Store``, which migrates and explains errors.
"""

from __future__ import annotations

import ast
import functools
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.models import FeedInfo, Validators
from bot.core.tenancy import sees
from bot.storage.urls import sqlite_path

MIGRATIONS = Path(__file__).with_name("migrations")

FEEDS_QUERY = (
    "SELECT id, url, identity, title, consecutive_failures, last_error, disabled_reason, "
    "next_poll_at, last_success_at, interval_seconds, etag, last_modified "
    "FROM feeds ORDER BY id"
)
OWNERS_QUERY = "SELECT feed_id, owner FROM feed_owners ORDER BY added_at, owner"
_VERSIONS_QUERY = "SELECT version_num FROM alembic_version"
_PG_CONNECT_TIMEOUT_S = 10.0


@functools.cache
def schema_heads() -> frozenset[str]:
    """The revisions no other revision builds on, read from the migration files' headers.

    Anything unexpected only makes this disagree with the database, and Alembic then decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        header: dict[str, Any] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else None
            if isinstance(node, ast.AnnAssign):
                target = node.target
            value = getattr(node, "value", None)
            if isinstance(target, ast.Name) and value is not None:
                header[target.id] = value
        if "revision" not in header:
            continue
        revisions.add(ast.literal_eval(header["revision"]))
        down = ast.literal_eval(header["down_revision"]) if "down_revision" in header else None
        parents.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - parents)


def feed_infos(
    feeds: Iterable[Sequence[Any]], owners: Iterable[Sequence[Any]], owner: str | None = None
) -> list[FeedInfo]:
    """FeedInfos from FEEDS_QUERY and OWNERS_QUERY rows; with ``owner``, only what it sees."""
    owned: dict[int, list[str]] = {}
    for feed_id, name in owners:
        owned.setdefault(feed_id, []).append(name)
    found = []
    for row in feeds:
        info = _feed_info(row, tuple(owned.get(row[0], ())))
        if owner is None or sees(owner, info.owners):
            found.append(info)
    return found


async def read_feeds(url: str) -> list[FeedInfo] | None:
    """Every feed, oldest first, or None when only the full Store can answer (see above)."""
    path = sqlite_path(url)
    if path is not None:
        return _read_sqlite(path)
    if url.startswith("postgresql+asyncpg://"):
        return await _read_postgres(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    return None


def _read_sqlite(path: Path) -> list[FeedInfo] | None:
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        if {row[0] for row in connection.execute(_VERSIONS_QUERY)} != schema_heads():
            return None
        return feed_infos(connection.execute(FEEDS_QUERY), connection.execute(OWNERS_QUERY))
    except sqlite3.Error:
        return None
    finally:
        connection.close()


async def _read_postgres(dsn: str) -> list[FeedInfo] | None:
    import asyncpg  # noqa: PLC0415 - only PostgreSQL users pay for it

    try:
        connection = await asyncpg.connect(dsn, timeout=_PG_CONNECT_TIMEOUT_S)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return None
    try:
        versions = {row[0] for row in await connection.fetch(_VERSIONS_QUERY)}
        if versions != schema_heads():
            return None
        return feed_infos(await connection.fetch(FEEDS_QUERY), await connection.fetch(OWNERS_QUERY))
    except (asyncpg.PostgresError, asyncpg.InterfaceError):
        return None
    finally:
        await connection.close()


def _feed_info(row: Sequence[Any], owners: tuple[str, ...]) -> FeedInfo:
    (id_, url, identity, title, failures, last_error, disabled, next_poll, last_success) = row[:9]
    interval, etag, last_modified = row[9:12]
    return FeedInfo(
        id=id_,
        url=url,
        identity=identity or url,
        title=title,
        consecutive_failures=failures or 0,
        last_error=last_error,
        disabled_reason=disabled,
        next_poll_at=_utc(next_poll),
        last_success_at=_utc(last_success),
        interval_seconds=interval,
        validators=Validators(etag=etag, last_modified=last_modified),
        owners=owners,
    )


def _utc(value: datetime | str | None) -> datetime | None:
    """The naive-UTC column value (a string on SQLite) as an aware UTC datetime."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)
