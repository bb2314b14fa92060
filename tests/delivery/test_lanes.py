"""Per-destination lanes: a hang, a 429 or a hold stays in its channel; sends wait for login."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from bot.core.errors import RateLimited
from bot.delivery.outbox import Outbox, OutboxPolicy
from tests.delivery.fakes import Crash, FakeChat
from tests.delivery.rig import Rig
from tests.stories.helpers import KIM, TRUMP, analysis

HANOI = analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27")
VENUE = analysis(TRUMP, KIM, city="Hanoi", venue="Metropole")
QUICK = OutboxPolicy(recheck=timedelta(seconds=0.05), grace=timedelta(seconds=0.5))


async def story(rig: Rig, outlet: str = "a.example", data: dict[str, object] = HANOI) -> None:
    await rig.publish(await rig.room.item(outlet, "Trump, Kim", data, rig.clock()))


@asynccontextmanager
async def serving(outbox: Outbox) -> AsyncIterator[asyncio.Event]:
    """Run the lanes in the background; yields the wake event."""
    stop, wake = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(outbox.serve(stop, wake, 0.05))
    try:
        yield wake
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> float:
    """Seconds until ``predicate`` holds (fails the test past ``timeout``)."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, "timed out"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_a_hung_channel_delays_no_other_channel(rig: Rig) -> None:
    names = ["hung", *(f"c{n}" for n in range(9))]
    for name in names:
        await rig.subscribe(name)
    rig.chat.hang["hung"] = 3.0
    await story(rig)
    outbox = Outbox(rig.repos.outbox, [rig.chat], clock=rig.clock, policy=QUICK)
    async with serving(outbox):
        others = await until(lambda: len(rig.chat.messages) == 9)
    assert others < 1.0, f"the other nine channels waited {others:.2f} s behind the hung one"
    assert ("hung", (await rig.rows("hung"))[0].key) in rig.chat.requests or others < 3.0


async def test_a_rate_limit_holds_its_channel_and_rows_queued_later(rig: Rig) -> None:
    await rig.subscribe("busy")
    await rig.subscribe("calm")
    rig.chat.errors["busy"].append(RateLimited("slow down", retry_after=45))
    await story(rig)
    report = await rig.outbox.deliver_due()
    assert (report["rate_limited"], report["sent"]) == (1, 1)
    # A second story arrives inside the 45 s window: it queues behind the held row.
    rig.clock.advance(timedelta(seconds=10))
    await story(rig, "b.example", VENUE)
    await rig.outbox.deliver_due()
    assert [m.kind for m in rig.chat.channel("busy")] == []
    assert [m.kind for m in rig.chat.channel("calm")] == ["new", "update"]
    rig.clock.advance(timedelta(seconds=35))
    await rig.outbox.deliver_due()
    assert [m.kind for m in rig.chat.channel("busy")] == ["new", "update"], "in order"


async def test_nothing_is_sent_or_recovered_before_the_platform_is_ready(rig: Rig) -> None:
    await rig.subscribe("news")
    await story(rig)
    await story(rig, "b.example", VENUE)
    rig.chat.crash_after_post = True
    with suppress(Crash):
        await rig.outbox.deliver_due()
    assert [row.status for row in await rig.rows()] == ["sending", "pending"]
    assert len(rig.chat.messages) == 1, "the platform has the first post; we never heard"

    rig.clock.advance(rig.chat.in_flight)  # the restart comes after the post could still land
    restarted = FakeChat(messages=rig.chat.messages, by_key=rig.chat.by_key)
    restarted.gate = asyncio.Event()  # not logged in yet
    outbox = Outbox(rig.repos.outbox, [restarted], clock=rig.clock, policy=QUICK)
    async with serving(outbox):
        await asyncio.sleep(0.3)
        assert restarted.sinces == [], "nothing sent or reconciled before login"
        restarted.gate.set()
        await until(lambda: len(restarted.sinces) == 2)
    assert [m.kind for m in rig.chat.messages] == ["new", "update"], "none lost, none doubled"
    (first, second) = restarted.sinces
    assert first[1] is not None, "the row in flight is looked up before it is re-sent"
    assert second[1] is None, "a first attempt is just sent"
    assert [row.status for row in await rig.rows()] == ["sent", "sent"]


async def test_a_row_left_in_flight_is_looked_up_only_once_its_post_can_no_longer_land(
    rig: Rig,
) -> None:
    """A post still open at the platform when the bot died may land seconds later: reading
    the channel before then would miss it and post the row a second time. Later rows of the
    channel go ahead meanwhile."""
    await rig.subscribe("news")
    await story(rig)
    rig.chat.crash_after_post = True
    with suppress(Crash):
        await rig.outbox.deliver_due()
    assert [row.status for row in await rig.rows()] == ["sending"]
    await story(rig, "b.example", VENUE)
    rig.chat.sinces.clear()
    restarted = rig.new_outbox()
    rig.clock.advance(rig.chat.in_flight - timedelta(seconds=1))
    await restarted.deliver_due()
    assert [since for _, since in rig.chat.sinces] == [None], "only the later row went"
    assert [row.status for row in await rig.rows()] == ["sending", "sent"]
    rig.clock.advance(timedelta(seconds=1))
    await restarted.deliver_due()
    assert [since is not None for _, since in rig.chat.sinces] == [False, True]
    assert [m.kind for m in rig.chat.messages] == ["new", "update"], "none lost, none doubled"
    assert [row.status for row in await rig.rows()] == ["sent", "sent"]


async def test_a_row_queued_while_serving_is_sent_at_once(rig: Rig) -> None:
    await rig.subscribe("news")
    outbox = Outbox(rig.repos.outbox, [rig.chat], clock=rig.clock, policy=QUICK)
    async with serving(outbox) as wake:
        await asyncio.sleep(0.1)
        await story(rig)
        wake.set()
        waited = await until(lambda: len(rig.chat.messages) == 1)
    assert waited < 1.0


async def test_the_terminal_records_before_it_prints(rig: Rig) -> None:
    """A crash after printing must not print again: the row is sent before the print starts."""
    console = FakeChat(platform="discord", held=True)
    console.crash_after_post = True
    await rig.subscribe("news")
    await story(rig)
    outbox = Outbox(rig.repos.outbox, [console], clock=rig.clock)
    with suppress(Crash):
        await outbox.deliver_due()
    (row,) = await rig.rows("news")
    assert row.status == "sent"
    await rig.new_outbox(console).deliver_due()
    assert len(console.messages) == 1
