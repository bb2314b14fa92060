"""Engine set-up: SQLite pragmas, PostgreSQL by URL, and Alembic migrations applied on start.

SQLite runs in WAL mode with ``synchronous=FULL``: a commit survives power loss as well as a
crash of the bot (``NORMAL`` may lose the last commits on an OS crash). newsbot writes a few
rows per poll, so durability costs nothing measurable here (RELIABILITY F3, §3.4).

Migrations run in one transaction on every backend, so a kill at any point leaves the schema
as it was before the start. pysqlite never opens a transaction before DDL (each CREATE TABLE
commits on its own), so on SQLite the migration connection issues its own ``BEGIN IMMEDIATE``;
on PostgreSQL an advisory lock keeps replicas that start together from migrating twice.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, event, func, inspect, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import DropTable
from sqlalchemy.sql import Executable

from bot.core.errors import ConfigError, StorageUnavailable
from bot.storage.direct import MIGRATIONS, schema_heads
from bot.storage.urls import sqlite_path

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
SQLITE_POOL_SIZE = 4
POOL_TIMEOUT_S = 120
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smbfs", "smb3", "fuse.sshfs", "9p", "afs", "glusterfs", "ceph"}
)


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


# Any 64-bit number works; this one is "newsbot" in ASCII, so it is easy to spot in pg_locks.
_MIGRATION_LOCK = 0x6E657773626F74
_VERSION_TABLE = "alembic_version"
_PG_DISK_FULL = "53100"


def _upgrade(connection: Connection) -> None:
    # Alembic costs half a second to import; only a schema that needs upgrading pays for it.
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    _drop_interrupted_first_migration(connection)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _drop_interrupted_first_migration(connection: Connection) -> None:
    """Undo what a pre-transactional newsbot left when killed during its very first migration.

    Such a database has some of newsbot's tables, all empty, and no recorded revision; dropping
    them lets the first migration run again. Tables holding rows are never dropped: that
    database gets a clear error from the upgrade instead.
    """
    inspector = inspect(connection)
    names = set(inspector.get_table_names())
    if _VERSION_TABLE in names and _rows(connection, _VERSION_TABLE):
        return
    leftovers = sorted(names - {_VERSION_TABLE})
    if not leftovers or any(_rows(connection, name) for name in leftovers):
        return
    log.warning(
        "the first schema migration was interrupted earlier; removing its empty tables (%s)",
        ", ".join(leftovers),
    )
    for name in leftovers:
        connection.execute(DropTable(Table(name, MetaData())))


def _rows(connection: Connection, name: str) -> int:
    return int(connection.scalar(select(func.count()).select_from(table(name))) or 0)


def _sqlite_transactional(dbapi_connection: Any, _record: Any) -> None:
    """Take transactions away from pysqlite, which would run each DDL statement on its own."""
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _migration_engine(engine: AsyncEngine) -> AsyncEngine:
    """A one-connection engine whose transactions really enclose DDL (SQLite) or the engine."""
    if engine.dialect.name != "sqlite":
        return engine
    migrating = create_async_engine(
        engine.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, poolclass=NullPool
    )
    event.listen(migrating.sync_engine, "connect", _sqlite_pragmas)
    event.listen(migrating.sync_engine, "connect", _sqlite_transactional)
    event.listen(migrating.sync_engine, "begin", _begin_immediate)
    return migrating


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision in one transaction; safe to run on every start.

    A failure is a StorageUnavailable naming the step that failed, not a connection problem.
    """
    async with engine.connect() as probe:
        if await probe.run_sync(_at_head):
            log.debug("database schema is up to date")
            return
    migrating = _migration_engine(engine)
    try:
        async with migrating.connect() as probe:
            await probe.exec_driver_sql("SELECT 1")
        async with migrating.begin() as connection:
            try:
                await connection.run_sync(_upgrade)
            except SQLAlchemyError as exc:
                raise StorageUnavailable(
                    "the database schema could not be brought up to date, nothing was changed: "
                    f"{describe_database_error(exc)}"
                ) from exc
    finally:
        if migrating is not engine:
            await migrating.dispose()
    log.debug("database schema is up to date")


async def record_then_write(
    engine: AsyncEngine, statement: Executable, write: Callable[[], None]
) -> bool:
    """Run ``statement``, an UPDATE recording output as shown, and call ``write`` at the instant
    it commits: output nobody can read back, prepared in full beforehand, so a kill at any
    moment neither loses nor repeats it. False, with nothing written, when no row changed.

    On SQLite the commit runs in aiosqlite's worker thread; awaiting it and then writing would
    leave the event loop's wake-up (milliseconds on a busy machine) between the two, so the
    write runs in that thread right after the commit returns (aiosqlite has no public way to
    run a function there, hence its ``_execute``). That commit skips the fsync: the record is
    visible to the next start once written to the WAL, and a kill during an fsync would land
    after the commit and before the write. The next ordinary commit (every poll makes one)
    syncs it; a power loss before then shows the output again, never loses it.

    A PostgreSQL commit is visible to others before its answer reaches us, so writing after
    the answer leaves the same gap and writing before sending COMMIT repeats the output on a
    kill: the COMMIT goes out first and the write runs while the answer travels. A commit that
    then fails propagates (the record stays undone and the output is repeated once).
    """
    async with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            result = await connection.execute(statement)
            if not getattr(result, "rowcount", 0):
                return False
            commit = asyncio.ensure_future(connection.commit())
            await asyncio.sleep(0)
            try:
                write()
            finally:
                await commit
            return True
        await connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
        try:
            result = await connection.execute(statement)
            if not getattr(result, "rowcount", 0):
                return False
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None, "an open connection has its aiosqlite connection"
            try:
                await driver._execute(_commit_and_write, driver._conn, write)
            except sqlite3.Error as exc:
                raise DBAPIError.instance("COMMIT", None, exc, sqlite3.Error) from exc
            return True
        finally:
            await connection.rollback()  # ends SQLAlchemy's transaction; nothing left to undo
            await connection.exec_driver_sql("PRAGMA synchronous=FULL")


def _commit_and_write(sqlite: sqlite3.Connection, write: Callable[[], None]) -> None:
    sqlite.commit()
    write()


def describe_database_error(exc: BaseException) -> str:
    """The driver's own message, first line only and never the SQL or its parameters."""
    origin = getattr(exc, "orig", None) or exc
    message = str(origin).strip().splitlines()
    return (message[0] if message else type(origin).__name__)[:300]


def is_disk_full(exc: BaseException) -> bool:
    """True when SQLite, PostgreSQL or the OS says the disk (or a quota) is full."""
    origin = getattr(exc, "orig", None) or exc
    if isinstance(origin, OSError) and origin.errno == errno.ENOSPC:
        return True
    if getattr(origin, "sqlstate", None) == _PG_DISK_FULL:
        return True
    message = str(origin).lower()
    return "database or disk is full" in message or "no space left on device" in message


def storage_problem(exc: BaseException, where: str) -> str:
    """One sentence an operator can act on, for a database error (no SQL, no secrets)."""
    if is_disk_full(exc):
        return f"the disk holding the database {where} is full: free some space"
    return f"the database {where} failed: {describe_database_error(exc)}"


def _at_head(connection: Connection) -> bool:
    """True when the database is stamped with exactly the newest revision(s)."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    stamped = {
        row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))
    }
    return stamped == schema_heads()
