"""Scheduled digests at their time in their time zone, once, with an injected clock."""

from __future__ import annotations

from datetime import timedelta

from bot.delivery.digests import DigestScheduler
from bot.delivery.records import digest_key
from tests.delivery.rig import Rig, channel
from tests.stories.helpers import KIM, TRUMP, analysis, day

HANOI = analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27")


async def test_daily_0800_seoul_fires_at_2300_utc_once(rig: Rig) -> None:
    # 2019-02-25 00:00 UTC is 09:00 in Seoul: the first digest is tomorrow 08:00 KST.
    await rig.subscribe("morning", "digest", schedule="0 8 * * *", timezone="Asia/Seoul")
    await rig.publish(await rig.room.item("a.example", "Trump, Kim", HANOI, rig.clock()))
    assert await rig.outbox.deliver_due() is not None
    assert rig.chat.messages == []  # digest mode: no alert

    rig.clock.now = day("2019-02-25T22:59")
    assert await rig.digests.enqueue_due() == 0
    rig.clock.now = day("2019-02-25T23:00")
    assert await rig.digests.enqueue_due() == 1
    assert await rig.digests.enqueue_due() == 0
    restarted = DigestScheduler(
        rig.repos.subscriptions, rig.repos.outbox, rig.repos.stories, clock=rig.clock
    )
    assert await restarted.enqueue_due() == 0
    await rig.outbox.deliver_due()
    (digest,) = rig.chat.channel("morning")
    assert digest.title == "Summit digest · 2019-02-26 08:00 Asia/Seoul"
    assert len(digest.stories) == 1
    assert digest.key == digest_key(channel("morning"), day("2019-02-25T23:00"))

    # The next one is a day later; a story-less day sends nothing but keeps the schedule.
    rig.clock.now = day("2019-02-26T23:00")
    assert await rig.digests.enqueue_due() == 0
    rig.clock.now = day("2019-02-27T22:59")
    await rig.publish(await rig.room.item("b.example", "Kim arrives", HANOI, rig.clock()))
    rig.clock.now = day("2019-02-27T23:00")
    assert await rig.digests.enqueue_due() == 1


async def test_downtime_coalesces_missed_digests_into_the_latest(rig: Rig) -> None:
    await rig.subscribe("morning", "both", schedule="0 8 * * *", timezone="Asia/Seoul")
    await rig.publish(await rig.room.item("a.example", "Trump, Kim", HANOI, rig.clock()))
    rig.clock.now = day("2019-02-28T12:00")  # three digest times passed while down
    assert await rig.digests.enqueue_due() == 1
    await rig.outbox.deliver_due()
    digests = [m for m in rig.chat.channel("morning") if m.kind == "digest"]
    assert [m.title for m in digests] == ["Summit digest · 2019-02-28 08:00 Asia/Seoul"]
    rig.clock.advance(timedelta(hours=1))
    assert await rig.digests.enqueue_due() == 0


async def test_digest_filters_apply(rig: Rig) -> None:
    from bot.core.stories import Filters

    await rig.subscribe("xi", "digest", filters=Filters(participants=("Xi Jinping",)))
    await rig.publish(await rig.room.item("a.example", "Trump, Kim", HANOI, rig.clock()))
    rig.clock.advance(timedelta(days=1))
    assert await rig.digests.enqueue_due() == 0
