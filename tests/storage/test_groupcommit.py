"""Group commit: concurrent polls share transactions, and one failing poll fails nobody else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from bot.core.errors import NotFound
from bot.core.models import ParsedItem, Validators
from bot.storage.groupcommit import GroupCommit
from bot.storage.store import Store

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def items(feed: int, count: int = 3) -> list[ParsedItem]:
    return [
        ParsedItem(f"g:{feed}-{n}", f"https://a.example/{feed}/{n}", f"t{n}", "s", None)
        for n in range(count)
    ]


class Ledger:
    """A fake database: records what each transaction wrote and how it ended."""

    def __init__(self) -> None:
        self.committed: list[list[str]] = []
        self.rolled_back: list[list[str]] = []

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[list[str]]:
        work: list[str] = []
        await asyncio.sleep(0)  # a real begin waits for the database too
        try:
            yield work
        except BaseException:
            self.rolled_back.append(work)
            raise
        self.committed.append(work)

    @staticmethod
    async def write(work: list[str], names: Sequence[str]) -> list[str]:
        """Upper-case each name; one starting with "bad" fails the whole transaction."""
        for name in names:
            work.append(name)
            if name.startswith("bad"):
                raise ValueError(f"{name} is bad")
        return [name.upper() for name in names]


def group(
    ledger: Ledger, max_batch: int = 64, linger: float = 0.0
) -> GroupCommit[list[str], str, str]:
    return GroupCommit(ledger.begin, ledger.write, max_batch=max_batch, linger=linger)


async def test_concurrent_requests_share_transactions_and_get_their_own_results() -> None:
    ledger = Ledger()
    writer = group(ledger, max_batch=4)
    names = [f"j{n}" for n in range(10)]
    results = await asyncio.gather(*(writer.run(name) for name in names))
    assert results == [name.upper() for name in names]
    # All ten were queued before the writer ran: batches of at most four, in order.
    assert ledger.committed == [names[0:4], names[4:8], names[8:10]]
    assert ledger.rolled_back == []


async def test_patient_requests_arriving_apart_wait_for_company_up_to_the_linger() -> None:
    ledger = Ledger()
    writer = group(ledger, max_batch=3, linger=5.0)

    async def later(name: str, delay: float, patient: bool) -> str:
        await asyncio.sleep(delay)
        return await writer.run(name, patient=patient)

    started = asyncio.get_running_loop().time()
    # Three requests 10 ms apart fill the batch: it is written then, not after 5 s.
    results = await asyncio.gather(*(later(f"j{n}", n * 0.01, True) for n in range(3)))
    assert results == ["J0", "J1", "J2"]
    assert ledger.committed == [["j0", "j1", "j2"]]
    # An impatient request ends the wait at once and takes the patient ones along.
    results = await asyncio.gather(later("p", 0, True), later("now", 0.01, False))
    assert results == ["P", "NOW"]
    assert ledger.committed[-1] == ["p", "now"]
    assert asyncio.get_running_loop().time() - started < 2.0

    short = group(ledger, linger=0.02)
    assert await short.run("alone", patient=True) == "ALONE"
    assert ledger.committed[-1] == ["alone"]


async def test_a_failing_request_is_rolled_back_and_the_others_rewritten_alone() -> None:
    ledger = Ledger()
    writer = group(ledger)
    await writer.run("first")
    outcomes = await asyncio.gather(
        writer.run("a"), writer.run("bad"), writer.run("c"), return_exceptions=True
    )
    assert outcomes[0] == "A"
    assert isinstance(outcomes[1], ValueError)
    assert str(outcomes[1]) == "bad is bad"
    assert outcomes[2] == "C"
    assert ledger.rolled_back == [["a", "bad"], ["bad"]]
    assert ledger.committed == [["first"], ["a"], ["c"]]


async def test_a_caller_cancelled_before_its_batch_is_left_out() -> None:
    ledger = Ledger()
    writer = group(ledger)
    first = asyncio.ensure_future(writer.run("first"))
    await asyncio.sleep(0)
    gone = asyncio.ensure_future(writer.run("gone"))
    kept = asyncio.ensure_future(writer.run("kept"))
    await asyncio.sleep(0)
    gone.cancel()
    assert await first == "FIRST"
    assert await kept == "KEPT"
    with pytest.raises(asyncio.CancelledError):
        await gone
    await writer.wait_idle()
    assert ledger.committed == [["first"], ["kept"]]


async def _feeds(store: Store, count: int) -> list[int]:
    return [(await store.add_feed(f"https://a.example/{n}", NOW)).id for n in range(count)]


async def _poll(store: Store, feed_id: int) -> list[int]:
    stored = await store.record_poll(
        feed_id,
        now=NOW,
        next_poll_at=NOW + timedelta(minutes=15),
        validators=Validators(etag=f'"{feed_id}"'),
        items=items(feed_id),
        title=f"feed {feed_id}",
    )
    return [item.id for item in stored]


@pytest.fixture
async def counted(tmp_path: Path) -> AsyncIterator[tuple[Store, list[int]]]:
    """A SQLite store and the list its commits append to."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}")
    commits: list[int] = []
    event.listen(store.engine.sync_engine, "commit", lambda _conn: commits.append(1))
    try:
        yield store, commits
    finally:
        await store.close()


async def test_concurrent_polls_on_sqlite_commit_together(
    counted: tuple[Store, list[int]],
) -> None:
    store, commits = counted
    feed_ids = await _feeds(store, 20)
    commits.clear()  # only the polls' commits count
    stored = await asyncio.gather(*(_poll(store, feed_id) for feed_id in feed_ids))
    assert [len(ids) for ids in stored] == [3] * 20
    # Without group commit: 20 transactions, one fsync each.
    assert 1 <= len(commits) <= 2
    for feed_id in feed_ids:
        info = await store.get_feed(feed_id)
        assert (info.title, info.validators.etag) == (f"feed {feed_id}", f'"{feed_id}"')
        assert await store.item_count(feed_id) == 3


async def test_polls_finishing_apart_on_sqlite_still_share_commits(
    counted: tuple[Store, list[int]],
) -> None:
    store, commits = counted
    feed_ids = await _feeds(store, 10)
    commits.clear()  # only the polls' commits count

    async def not_modified(n: int, feed_id: int) -> None:
        await asyncio.sleep(n * 0.001)  # 304s come back a millisecond or so apart
        await store.record_poll(
            feed_id, now=NOW, next_poll_at=NOW + timedelta(minutes=n), validators=Validators()
        )

    await asyncio.gather(*(not_modified(n, feed_id) for n, feed_id in enumerate(feed_ids)))
    assert len(commits) <= 3  # not one per poll
    for n, feed_id in enumerate(feed_ids):
        assert (await store.get_feed(feed_id)).next_poll_at == NOW + timedelta(minutes=n)


async def test_one_vanished_feed_fails_only_its_own_poll(store: Store) -> None:
    feed_ids = await _feeds(store, 6)
    await store.remove_feed(feed_ids[2])
    outcomes = await asyncio.gather(
        *(_poll(store, feed_id) for feed_id in feed_ids), return_exceptions=True
    )
    assert isinstance(outcomes[2], NotFound)
    for n, feed_id in enumerate(feed_ids):
        if n == 2:
            continue
        assert len(outcomes[n]) == 3  # type: ignore[arg-type]
        assert await store.item_count(feed_id) == 3
        assert (await store.get_feed(feed_id)).title == f"feed {feed_id}"
    # Rerunning the survivors alone stored each item once, and the next poll finds nothing new.
    survivors = [feed_id for feed_id in feed_ids if feed_id != feed_ids[2]]
    assert await asyncio.gather(*(_poll(store, feed_id) for feed_id in survivors)) == [[]] * 5
    assert await store.item_count() == 15


async def test_first_poll_seeds_the_feed_in_the_same_statement(store: Store) -> None:
    (feed_id,) = await _feeds(store, 1)
    first = await store.record_poll(
        feed_id,
        now=NOW,
        next_poll_at=NOW,
        validators=Validators(),
        items=items(feed_id, 2),
    )
    assert [item.pending for item in first] == [False, False]
    later = await store.record_poll(
        feed_id,
        now=NOW,
        next_poll_at=NOW,
        validators=Validators(),
        items=[*items(feed_id, 2), *items(feed_id + 100, 1)],
    )
    assert [item.pending for item in later] == [True]


async def test_one_feed_twice_in_a_batch_sees_its_own_first_poll(store: Store) -> None:
    (feed_id,) = await _feeds(store, 1)
    await store.record_poll(feed_id, now=NOW, next_poll_at=NOW, validators=Validators())
    first, second = await asyncio.gather(_poll(store, feed_id), _poll(store, feed_id))
    assert (len(first), len(second)) == (3, 0)
    assert await store.item_count(feed_id) == 3
