"""The Discord Notifier against the fake Discord: nonces, rate limits, gone channels (D1-D4)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import discord.http
import pytest

from bot.core.errors import DeliveryError, DestinationGone, RateLimited
from bot.core.stories import Destination, Digest, FactChange, StoryEvent
from bot.platforms.discord.bot import NewsBot
from bot.platforms.discord.notifier import DiscordNotifier, marker_for, nonce_for
from tests.platforms.discord.checks import injection_problems, limit_problems
from tests.platforms.discord.desk import NOW, hostile_story, huge_story, make_story
from tests.platforms.discord.fake import CHANNEL_ID, GUILD_ID, FakeDiscord

HERE = Destination("discord", CHANNEL_ID, GUILD_ID)
KEY = "9f2c4e7a1b3d5f6081726354a9b8c7d6e5f4a3b2c1d0e9f8"
MESSAGES = rf"^/channels/{CHANNEL_ID}/messages$"


@pytest.fixture
def notifier(discord_bot: NewsBot) -> DiscordNotifier:
    return DiscordNotifier(discord_bot, timeout=5.0)


def posts(fake: FakeDiscord) -> list[dict[str, Any]]:
    return [call.body for call in fake.requests("POST", MESSAGES)]


async def test_alert_is_posted_with_a_deterministic_nonce_and_no_pings(
    notifier: DiscordNotifier, fake_discord: FakeDiscord
) -> None:
    message_id = await notifier.send_alert(HERE, StoryEvent("new", make_story()), KEY)
    (body,) = posts(fake_discord)
    assert body["nonce"] == KEY[:25]
    assert body["enforce_nonce"] is True
    assert body["allowed_mentions"] == {"parse": []}
    assert body["content"] == "**New summit story**"
    assert body["embeds"][0]["title"] == "Leaders to meet in Geneva (story 1)"
    assert message_id == fake_discord.messages[CHANNEL_ID][0]["id"]
    assert notifier.platform == "discord"


async def test_resending_the_same_key_returns_the_same_message(
    notifier: DiscordNotifier, fake_discord: FakeDiscord
) -> None:
    """A crash after Discord posted but before the outbox recorded it: the retry is deduped."""
    event = StoryEvent("new", make_story())
    first = await notifier.send_alert(HERE, event, KEY)
    second = await notifier.send_alert(HERE, event, KEY)
    assert first == second
    assert len(fake_discord.messages[CHANNEL_ID]) == 1
    assert [body["nonce"] for body in posts(fake_discord)] == [KEY[:25], KEY[:25]]


async def test_server_error_after_posting_is_retried_with_the_same_nonce(
    notifier: DiscordNotifier, fake_discord: FakeDiscord
) -> None:
    """Discord stored the message, then answered 502: discord.py retries, nothing doubles (D2)."""
    fake_discord.fail("POST", MESSAGES, 502, {"message": "Bad Gateway"}, commit=True)
    message_id = await notifier.send_alert(HERE, StoryEvent("new", make_story()), KEY)
    assert len(posts(fake_discord)) == 2
    assert {body["nonce"] for body in posts(fake_discord)} == {KEY[:25]}
    assert [m["id"] for m in fake_discord.messages[CHANNEL_ID]] == [message_id]


async def test_short_rate_limit_is_waited_out_then_sent_once(
    notifier: DiscordNotifier, fake_discord: FakeDiscord
) -> None:
    fake_discord.rate_limit(MESSAGES, retry_after=0.3)
    await notifier.send_alert(HERE, StoryEvent("new", make_story()), KEY)
    first, second = fake_discord.requests("POST", MESSAGES)
    assert second.at - first.at >= 0.3
    assert len(fake_discord.messages[CHANNEL_ID]) == 1


async def test_long_rate_limit_becomes_rate_limited_with_retry_after(
    notifier: DiscordNotifier, fake_discord: FakeDiscord
) -> None:
    """Longer than max_ratelimit_timeout: the outbox keeps the row and retries later (D1)."""
    fake_discord.rate_limit(MESSAGES, retry_after=3600)
    with pytest.raises(RateLimited) as raised:
        await notifier.send_alert(HERE, StoryEvent("new", make_story()), KEY)
    assert raised.value.retry_after == 3600
    assert len(posts(fake_discord)) == 1
    assert CHANNEL_ID not in fake_discord.messages


async def test_cloudflare_429_without_via_is_rate_limited_not_a_hot_loop(
    notifier: DiscordNotifier, fake_discord: FakeDiscord
) -> None:
    fake_discord.fail("POST", MESSAGES, 429, {"message": "banned"}, headers={"Retry-After": "120"})
    with pytest.raises(RateLimited) as raised:
        await notifier.send_alert(HERE, StoryEvent("new", make_story()), KEY)
    assert raised.value.retry_after == 120
    assert len(posts(fake_discord)) == 1


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (404, 10003, "Unknown Channel"),
        (403, 50001, "Missing Access"),
        (403, 50013, "Missing Permissions"),
    ],
)
async def test_gone_or_forbidden_channel_is_destination_gone_after_one_request(
    notifier: DiscordNotifier, fake_discord: FakeDiscord, status: int, code: int, message: str
) -> None:
    fake_discord.fail("POST", MESSAGES, status, {"message": message, "code": code})
    with pytest.raises(DestinationGone) as raised:
        await notifier.send_alert(HERE, StoryEvent("new", make_story()), KEY)
    assert f"{code}: {message}" in str(raised.value)
    assert len(posts(fake_discord)) == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, 10008),  # a message with this nonce was deleted moments ago: the channel is fine
        (400, 50035),
        (503, 0),
    ],
)
async def test_other_failures_are_delivery_errors(
    notifier: DiscordNotifier, fake_discord: FakeDiscord, status: int, code: int
) -> None:
    fake_discord.fail("POST", MESSAGES, status, {"message": "nope", "code": code})
    with pytest.raises(DeliveryError) as raised:
        await notifier.send_alert(HERE, StoryEvent("new", make_story()), KEY)
    assert not isinstance(raised.value, (DestinationGone, RateLimited))


async def test_a_send_that_hangs_is_a_delivery_error(
    discord_bot: NewsBot, fake_discord: FakeDiscord
) -> None:
    fake_discord.fail("POST", MESSAGES, 200, {}, delay=0.5)
    notifier = DiscordNotifier(discord_bot, timeout=0.1)
    with pytest.raises(DeliveryError, match="did not answer in time"):
        await notifier.send_alert(HERE, StoryEvent("new", make_story()), KEY)


async def test_unreachable_discord_is_a_delivery_error(
    notifier: DiscordNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", "http://127.0.0.1:9/api/v10")
    with pytest.raises(DeliveryError, match="could not reach Discord"):
        await notifier.send_alert(HERE, StoryEvent("new", make_story()), KEY)


async def test_not_logged_in_or_bad_channel(
    notifier: DiscordNotifier, fake_discord: FakeDiscord, desk: object
) -> None:
    with pytest.raises(DestinationGone):
        await notifier.send_alert(
            Destination("discord", "general"), StoryEvent("new", make_story()), KEY
        )
    idle = NewsBot.__new__(NewsBot)
    discord.Client.__init__(idle, intents=discord.Intents.none())
    with pytest.raises(DeliveryError, match="not logged in"):
        await DiscordNotifier(idle).send_alert(HERE, StoryEvent("new", make_story()), KEY)
    assert posts(fake_discord) == []


async def test_update_alert_payload(notifier: DiscordNotifier, fake_discord: FakeDiscord) -> None:
    change = FactChange(NOW, "city", "Geneva", "Vienna")
    await notifier.send_alert(HERE, StoryEvent("update", make_story(), (change,)), KEY)
    (body,) = posts(fake_discord)
    assert body["content"] == "**Summit story updated**: city changed"
    assert "**City**: Geneva → Vienna" in body["embeds"][0]["description"]


async def test_hostile_and_huge_alerts_are_inert_and_within_limits(
    notifier: DiscordNotifier, fake_discord: FakeDiscord
) -> None:
    stories = [hostile_story(1), huge_story(2)]
    for index, story in enumerate(stories):
        await notifier.send_alert(HERE, StoryEvent("new", story), f"{KEY}{index}new")
        await notifier.send_alert(
            HERE, StoryEvent("update", story, story.changes), f"{KEY}{index}upd"
        )
    await notifier.send_digest(HERE, Digest("Digest", tuple(stories) * 30, NOW), KEY + "dig")
    bodies = posts(fake_discord)
    assert len(bodies) >= 5
    for body in bodies:
        assert isinstance(body, dict)
        assert body["allowed_mentions"] == {"parse": []}
        assert limit_problems(body) == []
        assert injection_problems(body) == []


async def test_long_digest_pages_have_their_own_deterministic_nonces(
    notifier: DiscordNotifier, fake_discord: FakeDiscord
) -> None:
    digest = Digest("Daily digest", tuple(huge_story(n) for n in range(60)), NOW)
    first = await notifier.send_digest(HERE, digest, KEY)
    again = await notifier.send_digest(HERE, digest, KEY)
    nonces = [body["nonce"] for body in posts(fake_discord)]
    pages = len(nonces) // 2
    assert pages > 1
    assert nonces[:pages] == nonces[pages:] == [nonce_for(KEY, n) for n in range(pages)]
    assert all(len(str(nonce)) <= 25 for nonce in nonces)
    assert len(set(nonces)) == pages
    assert first == again == fake_discord.messages[CHANNEL_ID][0]["id"]
    assert len(fake_discord.messages[CHANNEL_ID]) == pages


async def test_notify_admins_leaves_an_inert_notice_in_the_channel(
    notifier: DiscordNotifier, fake_discord: FakeDiscord
) -> None:
    await notifier.notify_admins(HERE, "Missing Access @everyone")
    (body,) = posts(fake_discord)
    assert body["allowed_mentions"] == {"parse": []}
    assert body["content"].startswith(
        f"newsbot stopped posting summit alerts in <#{CHANNEL_ID}>: Missing Access @\u200beveryone."
    )


async def test_notify_admins_logs_when_the_channel_refuses(
    notifier: DiscordNotifier, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    fake_discord.fail("POST", MESSAGES, 403, {"message": "Missing Access", "code": 50001})
    with caplog.at_level(logging.INFO, logger="bot.platforms.discord"):
        await notifier.notify_admins(HERE, "Missing Access")
    assert f"newsbot stopped posting to channel {CHANNEL_ID} in guild {GUILD_ID}" in caplog.text


def test_nonces_fit_discord() -> None:
    assert nonce_for(KEY) == KEY[:25]
    assert nonce_for(KEY, 2) == KEY[:22] + "~02"
    assert nonce_for("short") == "short"


async def test_every_page_carries_its_marker_within_the_limits(
    notifier: DiscordNotifier, fake_discord: FakeDiscord
) -> None:
    await notifier.send_alert(HERE, StoryEvent("new", huge_story()), KEY)
    (body,) = posts(fake_discord)
    footer = body["embeds"][-1]["footer"]["text"]
    assert footer.endswith(marker_for(KEY))
    assert limit_problems(body) == []


async def test_a_resend_after_the_nonce_window_finds_its_marker_in_history(
    notifier: DiscordNotifier, fake_discord: FakeDiscord
) -> None:
    """Discord forgot the nonce (past its few minutes); 150 messages came between queue and post."""
    queued = datetime.now(UTC)
    for number in range(150):
        await notifier.send_alert(HERE, StoryEvent("new", make_story()), f"other-{number}")
    first = await notifier.send_alert(HERE, StoryEvent("new", make_story()), KEY)
    fake_discord.forget_nonces()
    again = await notifier.send_alert(HERE, StoryEvent("new", make_story()), KEY, since=queued)
    assert again == first
    assert len(fake_discord.messages[CHANNEL_ID]) == 151, "not posted a second time"
    reads = fake_discord.requests("GET", MESSAGES)
    assert len(reads) == 2, "paged through history: two pages of 100"


async def test_a_resend_with_nothing_in_history_posts_once(
    notifier: DiscordNotifier, fake_discord: FakeDiscord
) -> None:
    """The crash came before the post reached Discord: the marker is absent, so post it."""
    await notifier.send_alert(
        HERE, StoryEvent("new", make_story()), KEY, since=datetime.now(UTC) - timedelta(hours=1)
    )
    assert len(fake_discord.messages[CHANNEL_ID]) == 1
    assert len(fake_discord.requests("GET", MESSAGES)) == 1


async def test_ready_waits_for_the_gateway_or_a_rest_login(
    discord_bot: NewsBot, notifier: DiscordNotifier
) -> None:
    assert not discord_bot.is_ready()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(notifier.ready(), 0.3)
    notifier.use_rest_login()
    await asyncio.wait_for(notifier.ready(), 1)


async def test_no_history_permission_still_posts_and_keeps_the_channel(
    notifier: DiscordNotifier, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    fake_discord.fail("GET", MESSAGES, 403, {"message": "Missing Access", "code": 50001})
    with caplog.at_level(logging.WARNING, logger="bot.platforms.discord.notifier"):
        await notifier.send_alert(
            HERE, StoryEvent("new", make_story()), KEY, since=datetime.now(UTC)
        )
    assert len(fake_discord.messages[CHANNEL_ID]) == 1
    assert "Read Message History" in caplog.text
