"""Slash commands through the real discord.py client and a fake Discord on 127.0.0.1.

Every assertion reads the requests the fake recorded: what Discord would have received.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest

from bot.core.errors import InvalidInput
from bot.core.stories import Destination
from bot.platforms.discord.bot import NewsBot
from bot.platforms.discord.commands import GENERIC_ERROR
from tests.platforms.discord.checks import injection_problems, limit_problems
from tests.platforms.discord.desk import (
    INJECTION,
    FakeNewsDesk,
    hostile_story,
    huge_story,
    make_feed,
)
from tests.platforms.discord.fake import (
    BOT_TOKEN,
    CHANNEL_ID,
    GUILD_ID,
    INTERACTION_TOKEN_PREFIX,
    MEMBER_PERMISSIONS,
    Call,
    FakeDiscord,
    deliver,
    interaction,
)

HERE = Destination("discord", CHANNEL_ID, GUILD_ID)
EPHEMERAL = 64


class Chat:
    """Runs one command and returns the requests it caused."""

    def __init__(self, bot: NewsBot, fake: FakeDiscord) -> None:
        self.bot = bot
        self.fake = fake

    async def __call__(
        self, group: str, subcommand: str, options: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Call]:
        start = len(self.fake.calls)
        await deliver(self.bot, interaction(group, subcommand, options, **kwargs))
        return self.fake.calls[start:]


@pytest.fixture
def chat(discord_bot: NewsBot, fake_discord: FakeDiscord) -> Chat:
    return Chat(discord_bot, fake_discord)


def callback(calls: list[Call]) -> dict[str, Any]:
    (call,) = [c for c in calls if c.path.endswith("/callback")]
    assert isinstance(call.body, dict)
    return call.body


def answer(calls: list[Call]) -> dict[str, Any]:
    """The visible answer: the edit of the deferred response, or the immediate response."""
    edits = [c for c in calls if c.method == "PATCH" and c.path.endswith("/messages/@original")]
    if edits:
        assert isinstance(edits[-1].body, dict)
        return edits[-1].body
    body = callback(calls)
    assert body["type"] == 4
    data = body["data"]
    assert isinstance(data, dict)
    return data


def deferred(calls: list[Call], *, ephemeral: bool) -> bool:
    body = callback(calls)
    flags = (body.get("data") or {}).get("flags", 0)
    return body["type"] == 5 and bool(flags & EPHEMERAL) == ephemeral


def ephemeral_error(calls: list[Call]) -> str:
    """The one ephemeral sentence a failed command shows, however far it got."""
    body = callback(calls)
    if body["type"] == 4:
        assert body["data"]["flags"] == EPHEMERAL
        return str(body["data"]["content"])
    followups = [c for c in calls if c.method == "POST" and c.path.startswith("/webhooks/")]
    edits = [c for c in calls if c.method == "PATCH"]
    if followups:
        assert followups[-1].body["flags"] == EPHEMERAL
        # a public "thinking…" message is deleted so only the user sees the error
        assert [c for c in calls if c.method == "DELETE"]
        return str(followups[-1].body["content"])
    assert body["data"]["flags"] == EPHEMERAL
    return str(edits[-1].body["content"])


# --- registration ------------------------------------------------------------------------------


def test_commands_sync_to_the_dev_guild_on_start_and_never_globally(
    discord_bot: NewsBot, fake_discord: FakeDiscord
) -> None:
    assert fake_discord.requests("PUT", r"^/applications/\d+/commands$") == []
    (sync,) = fake_discord.requests("PUT", rf"^/applications/\d+/guilds/{GUILD_ID}/commands$")
    groups = {group["name"]: group for group in sync.body}
    assert set(groups) == {"summit", "feeds", "alerts", "digest", "watch"}
    for name in ("feeds", "alerts", "watch"):
        assert int(groups[name]["default_member_permissions"]) == 1 << 5  # MANAGE_GUILD, a hint
    subs = {(g, s["name"]): s for g, group in groups.items() for s in group["options"]}
    count = subs["summit", "latest"]["options"][0]
    assert (count["min_value"], count["max_value"]) == (1, 10)
    query = subs["summit", "search"]["options"][0]
    assert (query["min_length"], query["max_length"]) == (2, 100)
    mode, schedule, timezone = subs["alerts", "on"]["options"]
    assert [choice["value"] for choice in mode["choices"]] == ["alerts", "digest", "both"]
    assert schedule["autocomplete"] is True
    assert timezone["autocomplete"] is True
    assert subs["summit", "story"]["options"][0]["autocomplete"] is True
    assert subs["feeds", "remove"]["options"][0]["autocomplete"] is True
    for group in groups.values():
        assert len(group["description"]) <= 100
        for sub in group["options"]:
            assert 1 <= len(sub["description"]) <= 100


# --- /summit -----------------------------------------------------------------------------------


async def test_summit_latest(chat: Chat, desk: FakeNewsDesk) -> None:
    calls = await chat("summit", "latest", {"count": 2})
    assert deferred(calls, ephemeral=False)
    body = answer(calls)
    assert body["content"] == "**Latest summit stories**"
    assert [embed["title"] for embed in body["embeds"]] == [
        "#1 · Leaders to meet in Geneva (story 1)",
        "#2 · Leaders to meet in Geneva (story 2)",
    ]
    assert desk.called("latest") == [(2,)]


async def test_summit_latest_default_count(chat: Chat, desk: FakeNewsDesk) -> None:
    await chat("summit", "latest")
    assert desk.called("latest") == [(5,)]


async def test_summit_search(chat: Chat, desk: FakeNewsDesk) -> None:
    calls = await chat("summit", "search", {"query": "story 2"})
    body = answer(calls)
    assert [embed["title"] for embed in body["embeds"]] == [
        "#2 · Leaders to meet in Geneva (story 2)"
    ]
    calls = await chat("summit", "search", {"query": "nothing like this"})
    assert answer(calls)["content"] == "No summit story matches that search."


async def test_summit_story_by_number(chat: Chat, desk: FakeNewsDesk) -> None:
    calls = await chat("summit", "story", {"story": "#2"})
    embed = answer(calls)["embeds"][0]
    assert embed["title"] == "Leaders to meet in Geneva (story 2)"
    assert embed["url"] == "https://www.reuters.com/a"
    assert desk.called("story") == [(2,)]


async def test_summit_story_bad_input_is_refused_before_the_desk(
    chat: Chat, desk: FakeNewsDesk
) -> None:
    calls = await chat("summit", "story", {"story": "the big one"})
    assert ephemeral_error(calls).startswith("Pick a story from the list")
    assert desk.called("story") == []


async def test_summit_story_unknown_number_is_an_ephemeral_error(chat: Chat) -> None:
    calls = await chat("summit", "story", {"story": "999"})
    assert ephemeral_error(calls) == "There is no story #999."


async def test_summit_upcoming_attaches_a_calendar(chat: Chat, desk: FakeNewsDesk) -> None:
    calls = await chat("summit", "upcoming")
    (edit,) = [c for c in calls if c.method == "PATCH"]
    assert edit.content_type == "multipart/form-data"
    assert edit.body["embeds"][0]["title"] == "Upcoming summits (2)"
    ((name, data),) = edit.files
    assert name == "newsbot-summits.ics"
    assert data.startswith(b"BEGIN:VCALENDAR")
    assert b"UID:story-2" in data
    assert edit.body["allowed_mentions"] == {"parse": []}


async def test_summit_upcoming_without_stories(chat: Chat, desk: FakeNewsDesk) -> None:
    desk.stories = []
    calls = await chat("summit", "upcoming")
    assert answer(calls)["content"] == "No upcoming summits are known right now."
    assert desk.called("calendar") == []


# --- /feeds ------------------------------------------------------------------------------------


async def test_feeds_add(chat: Chat, desk: FakeNewsDesk) -> None:
    calls = await chat("feeds", "add", {"url": " https://news.example.org/rss "})
    assert deferred(calls, ephemeral=True)
    assert answer(calls)["content"] == "Added feed `#2` **Added feed** (news.example.org)."
    assert desk.called("add_feed") == [("https://news.example.org/rss",)]


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://x.example/", "javascript:alert(1)", "example.com/rss"]
)
async def test_feeds_add_refuses_non_http_addresses_before_the_desk(
    chat: Chat, desk: FakeNewsDesk, url: str
) -> None:
    calls = await chat("feeds", "add", {"url": url})
    assert ephemeral_error(calls).startswith("Give the feed's full address")
    assert desk.called("add_feed") == []


async def test_feeds_add_desk_refusal_is_an_ephemeral_sentence(chat: Chat) -> None:
    calls = await chat("feeds", "add", {"url": "https://news1.example.com/rss"})
    assert ephemeral_error(calls) == "That feed is already watched."


async def test_feeds_remove_and_list(chat: Chat, desk: FakeNewsDesk) -> None:
    desk.feeds[2] = make_feed(2, consecutive_failures=3, last_error="timeout")
    calls = await chat("feeds", "list")
    description = answer(calls)["embeds"][0]["description"]
    assert "`#1` **News 1** — [news1.example.com](https://news1.example.com/rss) — ✅ ok" in (
        description
    )
    assert "⚠️ failing (3×): timeout" in description
    calls = await chat("feeds", "remove", {"feed": "1"})
    assert answer(calls)["content"] == "Removed feed `#1` **News 1**."
    calls = await chat("feeds", "remove", {"feed": "1"})
    assert ephemeral_error(calls) == "There is no feed #1."
    calls = await chat("feeds", "remove", {"feed": "news"})
    assert ephemeral_error(calls).startswith("Pick a feed from the list")


# --- /alerts -----------------------------------------------------------------------------------


async def test_alerts_on_digest_with_friendly_schedule_and_timezone(
    chat: Chat, desk: FakeNewsDesk
) -> None:
    options = {"mode": "digest", "schedule": "weekdays 07:30", "timezone": "asia/seoul"}
    calls = await chat("alerts", "on", options)
    assert deferred(calls, ephemeral=True)
    assert desk.called("subscribe") == [
        (HERE, "digest", "30 7 * * mon,tue,wed,thu,fri", "Asia/Seoul", None)
    ]
    assert answer(calls)["content"] == (
        "This channel now gets a digest on `30 7 * * mon,tue,wed,thu,fri` (Asia/Seoul)."
    )


async def test_alerts_on_defaults_to_alerts(chat: Chat, desk: FakeNewsDesk) -> None:
    calls = await chat("alerts", "on")
    assert desk.called("subscribe") == [(HERE, "alerts", None, "UTC", None)]
    assert "alerts for new summit stories" in answer(calls)["content"]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (
            {"mode": "digest", "timezone": "Mars/Olympus_Mons"},
            "“Mars/Olympus\\_Mons” is not a time",
        ),
        ({"mode": "digest", "schedule": "every full moon"}, "I cannot read the schedule"),
        ({"mode": "digest", "schedule": "61 8 * * *"}, "The minute “61” in the schedule"),
        ({"mode": "both", "schedule": "25:00"}, "I cannot read the schedule"),
        ({"mode": "alerts", "schedule": "daily 08:00"}, "A schedule and time zone apply only"),
    ],
)
async def test_alerts_on_bad_input(
    chat: Chat, desk: FakeNewsDesk, options: dict[str, Any], error: str
) -> None:
    calls = await chat("alerts", "on", options)
    assert ephemeral_error(calls).startswith(error)
    assert desk.called("subscribe") == []


async def test_alerts_status_and_off(chat: Chat, desk: FakeNewsDesk) -> None:
    calls = await chat("alerts", "status")
    assert answer(calls)["content"].startswith("Alerts are off in this channel.")
    await chat("alerts", "on", {"mode": "both", "schedule": "0 8 * * *", "timezone": "UTC"})
    calls = await chat("alerts", "status")
    fields = {f["name"]: f["value"] for f in answer(calls)["embeds"][0]["fields"]}
    assert fields == {
        "Mode": "Alerts and a scheduled digest",
        "Schedule": "`0 8 * * *`",
        "Time zone": "UTC",
    }
    calls = await chat("alerts", "off")
    assert answer(calls)["content"] == "Summit alerts and digests are off in this channel."
    assert desk.called("unsubscribe") == [(HERE,)]


# --- /digest -----------------------------------------------------------------------------------


async def test_digest_now_posts_in_public_and_cools_down(chat: Chat, desk: FakeNewsDesk) -> None:
    calls = await chat("digest", "now", permissions=MEMBER_PERMISSIONS)
    assert deferred(calls, ephemeral=False)
    body = answer(calls)
    assert body["content"].startswith("**Summit digest** · 2 stories")
    assert len(body["embeds"]) == 2
    assert desk.called("digest_now") == [(HERE,)]
    calls = await chat("digest", "now")
    assert ephemeral_error(calls).startswith("Please wait")
    assert len(desk.called("digest_now")) == 1


async def test_digest_now_with_many_stories_posts_follow_up_pages(
    chat: Chat, desk: FakeNewsDesk, fake_discord: FakeDiscord
) -> None:
    desk.stories = [huge_story(n) for n in range(40)]
    calls = await chat("digest", "now")
    followups = [c for c in calls if c.method == "POST" and c.path.startswith("/webhooks/")]
    assert 1 <= len(followups) <= 2
    for call in [*followups, *[c for c in calls if c.method == "PATCH"]]:
        assert limit_problems(call.body) == []


# --- /watch ------------------------------------------------------------------------------------


async def test_watch_add_list_remove(chat: Chat, desk: FakeNewsDesk) -> None:
    calls = await chat("watch", "add", {"term": "  Macron "})
    assert answer(calls)["embeds"][0]["description"] == "• Macron"
    await chat("watch", "add", {"term": "climate"})
    calls = await chat("watch", "list")
    assert answer(calls)["embeds"][0]["description"] == "• Macron\n• climate"
    calls = await chat("watch", "remove", {"term": "Macron"})
    assert answer(calls)["embeds"][0]["title"] == "Still watching"
    calls = await chat("watch", "remove", {"term": "Macron"})
    assert ephemeral_error(calls) == "“Macron” is not watched here."
    assert desk.called("watch") == [(HERE, "Macron"), (HERE, "climate")]


# --- permissions -------------------------------------------------------------------------------

CONFIGURATION = [
    ("feeds", "add", {"url": "https://x.example/rss"}),
    ("feeds", "remove", {"feed": "1"}),
    ("alerts", "on", {"mode": "alerts"}),
    ("alerts", "off", {}),
    ("watch", "add", {"term": "Macron"}),
    ("watch", "remove", {"term": "Macron"}),
]


@pytest.mark.parametrize(("group", "sub", "options"), CONFIGURATION)
async def test_configuration_needs_manage_server_at_run_time(
    chat: Chat, desk: FakeNewsDesk, group: str, sub: str, options: dict[str, Any]
) -> None:
    """A member without MANAGE_GUILD (an admin removed the hint, or a crafted payload)."""
    calls = await chat(group, sub, options, permissions=MEMBER_PERMISSIONS)
    assert ephemeral_error(calls) == (
        "You need the Manage Server permission to change newsbot's settings here."
    )
    assert callback(calls)["type"] == 4  # refused before deferring
    assert desk.calls == []


@pytest.mark.parametrize(("group", "sub", "options"), CONFIGURATION)
async def test_configuration_is_refused_in_direct_messages(
    chat: Chat, desk: FakeNewsDesk, group: str, sub: str, options: dict[str, Any]
) -> None:
    calls = await chat(group, sub, options, in_guild=False)
    assert ephemeral_error(calls) == "This command works only in a server channel."
    assert desk.calls == []


async def test_members_may_read_stories_but_not_settings(chat: Chat, desk: FakeNewsDesk) -> None:
    calls = await chat("summit", "latest", permissions=MEMBER_PERMISSIONS)
    assert "errors" not in answer(calls)
    for group, sub in [("alerts", "status"), ("feeds", "list"), ("watch", "list")]:
        calls = await chat(group, sub, permissions=MEMBER_PERMISSIONS)
        assert ephemeral_error(calls) == (
            "You need the Manage Server permission to change newsbot's settings here."
        )
    assert [name for name, _ in desk.calls] == ["latest"]


# --- errors ------------------------------------------------------------------------------------


async def test_unexpected_errors_get_a_generic_sentence_and_a_logged_traceback(
    chat: Chat, desk: FakeNewsDesk, caplog: pytest.LogCaptureFixture
) -> None:
    desk.fail_with = RuntimeError("db password hunter2 leaked")
    with caplog.at_level(logging.ERROR, logger="bot.platforms.discord"):
        calls = await chat("summit", "latest")
    assert ephemeral_error(calls) == GENERIC_ERROR
    assert "hunter2" not in str([c.body for c in calls])
    (record,) = [r for r in caplog.records if r.name == "bot.platforms.discord.commands"]
    assert record.getMessage() == "/summit latest failed"
    assert "RuntimeError: db password hunter2 leaked" in (record.exc_text or "")


async def test_core_errors_show_their_sentence(chat: Chat, desk: FakeNewsDesk) -> None:
    desk.fail_with = InvalidInput("Feeds must answer with RSS, Atom or JSON Feed.")
    calls = await chat("feeds", "add", {"url": "https://x.example/page"})
    assert ephemeral_error(calls) == "Feeds must answer with RSS, Atom or JSON Feed."


# --- autocomplete ------------------------------------------------------------------------------


async def test_story_autocomplete(chat: Chat, desk: FakeNewsDesk) -> None:
    desk.stories.append(hostile_story(7))
    desk.stories.append(huge_story(8))
    calls = await chat("summit", "story", {"story": "  "}, focused="story")
    body = callback(calls)
    assert body["type"] == 8
    choices = body["data"]["choices"]
    assert [choice["value"] for choice in choices] == ["1", "2", "7", "8"]
    assert choices[0]["name"] == "#1 · Leaders to meet in Geneva (story 1)"
    assert all(1 <= len(choice["name"]) <= 100 for choice in choices)
    assert "@\u200beveryone" in choices[2]["name"]
    assert desk.called("suggest_stories") == [("", 25)]


async def test_feed_autocomplete(chat: Chat, desk: FakeNewsDesk) -> None:
    calls = await chat("feeds", "remove", {"feed": "news"}, focused="feed")
    assert callback(calls)["data"]["choices"] == [{"name": "#1 · News 1", "value": "1"}]


async def test_timezone_and_schedule_autocomplete(chat: Chat) -> None:
    calls = await chat("alerts", "on", {"mode": "digest", "timezone": "seoul"}, focused="timezone")
    assert callback(calls)["data"]["choices"] == [{"name": "Asia/Seoul", "value": "Asia/Seoul"}]
    calls = await chat("alerts", "on", {"schedule": "0 9 * * 1"}, focused="schedule")
    choices = callback(calls)["data"]["choices"]
    assert choices[0] == {"name": "0 9 * * 1", "value": "0 9 * * 1"}
    calls = await chat("alerts", "on", {"schedule": "daily"}, focused="schedule")
    assert callback(calls)["data"]["choices"] == [{"name": "daily 08:00", "value": "daily 08:00"}]


async def test_watch_autocomplete_offers_this_channels_terms(
    chat: Chat, desk: FakeNewsDesk
) -> None:
    desk.watched[HERE] = ["Macron", "climate"]
    calls = await chat("watch", "remove", {"term": "mac"}, focused="term")
    assert callback(calls)["data"]["choices"] == [{"name": "Macron", "value": "Macron"}]


async def test_failing_autocomplete_answers_with_no_choices(chat: Chat, desk: FakeNewsDesk) -> None:
    desk.fail_with = RuntimeError("boom")
    calls = await chat("summit", "story", {"story": "x"}, focused="story")
    assert callback(calls) == {"type": 8, "data": {"choices": []}}


# --- every payload: mentions, injection, limits (C1-C5) -----------------------------------------


async def test_every_payload_is_inert_within_limits_and_pings_nobody(
    chat: Chat, desk: FakeNewsDesk, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    desk.stories = [hostile_story(1), huge_story(2), hostile_story(3)]
    desk.feeds = {1: make_feed(1, title=INJECTION, last_error=INJECTION, consecutive_failures=2)}
    desk.watched[HERE] = [INJECTION]
    caplog.set_level(logging.DEBUG)
    hostile_input = "@everyone [https://bank.example](https://evil.example) <@&1>"
    commands: list[tuple[str, str, dict[str, Any]]] = [
        ("summit", "latest", {"count": 10}),
        ("summit", "search", {"query": "everyone"}),
        ("summit", "story", {"story": "1"}),
        ("summit", "story", {"story": "2"}),
        ("summit", "story", {"story": hostile_input}),
        ("summit", "upcoming", {}),
        ("feeds", "list", {}),
        ("feeds", "add", {"url": "https://evil.example/@everyone"}),
        ("alerts", "on", {"mode": "digest", "timezone": hostile_input}),
        ("alerts", "on", {"mode": "digest", "schedule": hostile_input}),
        ("alerts", "on", {"mode": "digest", "schedule": "0 8 * * *"}),
        ("alerts", "status", {}),
        ("digest", "now", {}),
        ("watch", "list", {}),
        ("watch", "add", {"term": hostile_input}),
        ("watch", "remove", {"term": "nothing"}),
    ]
    for group, sub, options in commands:
        await chat(group, sub, options)
    messages = fake_discord.message_calls()
    assert len(messages) >= len(commands)
    assert {c.method for c in messages} == {"POST", "PATCH"}  # creates and edits
    for call in messages:
        assert call.payload is not None
        assert call.payload["allowed_mentions"] == {"parse": []}, call
        assert limit_problems(call.payload) == [], call
        assert injection_problems(call.payload) == [], call
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert BOT_TOKEN not in logged
    assert INTERACTION_TOKEN_PREFIX not in logged


# --- issue 11 items ----------------------------------------------------------------------------


async def test_the_search_heading_does_not_echo_a_masked_link_or_a_spoiler(
    chat: Chat, desk: FakeNewsDesk
) -> None:
    query = "[https://bank.example](https://evil.example) ||spoiler||"
    desk.stories = [replace(desk.stories[0], title=query)]
    heading = answer(await chat("summit", "search", {"query": query}))["content"]
    assert injection_problems({"content": heading}) == []
    assert "\\[https://bank.example\\]" in heading
    assert "\\|\\|spoiler\\|\\|" in heading


async def test_an_unknown_subcommand_gets_a_clear_sentence_and_no_traceback(
    chat: Chat, desk: FakeNewsDesk, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.platforms.discord"):
        calls = await chat("feeds", "rename")
    assert "does not know that command" in ephemeral_error(calls)
    assert "Something went wrong" not in ephemeral_error(calls)
    ours = [r for r in caplog.records if r.name.startswith("bot.platforms.discord")]
    assert [r.levelname for r in ours] == ["WARNING"]
    assert not any(r.exc_info for r in ours)
    assert desk.calls == []


async def test_alerts_on_says_which_permissions_the_bot_lacks_in_the_channel(
    chat: Chat, desk: FakeNewsDesk
) -> None:
    view_and_embed = str((1 << 10) | (1 << 14))
    calls = await chat("alerts", "on", app_permissions=view_and_embed)
    error = ephemeral_error(calls)
    assert "newsbot cannot post in #summits" in error
    assert "Send Messages, Attach Files" in error
    assert "View Channel" not in error
    assert desk.called("subscribe") == []
    await chat("alerts", "on")
    assert desk.called("subscribe") == [(HERE, "alerts", None, "UTC", None)]
