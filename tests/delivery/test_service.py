"""End to end inside the core: poll → analyse → story → outbox → chat and terminal."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bot.core.models import NewItem, ParsedItem
from bot.delivery.outbox import Outbox
from bot.delivery.service import DeliveryService
from bot.ingest.poll import Poller, PollPolicy
from bot.platforms.console.notifier import ConsoleNotifier
from bot.platforms.console.terminal import Terminal
from bot.storage.store import Store
from bot.stories.desk import Desk
from bot.stories.sink import StorySink
from tests.delivery.rig import Rig, channel
from tests.fakes import FakeFetcher, FakeParser
from tests.stories.helpers import KIM, TRUMP, analysis, day


class TitleAnalyzer:
    """The extractor's verdict looked up by item title."""

    def __init__(self, verdicts: dict[str, dict[str, Any]]) -> None:
        self.verdicts = verdicts

    async def analyse(self, items: Sequence[NewItem]) -> list[dict[str, Any]]:
        return [self.verdicts.get(item.title, analysis(summit=False)) for item in items]


def parsed(key: str, title: str, published: str) -> ParsedItem:
    return ParsedItem(
        key=key,
        link=f"https://{key}.example/story",
        title=title,
        summary=title,
        published=day(published),
    )


async def test_poll_to_alert_update_and_terminal(store: Store) -> None:
    rig = Rig(store)
    stream = io.StringIO()
    console = ConsoleNotifier(Terminal(stream), width=80)
    outbox = Outbox(rig.repos.outbox, [rig.chat, console], clock=rig.clock)
    service = DeliveryService(rig.router, rig.digests, outbox, clock=rig.clock)
    verdicts = {
        "Trump and Kim to meet in Hanoi": analysis(
            TRUMP,
            KIM,
            city="Hanoi",
            country="Vietnam",
            start="2019-02-27",
            end="2019-02-28",
            summary="Trump and Kim will meet in Hanoi on Wednesday.",
        ),
        "Kim boards train for Vietnam": analysis(
            {"name": "Kim Jong Un"},
            TRUMP,
            city="Hanoi",
            country="Vietnam",
            start="2019-02-27",
        ),
        "Hanoi summit moved to Thursday": analysis(
            TRUMP, KIM, city="Hanoi", start="2019-02-28", end="2019-03-01"
        ),
        "Markets rally": analysis(summit=False),
    }
    fetcher = FakeFetcher()
    poller = Poller(
        store,
        fetcher,
        FakeParser(),
        rig.sink,
        PollPolicy(announce_first=5),
        analyzer=TitleAnalyzer(verdicts),
        clock=rig.clock,
    )
    await rig.desk.subscribe(channel("news"), "alerts")
    await rig.desk.subscribe(channel("terminal", platform="console"), "alerts")
    await service.start()
    await service.tick()  # the welcome digests
    a = await store.add_feed("https://a.example/rss", rig.clock())
    b = await store.add_feed("https://b.example/rss", rig.clock())
    fetcher.serve(
        a.url,
        [
            parsed("a1", "Trump and Kim to meet in Hanoi", "2019-02-25"),
            parsed("a2", "Markets rally", "2019-02-25"),
        ],
        etag='"1"',
    )
    fetcher.serve(b.url, [parsed("b1", "Kim boards train for Vietnam", "2019-02-25T06:00")])
    await poller.poll_feed(a)  # one feed after the other, so the opening report is known
    await poller.poll_feed(b)
    await service.tick()
    rig.clock.advance(timedelta(hours=20))
    fetcher.serve(
        a.url, [parsed("a3", "Hanoi summit moved to Thursday", "2019-02-25T20:00")], etag='"2"'
    )
    await poller.run_cycle()
    await service.tick()

    kinds = [(m.kind, m.title) for m in rig.chat.channel("news")]
    assert kinds == [
        ("digest", "Summit stories right now"),
        ("new", "Trump and Kim to meet in Hanoi"),
        ("update", "Trump and Kim to meet in Hanoi"),
    ]
    out = stream.getvalue()
    assert out.count("NEW SUMMIT STORY") == 1
    assert out.count("SUMMIT STORY UPDATE") == 1
    assert "changed start_date: 2019-02-27 → 2019-02-28" in out
    assert "United States); Kim Jong-un (" in out
    assert "North Korea) · Hanoi, Vietnam · " in out
    assert "3 sources · https://a1.example/story" in out
    assert "Markets rally" not in out


async def test_run_wakes_on_new_rows_and_stops_promptly(store: Store) -> None:
    rig = Rig(store)
    service = DeliveryService.build(
        rig.repos, [rig.chat], clock=rig.clock, idle=timedelta(seconds=30)
    )
    desk = Desk(rig.repos, store, rig.store.add_feed, clock=rig.clock, wake=service.wake)
    sink = StorySink(rig.repos.stories, clock=rig.clock, route=service.route)
    await service.start()
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))

    async def seen(count: int) -> None:
        for _ in range(200):
            if len(rig.chat.messages) >= count:
                return
            await asyncio.sleep(0.01)

    await desk.subscribe(channel("news"), "alerts")
    await seen(1)
    item = await rig.room.item("a.example", "Trump, Kim", analysis(TRUMP, KIM), rig.clock())
    await sink.publish([item])
    await seen(2)
    assert [m.kind for m in rig.chat.messages] == ["digest", "new"]
    stop.set()
    await asyncio.wait_for(task, timeout=1)
