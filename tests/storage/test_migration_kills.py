"""Migrations survive ``kill -9`` at any statement (issue 14.2) and fail with the real reason."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.core.errors import StorageUnavailable
from bot.storage.db import MIGRATIONS
from bot.storage.store import Store

# Imports newsbot once, then per kill point forks a child that starts the store on a fresh
# database and pauses after statement N of the migration; the parent SIGKILLs it right there.
# With no points it migrates one database and prints how many statements that took.
KILLER = textwrap.dedent(
    """
    import asyncio, os, signal, sys, time
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from bot.storage.store import Store

    target, count = 0, 0

    @event.listens_for(Engine, "after_cursor_execute")
    def pause(*_args):
        global count
        count += 1
        if count == target:
            os.write(1, b"p")
            time.sleep(60)

    async def start(url):
        store = await Store.open(url)
        await store.close()

    template, points = sys.argv[1], [int(p) for p in sys.argv[2:]]
    if not points:
        asyncio.run(start(template.format(0)))
        print(count)
    for point in points:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.dup2(write, 1)
            target = point
            asyncio.run(start(template.format(point)))
            os._exit(3)  # finished without reaching the point: the parent reports it
        os.close(write)
        paused = os.read(read, 1) == b"p"
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read)
        print(point, "killed" if paused else "not reached", flush=True)
    """
)

KILL_POINTS = 20


def _run_killer(template: str, *points: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", KILLER, template, *map(str, points)],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


async def _revision(url: str) -> str:
    store = await Store.open(url)
    try:
        async with store.engine.connect() as conn:
            return str(await conn.scalar(text("SELECT version_num FROM alembic_version")))
    finally:
        await store.close()


@pytest.mark.slow
async def test_kill_9_at_20_points_of_the_first_migration_never_bricks_sqlite(
    tmp_path: Path,
) -> None:
    template = f"sqlite+aiosqlite:///{tmp_path}/kill-{{}}.db"
    statements = int(_run_killer(template)[-1])
    head = await _revision(template.format(0))
    assert statements > KILL_POINTS
    # Spread over the whole migration, first and last statements included.
    points = sorted({1 + (statements - 1) * n // (KILL_POINTS - 1) for n in range(KILL_POINTS)})
    assert len(points) == KILL_POINTS
    assert _run_killer(template, *points) == [f"{point} killed" for point in points]
    for point in points:
        with sqlite3.connect(tmp_path / f"kill-{point}.db") as db:
            # Rolled back whole: a kill mid-migration leaves no table behind.
            assert (
                db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == []
            )
    for point in points:
        assert await _revision(template.format(point)) == head
        with sqlite3.connect(tmp_path / f"kill-{point}.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _newest() -> str:
    """The head revision of the migration files."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def _legacy_leftovers(path: Path, *, with_row: bool) -> None:
    """What a newsbot before this fix left when killed inside its first migration."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key VARCHAR(100) NOT NULL PRIMARY KEY, value VARCHAR(1000))")
        db.execute("CREATE TABLE feeds (id INTEGER NOT NULL PRIMARY KEY, url VARCHAR(2048))")
        if with_row:
            db.execute("INSERT INTO meta VALUES ('k', 'v')")


async def test_a_database_bricked_by_an_earlier_version_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "bricked.db"
    _legacy_leftovers(path, with_row=False)
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    assert await store.feed_count() == 0
    await store.close()


async def test_leftovers_holding_data_are_kept_and_the_error_says_what_failed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kept.db"
    _legacy_leftovers(path, with_row=True)
    with pytest.raises(StorageUnavailable) as info:
        await Store.open(f"sqlite+aiosqlite:///{path}")
    message = str(info.value)
    assert "schema could not be brought up to date" in message
    assert "table meta already exists" in message
    assert "check that it is running" not in message
    assert "INSERT" not in message
    assert "CREATE" not in message
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT * FROM meta").fetchall() == [("k", "v")]


async def test_kill_9_during_a_migration_on_postgresql_leaves_it_usable(
    database_url: str,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("the SQLite case is the 20-point test above")
    assert _run_killer(database_url, 12) == ["12 killed"]
    assert await _revision(database_url) == _newest()
