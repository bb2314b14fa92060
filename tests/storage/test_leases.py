"""Leases a ``kill -9`` left behind: taken over at once when their process has ended."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from bot.storage.store import FEEDS, LEASES, Store

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _ended_pid() -> int:
    """The pid of a process of ours that ran and ended."""
    ran = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(ran.stdout)


def _owner(pid: int, host: str | None = None) -> str:
    return f"{host or socket.gethostname()[:60]}:{pid}:0badcafe"


async def test_feeds_leased_to_an_ended_process_of_this_host_are_polled_at_once(
    store: Store,
) -> None:
    dead = _ended_pid()
    holders = {
        "killed": _owner(dead),
        "running": _owner(os.getppid()),
        "elsewhere": _owner(dead, "another-host"),
    }
    ids = {}
    for name, holder in holders.items():
        feed = await store.add_feed(f"https://{name}.example/rss", NOW)
        ids[name] = feed.id
        async with store.engine.begin() as conn:
            await conn.execute(
                update(FEEDS)
                .where(FEEDS.c.id == feed.id)
                .values(lease_owner=holder, lease_until=NOW + timedelta(minutes=2))
            )
    claimed = await store.pollable_feeds(NOW, due_only=True)
    assert [feed.id for feed in claimed] == [ids["killed"]]


async def test_the_chat_lease_of_an_ended_process_is_taken_over_at_once(store: Store) -> None:
    until = NOW + timedelta(seconds=30)
    async with store.engine.begin() as conn:
        await conn.execute(
            LEASES.insert().values(name="chat", owner=_owner(os.getppid()), until=until)
        )
    assert not await store.hold_lease("chat", NOW, timedelta(seconds=30))
    async with store.engine.begin() as conn:
        await conn.execute(update(LEASES).values(owner=_owner(_ended_pid())))
    assert await store.hold_lease("chat", NOW, timedelta(seconds=30))
