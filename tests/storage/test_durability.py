"""SQLite durability and locking (RELIABILITY F3): kill -9 mid-write, two writers, bad places."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.app import writer_lock
from bot.core.errors import ConfigError
from bot.settings import Settings
from bot.storage import db
from bot.storage.store import Store

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime
    from bot.core.models import ParsedItem
    from bot.storage.store import Store

    async def main(url, name, batches):
        store = await Store.open(url)
        now = datetime.now(UTC)
        feed = await store.add_feed(f"https://{name}.example/feed", now)
        await store.store_items(feed.id, [], now, announce_first=0)
        for batch in range(batches):
            items = [
                ParsedItem(key=f"k{batch}-{n}", link=None, title="t", summary="s" * 200,
                           published=None)
                for n in range(10)
            ]
            await store.store_items(feed.id, items, now, announce_first=0)
            print((batch + 1) * 10, flush=True)
        await store.close()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


def _writer(url: str, name: str, batches: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, name, str(batches)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_during_writes_leaves_a_consistent_database(tmp_path: Path) -> None:
    path = tmp_path / "newsbot.db"
    proc = _writer(f"sqlite+aiosqlite:///{path}", "a", 1000)
    assert proc.stdout is not None
    committed = 0
    for line in proc.stdout:
        committed = int(line)
        if committed >= 300:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert committed >= 300, proc.stderr.read() if proc.stderr else ""
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute("SELECT count(*) FROM items").fetchone()[0]
    assert rows >= committed
    assert rows % 10 == 0, "a batch was half written"


def test_two_concurrent_writers_never_see_database_is_locked(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}"
    asyncio.run(_migrate(url))
    procs = [_writer(url, name, 60) for name in ("a", "b")]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "database is locked" not in err
        assert out.split()[-1] == "600"


async def _migrate(url: str) -> None:
    store = await Store.open(url)
    await store.close()


def test_journal_mode_and_sync_are_what_we_wrote_down(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}"

    async def pragmas() -> tuple[str, int, int]:
        store = await Store.open(url)
        async with store.engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
            sync = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar_one()
            busy = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
        await store.close()
        return mode, sync, busy

    assert asyncio.run(pragmas()) == ("wal", 2, db.BUSY_TIMEOUT_MS)


def test_sqlite_on_a_network_filesystem_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "filesystem_type", lambda _path: "nfs4")
    with pytest.raises(ConfigError, match="network filesystem"):
        db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")


def test_filesystem_type_reads_proc_mounts(tmp_path: Path) -> None:
    if not Path("/proc/mounts").exists():
        pytest.skip("no /proc/mounts on this system")
    assert db.filesystem_type(tmp_path) is not None


def test_a_second_bot_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}")
    with (
        writer_lock(settings),
        pytest.raises(ConfigError, match="already running"),
        writer_lock(settings),
    ):
        pass
    with writer_lock(settings):
        pass


def test_a_hard_link_to_the_database_meets_the_same_lock(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = tmp_path / "a" / "newsbot.db"
    sqlite3.connect(first).close()
    os.link(first, tmp_path / "b" / "linked.db")
    settings = Settings(database_url=f"sqlite+aiosqlite:///{first}")
    linked = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'b' / 'linked.db'}")
    with (
        writer_lock(settings),
        pytest.raises(ConfigError, match="link to the same file"),
        writer_lock(linked),
    ):
        pass


async def test_the_lock_does_not_disturb_sqlite_in_the_same_process(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}"
    with writer_lock(Settings(database_url=url)):
        store = await Store.open(url)
        await store.set_meta("k", "v")
        assert await store.get_meta("k") == "v"
        await store.close()
