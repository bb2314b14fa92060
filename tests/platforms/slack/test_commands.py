"""Every slash command through the real Bolt app (signed HTTP) and a fake Slack on 127.0.0.1.

Assertions read what the fake received on the response_url and the Web API: what Slack would
have shown. After each test every recorded payload is checked for live Slack syntax and limits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.core.errors import NewsbotError
from bot.core.stories import Destination, Subscription
from bot.platforms.slack.commands import GENERIC_ERROR
from tests.platforms.slack.checks import injection_problems, limit_problems
from tests.platforms.slack.conftest import Chat
from tests.platforms.slack.desk import FakeNewsDesk, hostile_story, huge_story, make_feed
from tests.platforms.slack.fake import (
    CHANNEL_ID,
    GROUP_MEMBER,
    MEMBER,
    OUTSIDE_CHANNEL,
    OWNER,
    TEAM_ID,
    USERS,
    FakeSlack,
)

HERE = Destination("slack", CHANNEL_ID, TEAM_ID)


@pytest.fixture(autouse=True)
def every_payload_is_safe(fake_slack: FakeSlack) -> Iterator[None]:
    """Whatever a test did, nothing Slack received may carry live syntax or break a limit."""
    yield
    for call in fake_slack.calls:
        if call.method in ("response_url", "chat.postMessage"):
            assert injection_problems(call.params) == [], call.params
            assert limit_problems(call.params) == [], call.method


def ephemeral(answer_response: dict[str, object]) -> bool:
    return answer_response.get("response_type") == "ephemeral"


# --- /summit ------------------------------------------------------------------------------------


async def test_summit_latest_answers_the_channel(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/summit", "latest 2")
    assert answer.ack == ""
    assert desk.called("latest") == [(2,)]
    assert answer.response["response_type"] == "in_channel"
    assert "Leaders to meet in Geneva (story 1)" in answer.text
    assert "<https://www.reuters.com/a?x=1&amp;y=2|reuters.com>" in answer.text


@pytest.mark.parametrize("text", ["latest 0", "latest 11", "latest many", "bogus"])
async def test_summit_bad_input_gets_usage(chat: Chat, desk: FakeNewsDesk, text: str) -> None:
    answer = await chat("/summit", text)
    assert ephemeral(answer.response)
    assert "*Usage*" in answer.text
    assert "/summit latest" in answer.text
    assert desk.calls == []


async def test_summit_search(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/summit", "search  geneva   story 2")
    assert desk.called("search") == [("geneva story 2", 10)]
    assert "story 2" in answer.text
    assert "story 1)" not in answer.text


async def test_summit_search_needs_words(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/summit", "search x")
    assert "2 to 100 characters" in answer.text
    assert desk.calls == []


async def test_summit_story_in_full(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/summit", "story #1")
    assert desk.called("story") == [(1,)]
    assert "Why it is a summit" in answer.text
    assert "Villa La Grange" in answer.text


async def test_summit_story_not_a_number(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/summit", "story twelve")
    assert "story's number" in answer.text
    assert desk.calls == []


async def test_summit_story_unknown_is_one_sentence(chat: Chat) -> None:
    answer = await chat("/summit", "story 42")
    assert ephemeral(answer.response)
    assert "There is no story #42." in answer.text
    assert "Usage" not in answer.text


async def test_summit_upcoming_uploads_a_calendar(chat: Chat, fake_slack: FakeSlack) -> None:
    answer = await chat("/summit", "upcoming")
    assert "Upcoming summits (2)" in answer.text
    assert "calendar file above" in answer.text
    (ics,) = fake_slack.uploads.values()
    assert ics.startswith(b"BEGIN:VCALENDAR")
    assert b"UID:story-2" in ics
    (complete,) = fake_slack.called("files.completeUploadExternal")
    assert complete.params["channel_id"] == CHANNEL_ID


async def test_summit_upcoming_without_channel_access_falls_back(chat: Chat) -> None:
    answer = await chat("/summit", "upcoming", channel=OUTSIDE_CHANNEL)
    assert "Upcoming summits (2)" in answer.text
    assert "/invite @newsbot" in answer.text


async def test_hostile_and_huge_stories_stay_inert_and_within_limits(
    chat: Chat, desk: FakeNewsDesk
) -> None:
    desk.stories = [hostile_story(), huge_story()]
    for text in ("latest 2", "story 666", "story 999", "upcoming"):
        await chat("/summit", text)
    await chat("/digest", "now")
    # every_payload_is_safe checks each recorded payload


# --- /feeds -------------------------------------------------------------------------------------


async def test_feeds_list(chat: Chat) -> None:
    answer = await chat("/feeds", "list")
    assert ephemeral(answer.response)
    assert "News 1" in answer.text
    assert "<https://news1.example.com/rss|news1.example.com>" in (answer.text)


async def test_feeds_add_by_an_admin(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/feeds", "add <https://example.com/rss.xml?a=1&amp;b=2>")
    assert desk.called("add_feed") == [("https://example.com/rss.xml?a=1&b=2",)]
    assert "Added feed `#2`" in answer.text


@pytest.mark.parametrize("text", ["add ftp://example.com/x", "add file:///etc/passwd", "add"])
async def test_feeds_add_bad_address(chat: Chat, desk: FakeNewsDesk, text: str) -> None:
    answer = await chat("/feeds", text)
    assert "https://" in answer.text
    assert "*Usage*" in answer.text
    assert desk.calls == []


@pytest.mark.parametrize("user", [MEMBER])
async def test_feeds_add_refused_for_a_member(chat: Chat, desk: FakeNewsDesk, user: str) -> None:
    answer = await chat("/feeds", "add https://example.com/rss", user=user)
    assert "Only workspace admins and owners and members of @newsbot-admins" in answer.text
    assert desk.called("add_feed") == []


@pytest.mark.parametrize("user", [OWNER, GROUP_MEMBER])
async def test_owners_and_the_admin_group_may_configure(
    chat: Chat, desk: FakeNewsDesk, user: str
) -> None:
    await chat("/feeds", "remove 1", user=user)
    assert desk.called("remove_feed") == [(1,)]


async def test_feeds_remove(chat: Chat, desk: FakeNewsDesk) -> None:
    desk.feeds[3] = make_feed(3)
    answer = await chat("/feeds", "remove #3")
    assert "Removed feed `#3`" in answer.text


async def test_feeds_remove_bad_and_unknown(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/feeds", "remove latest")
    assert "feed's number" in answer.text
    answer = await chat("/feeds", "remove 77")
    assert "There is no feed #77." in answer.text


# --- /alerts ------------------------------------------------------------------------------------


async def test_alerts_on_both_with_schedule_and_zone(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/alerts", "on both daily 08:00 asia/seoul")
    assert desk.called("subscribe") == [(HERE, "both", "0 8 * * *", "Asia/Seoul", None)]
    assert "alerts and a digest on `0 8 * * *` (Asia/Seoul)" in answer.text


async def test_alerts_on_cron_weekdays_become_names(chat: Chat, desk: FakeNewsDesk) -> None:
    await chat("/alerts", "on digest 30 7 * * 1-5")
    assert desk.called("subscribe")[0][2] == "30 7 * * mon,tue,wed,thu,fri"


async def test_alerts_on_defaults_to_alerts(chat: Chat, desk: FakeNewsDesk) -> None:
    await chat("/alerts", "on")
    assert desk.called("subscribe") == [(HERE, "alerts", None, "UTC", None)]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("on alerts daily 08:00", "apply only to digests"),
        ("on digest at noon", "cannot read the schedule"),
        ("on digest daily 08:00 Mars/Olympus", "not a time zone"),
        ("on digest 0 8 * * 9", "day of week “9” in the schedule is not valid"),
        ("sideways", "I do not know"),
        ("off now", "takes nothing"),
    ],
)
async def test_alerts_bad_input(chat: Chat, desk: FakeNewsDesk, text: str, says: str) -> None:
    answer = await chat("/alerts", text)
    assert says in answer.text
    assert "/alerts on" in answer.text
    assert desk.called("subscribe") == desk.called("unsubscribe") == []


@pytest.mark.parametrize(
    ("command", "text"), [("/feeds", "list"), ("/alerts", "status"), ("/watch", "list")]
)
async def test_reading_settings_needs_an_admin_too(
    chat: Chat, desk: FakeNewsDesk, command: str, text: str
) -> None:
    answer = await chat(command, text, user=MEMBER)
    assert "Only workspace admins and owners" in answer.text
    assert desk.calls == []


async def test_alerts_refused_for_a_member(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/alerts", "off", user=MEMBER)
    assert "Only workspace admins" in answer.text
    assert desk.called("unsubscribe") == []


async def test_alerts_off_and_status(chat: Chat, desk: FakeNewsDesk) -> None:
    desk.subscriptions[HERE] = Subscription(HERE, "digest", "0 8 * * *", "Asia/Seoul")
    answer = await chat("/alerts", "status")
    assert "Scheduled digest" in answer.text
    assert "Asia/Seoul" in answer.text
    answer = await chat("/alerts", "off")
    assert desk.called("unsubscribe") == [(HERE,)]
    assert "off in this channel" in answer.text
    answer = await chat("/alerts", "status")
    assert "Alerts are off" in answer.text


# --- /digest ------------------------------------------------------------------------------------


async def test_digest_now_posts_to_the_channel_once_a_minute(
    chat: Chat, desk: FakeNewsDesk
) -> None:
    answer = await chat("/digest", "now", user=MEMBER)
    assert answer.response["response_type"] == "in_channel"
    assert "Summit digest" in answer.text
    assert desk.called("digest_now") == [(HERE,)]
    answer = await chat("/digest", "now", user=MEMBER)
    assert "Please wait" in answer.text
    assert len(desk.called("digest_now")) == 1


async def test_digest_bad_input(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/digest", "tomorrow")
    assert "/digest now" in answer.text
    assert desk.calls == []


# --- /watch -------------------------------------------------------------------------------------


async def test_watch_add_list_remove(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/watch", "add Emmanuel  Macron")
    assert desk.called("watch") == [(HERE, "Emmanuel Macron")]
    assert "Now watching" in answer.text
    answer = await chat("/watch", "list")
    assert "Emmanuel Macron" in answer.text
    answer = await chat("/watch", "remove Emmanuel Macron")
    assert "Nothing is watched here" in answer.text


@pytest.mark.parametrize("text", ["add x", "remove", "rename a b"])
async def test_watch_bad_input(chat: Chat, desk: FakeNewsDesk, text: str) -> None:
    answer = await chat("/watch", text)
    assert "*Usage*" in answer.text
    assert desk.calls == []


async def test_watch_refused_for_a_member(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/watch", "add Macron", user=MEMBER)
    assert "Only workspace admins" in answer.text
    assert desk.called("watch") == []


# --- errors -------------------------------------------------------------------------------------


async def test_newsbot_error_is_one_sentence(chat: Chat, desk: FakeNewsDesk) -> None:
    desk.fail_with = NewsbotError("The database is busy <!channel>; try again.")
    answer = await chat("/summit", "latest")
    assert "The database is busy &lt;!channel&gt;; try again." in answer.text
    assert ephemeral(answer.response)


async def test_unexpected_error_is_generic_and_logged(
    chat: Chat, desk: FakeNewsDesk, caplog: pytest.LogCaptureFixture
) -> None:
    desk.fail_with = RuntimeError("boom")
    with caplog.at_level(logging.ERROR, logger="bot.platforms.slack.commands"):
        answer = await chat("/feeds", "list")
    assert GENERIC_ERROR in answer.text
    assert "boom" not in answer.text
    assert any(record.exc_info for record in caplog.records)


# --- issue 11 items -----------------------------------------------------------------------------


async def test_alerts_on_where_newsbot_is_not_a_member_says_so(
    chat: Chat, desk: FakeNewsDesk
) -> None:
    answer = await chat("/alerts", "on", channel=OUTSIDE_CHANNEL)
    assert "newsbot is not a member of #news, so it cannot post there" in answer.text
    assert "`/invite @newsbot`" in answer.text
    assert desk.called("subscribe") == []


async def test_a_demoted_admin_loses_rights_at_once(
    chat: Chat, desk: FakeNewsDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = await chat("/watch", "add Macron", user=MEMBER)
    assert "Only workspace admins" in answer.text
    monkeypatch.setitem(USERS, MEMBER, {**USERS[MEMBER], "is_admin": True})
    answer = await chat("/watch", "add Macron", user=MEMBER)
    assert "Now watching" in answer.text
    monkeypatch.setitem(USERS, MEMBER, {**USERS[MEMBER], "is_admin": False})
    answer = await chat("/watch", "add Putin", user=MEMBER)
    assert "Only workspace admins" in answer.text
    assert desk.called("watch") == [(HERE, "Macron")]


async def test_commands_in_a_direct_message_are_refused(chat: Chat, desk: FakeNewsDesk) -> None:
    answer = await chat("/feeds", "list", channel="D0DIRECT")
    assert "not in a direct message" in answer.text
    assert desk.calls == []
