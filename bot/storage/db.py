"""Engine set-up: SQLite pragmas, PostgreSQL by URL, and Alembic migrations applied on start.

SQLite runs in WAL mode with ``synchronous=FULL``: a commit survives power loss as well as a
crash of the bot (``NORMAL`` may lose the last commits on an OS crash). newsbot writes a few
rows per poll, so durability costs nothing measurable here (RELIABILITY F3, §3.4).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.errors import ConfigError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 10_000
SQLITE_POOL_SIZE = 4
POOL_TIMEOUT_S = 120
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smbfs", "smb3", "fuse.sshfs", "9p", "afs", "glusterfs", "ceph"}
)


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database or "")


def filesystem_type(path: Path) -> str | None:
    """The filesystem type holding ``path``, from /proc/mounts (None where unknown)."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    target = path.resolve()
    best: tuple[int, str] | None = None
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point = Path(fields[1].replace("\\040", " "))
        if target == mount_point or mount_point in target.parents:
            depth = len(mount_point.parts)
            if best is None or depth > best[0]:
                best = (depth, fields[2])
    return None if best is None else best[1]


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; SQLite gets its directory, pragmas and a network-FS check."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fs_type = filesystem_type(path.parent)
        if fs_type in NETWORK_FILESYSTEMS:
            raise ConfigError(
                f"the SQLite database {path} is on a network filesystem ({fs_type}); WAL mode "
                "is unsafe there: use a local volume or PostgreSQL (NEWSBOT_DATABASE_URL)"
            )
        # SQLite has one writer: a few long-lived connections beat opening one per burst.
        engine = create_async_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=0,
            pool_timeout=POOL_TIMEOUT_S,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_timeout=POOL_TIMEOUT_S)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers, FULL sync for durability, a busy timeout for writers."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; safe to run on every start."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
    log.debug("database schema is up to date")
