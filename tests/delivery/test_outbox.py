"""The outbox (RELIABILITY D1-D4, §3.5): no loss, no double post, limits honoured."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.errors import DeliveryError, DestinationGone, RateLimited
from bot.delivery.outbox import OutboxPolicy
from bot.delivery.records import KEY_LENGTH
from tests.delivery.fakes import Crash, FakeChat
from tests.delivery.rig import Rig, channel
from tests.stories.helpers import KIM, TRUMP, analysis

HANOI = analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27")


async def alert_for(rig: Rig, *names: str) -> None:
    for name in names:
        await rig.subscribe(name)
    await rig.publish(await rig.room.item("a.example", "Trump, Kim", HANOI, rig.clock()))


async def test_keys_are_deterministic_nonces(rig: Rig) -> None:
    await alert_for(rig, "news")
    (row,) = await rig.rows("news")
    assert len(row.key) == KEY_LENGTH <= 25
    assert row.key.isalnum()


async def test_crash_between_send_and_commit_resends_the_same_key_once(rig: Rig) -> None:
    await alert_for(rig, "news")
    rig.chat.crash_after_post = True
    with pytest.raises(Crash):
        await rig.outbox.deliver_due()
    (row,) = await rig.rows("news")
    assert row.status == "sending"

    rig.clock.advance(rig.chat.in_flight)  # a new process, once the post can no longer land
    restarted = rig.new_outbox()
    report = await restarted.deliver_due()
    assert report["sent"] == 1
    assert len(rig.chat.channel("news")) == 1  # the platform de-duplicated the nonce
    assert [key for _, key in rig.chat.requests] == [row.key, row.key]
    (row,) = await rig.rows("news")
    assert (row.status, row.message_id, row.attempts) == ("sent", "m1", 2)
    assert (await restarted.deliver_due()).outcomes.total() == 0


async def test_restarts_never_lose_a_row(rig: Rig) -> None:
    await alert_for(rig, "a", "b", "c")
    # Stop before any send: the rows wait in the database for the next process.
    assert [row.status for row in await rig.rows()] == ["pending"] * 3
    await rig.new_outbox().deliver_due()
    await rig.new_outbox().deliver_due()
    assert sorted(m.channel for m in rig.chat.messages) == ["a", "b", "c"]
    await rig.new_outbox().deliver_due()
    await rig.new_outbox().deliver_due()
    assert len(rig.chat.messages) == 3


async def test_rate_limit_honoured_and_other_channels_carry_on(rig: Rig) -> None:
    await alert_for(rig, "busy", "calm")
    rig.chat.errors["busy"].append(RateLimited("slow down", retry_after=2.5))
    report = await rig.outbox.deliver_due()
    assert (report["rate_limited"], report["sent"]) == (1, 1)
    assert [m.channel for m in rig.chat.messages] == ["calm"]
    (row,) = await rig.rows("busy")
    assert row.status == "pending"
    assert row.not_before == rig.clock() + timedelta(seconds=2.5)

    rig.clock.advance(timedelta(seconds=2))
    assert (await rig.outbox.deliver_due()).outcomes.total() == 0  # not before retry_after
    rig.clock.advance(timedelta(seconds=1))
    assert (await rig.outbox.deliver_due())["sent"] == 1
    assert sorted(m.channel for m in rig.chat.messages) == ["busy", "calm"]


@pytest.mark.parametrize(
    "error",
    ["404 Unknown Channel", "403 Missing Access (50001)", "403 Missing Permissions (50013)"],
)
async def test_gone_destination_disabled_once_admins_told_once_others_carry_on(
    rig: Rig, error: str
) -> None:
    await alert_for(rig, "gone", "fine")
    rig.chat.gone["gone"] = DestinationGone(error)
    await rig.publish(
        await rig.room.item(
            "b.example",
            "Venue set",
            analysis(TRUMP, KIM, city="Hanoi", venue="Metropole"),
            rig.clock(),
        )
    )
    await rig.outbox.deliver_due()
    await rig.outbox.deliver_due()
    assert rig.chat.admin_notices == [("gone", error)]
    assert [channel for channel, _ in rig.chat.requests].count("gone") == 1
    assert [m.kind for m in rig.chat.channel("fine")] == ["new", "update"]
    assert {row.status for row in await rig.rows("gone")} == {"failed"}
    subscription = await rig.desk.subscription(channel("gone"))
    assert subscription is not None
    assert subscription.disabled_reason == error
    # Later stories are not routed to it at all, and a restart asks nothing of it.
    await rig.publish(
        await rig.room.item(
            "c.example",
            "Another summit",
            analysis(TRUMP, {"name": "Xi Jinping"}, city="Osaka"),
            rig.clock(),
        )
    )
    await rig.new_outbox().deliver_due()
    await rig.outbox.deliver_due()
    assert [channel for channel, _ in rig.chat.requests].count("gone") == 1
    assert len(rig.chat.admin_notices) == 1
    # Turning alerts on again (the admin fixed permissions) re-enables the channel.
    rig.chat.gone.clear()
    assert (await rig.desk.subscribe(channel("gone"), "alerts")).disabled_reason is None


async def test_transient_errors_back_off_exponentially_then_expire(rig: Rig) -> None:
    await alert_for(rig, "flaky")
    rig.chat.errors["flaky"] += [DeliveryError("502 Bad Gateway")] * 3
    start = rig.clock()
    await rig.outbox.deliver_due()
    (row,) = await rig.rows("flaky")
    assert row.not_before == start + timedelta(seconds=30)
    rig.clock.now = row.not_before
    await rig.outbox.deliver_due()
    (row,) = await rig.rows("flaky")
    assert row.not_before == rig.clock() + timedelta(seconds=60)
    rig.clock.now = start + timedelta(hours=2)  # past max_age while still failing
    report = await rig.outbox.deliver_due()
    assert report["expired"] == 1
    (row,) = await rig.rows("flaky")
    assert (row.status, row.attempts) == ("expired", 3)
    assert row.last_error == "502 Bad Gateway"


async def test_one_channel_keeps_its_order_behind_a_failure(rig: Rig) -> None:
    await alert_for(rig, "news")
    await rig.publish(
        await rig.room.item(
            "b.example",
            "Venue set",
            analysis(TRUMP, KIM, city="Hanoi", venue="Metropole"),
            rig.clock(),
        )
    )
    rig.chat.errors["news"].append(DeliveryError("timeout"))
    await rig.outbox.deliver_due()
    assert rig.chat.messages == []  # the update waits behind the failed "new"
    rig.clock.advance(timedelta(seconds=30))
    await rig.outbox.deliver_due()
    assert [m.kind for m in rig.chat.channel("news")] == ["new", "update"]


async def test_a_crashing_notifier_is_a_transient_failure(rig: Rig) -> None:
    await alert_for(rig, "news")
    rig.chat.errors["news"].append(RuntimeError("renderer bug"))
    assert (await rig.outbox.deliver_due())["retry"] == 1
    (row,) = await rig.rows("news")
    assert row.status == "pending"
    assert "renderer bug" in (row.last_error or "")


async def test_rows_for_an_unconfigured_platform_wait(rig: Rig) -> None:
    await rig.desk.subscribe(channel("team", platform="slack"), "alerts")
    await rig.publish(await rig.room.item("a.example", "Trump, Kim", HANOI, rig.clock()))
    await rig.outbox.deliver_due()
    assert rig.chat.requests == []
    slack = FakeChat(platform="slack")
    await rig.new_outbox(slack).deliver_due()
    assert [m.kind for m in slack.messages] == ["digest", "new"]


async def test_posts_to_one_channel_are_paced_per_platform(store: object) -> None:
    rig = Rig(store, policy=OutboxPolicy(pace={"discord": timedelta(seconds=1)}))  # type: ignore[arg-type]
    await alert_for(rig, "news")
    await rig.publish(
        await rig.room.item(
            "b.example",
            "Venue set",
            analysis(TRUMP, KIM, city="Hanoi", venue="Metropole"),
            rig.clock(),
        )
    )
    await rig.outbox.deliver_due()
    assert len(rig.chat.messages) == 2
    assert rig.sleeps == [1.0, 1.0], "the welcome digest, the alert, the update: a gap each"


async def test_an_event_stored_but_never_routed_is_routed_at_start(rig: Rig) -> None:
    from bot.delivery.service import DeliveryService
    from bot.stories.sink import StorySink

    await rig.subscribe("news")
    unrouted = StorySink(rig.repos.stories, clock=rig.clock)  # the process died before routing
    await unrouted.publish([await rig.room.item("a.example", "Trump, Kim", HANOI, rig.clock())])
    assert await rig.rows("news") == []
    restarted = DeliveryService.build(rig.repos, [rig.chat], clock=rig.clock)
    await restarted.start()
    await restarted.tick()
    assert [m.kind for m in rig.chat.channel("news")] == ["new"]
