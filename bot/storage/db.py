"""Engine set-up: SQLite pragmas, PostgreSQL by URL, and Alembic migrations applied on start.

SQLite runs in WAL mode with ``synchronous=FULL``: a commit survives power loss as well as a
crash of the bot (``NORMAL`` may lose the last commits on an OS crash). newsbot writes a few
rows per poll, so durability costs nothing measurable here (RELIABILITY F3, §3.4).
"""

from __future__ import annotations

import ast
import functools
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
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
    # Alembic costs half a second to import; only a schema that needs upgrading pays for it.
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; safe to run on every start."""
    async with engine.begin() as connection:
        if not await connection.run_sync(_at_head):
            await connection.run_sync(_upgrade)
    log.debug("database schema is up to date")


def _at_head(connection: Connection) -> bool:
    """True when the database is stamped with exactly the newest revision(s)."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    stamped = {
        row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))
    }
    return stamped == _heads()


@functools.cache
def _heads() -> frozenset[str]:
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
