"""The Slack Notifier against a fake Slack Web API on 127.0.0.1 (D4, D5, §3.2)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import DeliveryError, DestinationGone, RateLimited
from bot.core.stories import Destination, Digest, FactChange, StoryEvent
from bot.platforms.slack.notifier import EVENT_TYPE, SlackNotifier
from tests.platforms.slack.checks import injection_problems, limit_problems
from tests.platforms.slack.desk import NOW, hostile_story, huge_story, make_story
from tests.platforms.slack.fake import (
    BOT_TOKEN,
    CHANNEL_ID,
    GONE_CHANNEL,
    TEAM_ID,
    Failure,
    FakeSlack,
)

HERE = Destination("slack", CHANNEL_ID, TEAM_ID)
NEW = StoryEvent("new", make_story(1))


def notifier_for(fake: FakeSlack) -> SlackNotifier:
    """A notifier as SlackBot builds it: its client never retries on its own."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.base + "/api/", retry_handlers=[])
    return SlackNotifier(client, timeout=5)


@pytest.fixture
async def notifier(fake_slack: FakeSlack) -> AsyncIterator[SlackNotifier]:
    yield notifier_for(fake_slack)
    for call in fake_slack.called("chat.postMessage"):
        assert injection_problems(call.params) == []
        assert limit_problems(call.params) == []


async def test_an_alert_carries_its_key_in_metadata(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    ts = await notifier.send_alert(HERE, NEW, "key-1")
    (post,) = fake_slack.posts()
    assert ts == post["ts"]
    assert post["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"key": "key-1"}}
    (call,) = fake_slack.called("chat.postMessage")
    assert call.params["unfurl_links"] is False
    assert "New summit story" in call.params["text"]


async def test_an_update_says_what_changed(notifier: SlackNotifier, fake_slack: FakeSlack) -> None:
    change = FactChange(NOW, "city", "Geneva", "Vienna")
    await notifier.send_alert(HERE, StoryEvent("update", make_story(1), (change,)), "key-u")
    (call,) = fake_slack.called("chat.postMessage")
    assert "city changed" in call.params["text"]
    assert any("*City*: Geneva → Vienna" in str(block) for block in call.params["blocks"])


async def test_hostile_and_huge_content_is_inert_and_within_limits(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    for index, story in enumerate((hostile_story(), huge_story())):
        await notifier.send_alert(HERE, StoryEvent("new", story), f"n{index}")
        changes = story.changes[:3]
        await notifier.send_alert(HERE, StoryEvent("update", story, changes), f"u{index}")
    stories = tuple(replace(huge_story(n), id=n) for n in range(200))
    await notifier.send_digest(HERE, Digest("Summit digest", stories, NOW), "digest-big")
    assert len(fake_slack.posts()) > 5  # the fixture checks every post


async def test_a_long_digest_is_split_with_one_key_per_page(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    stories = tuple(replace(huge_story(n), id=n) for n in range(200))
    ts = await notifier.send_digest(HERE, Digest("Summit digest", stories, NOW), "d1")
    posts = fake_slack.posts()
    assert 1 < len(posts) <= 3
    assert ts == posts[0]["ts"]
    keys = [post["metadata"]["event_payload"]["key"] for post in posts]
    assert keys == ["d1", "d1~01", "d1~02"][: len(posts)]
    assert "more not shown" in str(posts[-1]["blocks"])


async def test_429_is_rate_limited_with_retry_after(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    fake_slack.fail(
        "chat.postMessage", Failure(status=429, error="ratelimited", headers={"Retry-After": "30"})
    )
    with pytest.raises(RateLimited) as raised:
        await notifier.send_alert(HERE, NEW, "k")
    assert raised.value.retry_after == 30.0
    assert fake_slack.posts() == []
    await notifier.send_alert(HERE, NEW, "k")
    assert len(fake_slack.posts()) == 1


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        (GONE_CHANNEL, None),
        (CHANNEL_ID, "not_in_channel"),
        (CHANNEL_ID, "is_archived"),
        (CHANNEL_ID, "account_inactive"),
        (CHANNEL_ID, "missing_scope"),
    ],
)
async def test_a_gone_channel_is_destination_gone(
    notifier: SlackNotifier, fake_slack: FakeSlack, channel: str, error: str | None
) -> None:
    if error:
        fake_slack.fail("chat.postMessage", Failure(error=error))
    with pytest.raises(DestinationGone):
        await notifier.send_alert(Destination("slack", channel, TEAM_ID), NEW, "k")


async def test_other_errors_are_delivery_errors(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.postMessage", Failure(error="invalid_blocks"))
    with pytest.raises(DeliveryError) as raised:
        await notifier.send_alert(HERE, NEW, "k")
    assert type(raised.value) is DeliveryError


async def test_a_crash_between_send_and_commit_neither_loses_nor_doubles(
    fake_slack: FakeSlack,
) -> None:
    queued = datetime.now(UTC)
    first_process = notifier_for(fake_slack)
    ts = await first_process.send_alert(HERE, NEW, "row-7")
    assert fake_slack.called("conversations.history") == [], "a first attempt reads nothing"
    # The process dies here, before the outbox records ts; the row stays "sending".
    del first_process
    restarted = notifier_for(fake_slack)
    again = await restarted.send_alert(HERE, NEW, "row-7", since=queued)
    assert again == ts
    assert len(fake_slack.posts()) == 1
    (read,) = fake_slack.called("conversations.history")
    assert read.params["include_all_metadata"] in ("1", "true", "True")
    assert float(read.params["oldest"]) < queued.timestamp()


async def test_reconciliation_pages_back_past_many_newer_messages(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    queued = datetime.now(UTC)
    ts = await notifier.send_alert(HERE, NEW, "row-1")
    for number in range(250):  # the channel kept talking while newsbot was down
        await notifier.send_alert(HERE, NEW, f"other-{number}")
    again = await notifier.send_alert(HERE, NEW, "row-1", since=queued)
    assert again == ts
    assert len(fake_slack.posts()) == 251, "not posted a second time"
    assert len(fake_slack.called("conversations.history")) == 2, "two pages of 200"


async def test_history_since_the_row_was_queued_only(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    await notifier.send_alert(HERE, NEW, "row-2")
    later = datetime.now(UTC) + timedelta(minutes=5)  # as if queued after that post
    await notifier.send_alert(HERE, NEW, "row-2", since=later)
    assert len(fake_slack.posts()) == 2, "an older message with the key is not this row's"


async def test_a_lost_answer_is_reconciled_before_the_retry(
    notifier: SlackNotifier, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    queued = datetime.now(UTC)
    await notifier.send_alert(HERE, NEW, "warm-up")
    fake_slack.fail("chat.postMessage", Failure(status=500, error="internal_error", commit=True))
    with pytest.raises(DeliveryError):
        await notifier.send_alert(HERE, NEW, "row-9")
    assert len(fake_slack.posts()) == 2  # Slack posted it; we were not told
    with caplog.at_level(logging.INFO, logger="bot.platforms.slack.notifier"):
        ts = await notifier.send_alert(HERE, NEW, "row-9", since=queued)
    assert ts == fake_slack.posts()[1]["ts"]
    assert len(fake_slack.posts()) == 2
    assert "already in" in caplog.text


async def test_a_retry_after_a_refusal_posts_once(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    queued = datetime.now(UTC)
    fake_slack.fail("chat.postMessage", Failure(status=429, error="ratelimited"))
    with pytest.raises(RateLimited):
        await notifier.send_alert(HERE, NEW, "k")
    await notifier.send_alert(HERE, NEW, "k", since=queued)
    assert len(fake_slack.posts()) == 1
    assert len(fake_slack.called("conversations.history")) == 1


async def test_history_rate_limit_is_rate_limited(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    fake_slack.fail(
        "conversations.history",
        Failure(status=429, error="ratelimited", headers={"Retry-After": "60"}),
    )
    with pytest.raises(RateLimited):
        await notifier.send_alert(HERE, NEW, "k", since=datetime.now(UTC))
    assert fake_slack.posts() == []


async def test_ready_waits_for_auth_test(notifier: SlackNotifier, fake_slack: FakeSlack) -> None:
    fake_slack.fail("auth.test", Failure(status=503, error="service_unavailable"))
    await notifier.ready()
    assert len(fake_slack.called("auth.test")) == 2, "retried after the failure"
    fake_slack.fail("auth.test", Failure(error="invalid_auth"))
    with pytest.raises(DeliveryError, match="no longer valid"):
        await notifier.ready()


async def test_notify_admins_leaves_a_notice(
    notifier: SlackNotifier, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    await notifier.notify_admins(HERE, "the channel is archived <!channel>")
    (post,) = fake_slack.posts()
    assert "stopped posting" in post["text"]
    with caplog.at_level(logging.WARNING, logger="bot.platforms.slack.notifier"):
        await notifier.notify_admins(Destination("slack", GONE_CHANNEL), "gone")
    assert "stopped posting to channel C0GONE" in caplog.text
