"""Routing story events to subscribers and watchers: one alert, one update, no repeats."""

from __future__ import annotations

from bot.core.stories import Filters
from tests.delivery.rig import Rig, channel
from tests.stories.helpers import KIM, MOON, TRUMP, analysis, day

HANOI = analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27", end="2019-02-28")


async def test_new_story_one_alert_repeat_nothing_changed_date_one_update(rig: Rig) -> None:
    await rig.subscribe("news")
    first = await rig.room.item(
        "yonhap.example", "Trump, Kim to meet in Hanoi", HANOI, day("2019-02-25T08:00")
    )
    await rig.publish(first)
    await rig.outbox.deliver_due()
    assert [(m.kind, m.title) for m in rig.chat.channel("news")] == [
        ("new", "Trump, Kim to meet in Hanoi")
    ]

    repeat = await rig.room.item(
        "ap.example", "Kim heads to Vietnam for Trump talks", HANOI, day("2019-02-25T12:00")
    )
    await rig.publish(repeat)
    await rig.outbox.deliver_due()
    assert len(rig.chat.channel("news")) == 1

    moved = await rig.room.item(
        "reuters.example",
        "Hanoi summit pushed back a day",
        analysis(TRUMP, KIM, city="Hanoi", start="2019-02-28", end="2019-03-01"),
        day("2019-02-26T08:00"),
    )
    await rig.publish(moved)
    await rig.outbox.deliver_due()
    messages = rig.chat.channel("news")
    assert [m.kind for m in messages] == ["new", "update"]
    assert messages[1].changes == (
        "start_date:2019-02-27->2019-02-28",
        "end_date:2019-02-28->2019-03-01",
    )
    assert all(row.status == "sent" for row in await rig.rows("news"))


async def test_filters_min_score_and_modes(rig: Rig) -> None:
    await rig.subscribe("moon-only", filters=Filters(participants=("Moon Jae-in",)))
    await rig.subscribe("vietnam", filters=Filters(countries=("Vietnam",), keywords=("Hanoi",)))
    await rig.subscribe("strict", filters=Filters(min_score=0.95))
    await rig.subscribe("digest-only", "digest")
    await rig.publish(
        await rig.room.item("a.example", "Trump, Kim in Hanoi", HANOI, day("2019-02-25"))
    )
    await rig.outbox.deliver_due()
    receivers = {m.channel for m in rig.chat.messages}
    assert receivers == {"vietnam"}


async def test_watches_alert_on_mentions_once_per_channel(rig: Rig) -> None:
    await rig.subscribe("both-ways")
    await rig.desk.watch(channel("both-ways"), "Kim")
    await rig.desk.watch(channel("watcher"), "Jong-un")
    await rig.desk.watch(channel("elsewhere"), "Moon")
    await rig.publish(
        await rig.room.item("a.example", "Trump, Kim in Hanoi", HANOI, day("2019-02-25"))
    )
    await rig.outbox.deliver_due()
    assert sorted(m.channel for m in rig.chat.messages) == ["both-ways", "watcher"]
    # Moon joins the summit: a key fact changes, and the Moon watcher hears of it.
    await rig.publish(
        await rig.room.item(
            "b.example",
            "Moon to join Hanoi talks",
            analysis(TRUMP, KIM, MOON, city="Hanoi"),
            day("2019-02-26"),
        )
    )
    await rig.outbox.deliver_due()
    updated = sorted(m.channel for m in rig.chat.messages if m.kind == "update")
    assert updated == ["both-ways", "elsewhere", "watcher"]


async def test_routing_twice_queues_nothing_new(rig: Rig) -> None:
    await rig.subscribe("news")
    await rig.publish(await rig.room.item("a.example", "Trump, Kim", HANOI, day("2019-02-25")))
    before = await rig.rows()
    assert await rig.router.route_pending() == 0
    assert await rig.rows() == before
