"""An item is announced only with its verdict: a crash in analysis is analysed again at start."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.core.models import NewItem
from bot.ingest.poll import Poller
from bot.storage.store import Store
from tests.fakes import FakeClock, FakeFetcher, FakeParser, RecordingPrinter, RecordingSink, items
from tests.ingest.test_poll import POLICY

URL = "https://a.example/feed"


class Died(BaseException):
    """The process dying (kill -9) inside spaCy or the article fetch."""


class Analyzer:
    """Calls each item a summit story unless told to die or to fail on some titles."""

    def __init__(self) -> None:
        self.die = False
        self.broken: set[str] = set()
        self.seen: list[str] = []

    async def analyse(self, batch: Sequence[NewItem]) -> list[dict[str, Any]]:
        self.seen.extend(item.title for item in batch)
        if self.die:
            raise Died
        if any(item.title in self.broken for item in batch):
            raise RuntimeError("spaCy choked")
        return [{"is_summit": True, "score": 0.9} for _ in batch]


class Rig:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.fetcher = FakeFetcher()
        self.clock = FakeClock()
        self.analyzer = Analyzer()
        self.sink = RecordingSink()
        self.printed = RecordingPrinter()

    def poller(self) -> Poller:
        """A poller as a (re)started process builds it."""
        return Poller(
            self.store,
            self.fetcher,
            FakeParser(),
            self.sink,
            POLICY,
            analyzer=self.analyzer,
            announced=self.printed,
            clock=self.clock,
        )


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'analyse.db'}")
    yield Rig(store)
    await store.close()


async def seeded(rig: Rig) -> None:
    await rig.store.add_feed(URL, rig.clock())
    rig.fetcher.serve(URL, items("old"), etag='"v1"')
    await rig.poller().run_cycle()


async def test_a_crash_during_analysis_is_analysed_before_it_is_announced(rig: Rig) -> None:
    await seeded(rig)
    rig.fetcher.serve(URL, items("a", "b", "old"), etag='"v2"')
    rig.analyzer.die = True
    with pytest.raises(Died):
        await rig.poller().run_cycle()
    assert rig.sink.published == [], "nothing announced without a verdict"
    pending = await rig.store.pending_items()
    assert sorted(item.title for item in pending) == ["a", "b"]
    assert all(item.analysis is None for item in pending)

    rig.analyzer.die = False
    rig.analyzer.seen.clear()
    await rig.poller().run_cycle()  # the next start
    assert sorted(rig.analyzer.seen) == ["a", "b"], "analysed first"
    announced = {item.title: item for item in rig.sink.published}
    assert sorted(announced) == ["a", "b"]
    assert all(item.is_summit for item in announced.values()), "announced with their verdict"
    assert await rig.store.pending_items() == []


async def test_an_item_that_cannot_be_analysed_is_recorded_with_the_reason(rig: Rig) -> None:
    await seeded(rig)
    rig.fetcher.serve(URL, items("good", "poison", "old"), etag='"v2"')
    rig.analyzer.broken = {"poison"}
    await rig.poller().run_cycle()
    announced = {item.title: item for item in rig.sink.published}
    assert sorted(announced) == ["good", "poison"]
    assert announced["good"].is_summit
    assert not announced["poison"].is_summit
    stored = await rig.store.analysis_of(announced["poison"].id)
    assert stored is not None
    assert "spaCy choked" in stored["failed"]
    assert await rig.store.pending_items() == []


async def test_printing_comes_after_the_record(rig: Rig) -> None:
    """The terminal's item printer runs once each item is recorded as announced."""
    await seeded(rig)
    rig.fetcher.serve(URL, items("a", "b", "old"), etag='"v2"')

    def crash(*_: object) -> None:
        raise Died

    poller = rig.poller()
    rig.store.record_announced = crash  # type: ignore[method-assign]
    with pytest.raises(Died):
        await poller.run_cycle()
    del rig.store.record_announced
    assert rig.printed.published == [], "not printed before the record"
    await rig.poller().run_cycle()
    assert sorted(item.title for item in rig.printed.published) == ["a", "b"], "printed once"
    await rig.poller().run_cycle()
    assert sorted(item.title for item in rig.printed.published) == ["a", "b"]


async def test_a_crash_while_rendering_leaves_that_item_and_the_rest_pending(rig: Rig) -> None:
    """Each item is rendered, then recorded as it is written: a crash on the second item
    leaves the first shown and the second and third pending, to be shown by the next start."""
    await seeded(rig)
    rig.fetcher.serve(URL, items("a", "b", "c", "old"), etag='"v2"')
    publish = rig.printed.publish

    async def die_on_second(batch: Sequence[NewItem]) -> None:
        if rig.printed.published:
            raise Died
        await publish(batch)

    rig.printed.publish = die_on_second  # type: ignore[method-assign]
    with pytest.raises(Died):
        await rig.poller().run_cycle()
    del rig.printed.publish
    assert len(rig.printed.published) == 1
    assert len(await rig.store.pending_items()) == 2, "recorded only once written"
    await rig.poller().run_cycle()
    assert sorted(item.title for item in rig.printed.published) == ["a", "b", "c"]
    assert await rig.store.pending_items() == []
