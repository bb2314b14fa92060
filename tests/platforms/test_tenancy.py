"""Two Discord servers and two Slack workspaces on one bot: none sees or changes another's
feeds, alerts or watches, nor sees a story through another's feeds (issue 11.4).

Commands go through the real discord.py client (interactions parsed from gateway payloads,
answers sent to a fake Discord on 127.0.0.1) and the real Bolt app (signed HTTP requests,
answers to a fake Slack), over the real Desk, Store, router and outbox on SQLite.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from pydantic import SecretStr

from bot.core.models import ParsedItem
from bot.core.stories import Destination
from bot.platforms.discord.bot import NewsBot
from bot.platforms.slack.app import SlackBot
from bot.settings import DiscordSettings, SlackSettings
from bot.storage.store import Store
from tests.delivery.fakes import FakeChat
from tests.delivery.rig import Rig
from tests.platforms.discord.fake import (
    BOT_TOKEN,
    FakeDiscord,
    deliver,
    interaction,
    running_fake_discord,
)
from tests.platforms.slack.fake import BOT_TOKEN as SLACK_TOKEN
from tests.platforms.slack.fake import (
    SIGNING_SECRET,
    FakeSlack,
    command_fields,
    running_fake_slack,
    signed_headers,
)
from tests.stories.helpers import KIM, TRUMP, analysis

GUILD_A, GUILD_B = "510000000000000001", "520000000000000002"
CHAN_A, CHAN_B = "310000000000000001", "320000000000000002"
TEAM_1, TEAM_2 = "T0ONE", "T0TWO"
CHAN_1, CHAN_2 = "C0ONE", "C0TWO"
HANOI = analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27")


class Discord:
    """Types commands into the real discord.py client as a server admin of one guild."""

    def __init__(self, bot: NewsBot, fake: FakeDiscord) -> None:
        self.bot, self.fake = bot, fake

    async def __call__(self, guild: str, channel: str, group: str, sub: str, **options: Any) -> str:
        start = len(self.fake.calls)
        payload = interaction(group, sub, options, guild_id=guild, channel_id=channel)
        await deliver(self.bot, payload)
        return _discord_text(self.fake.calls[start:])

    async def in_dm(self, group: str, sub: str) -> str:
        start = len(self.fake.calls)
        await deliver(self.bot, interaction(group, sub, in_guild=False))
        return _discord_text(self.fake.calls[start:])


def _discord_text(calls: list[Any]) -> str:
    """Everything the user was shown: the response, its edits and follow-ups."""
    parts: list[str] = []
    for call in calls:
        body = call.body if isinstance(call.body, dict) else {}
        data = body.get("data") if call.path.endswith("/callback") else body
        if isinstance(data, dict):
            parts.append(str(data.get("content") or ""))
            for embed in data.get("embeds") or []:
                parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
                for item in embed.get("fields") or []:
                    parts += [str(item.get("name") or ""), str(item.get("value") or "")]
    return "\n".join(parts)


class Slack:
    """Signs slash commands into the real Bolt app as an admin of one workspace."""

    def __init__(self, bot: SlackBot, fake: FakeSlack) -> None:
        self.bot, self.fake = bot, fake
        self.url = f"http://127.0.0.1:{bot.port}/slack/events"

    async def __call__(self, team: str, channel: str, command: str, text: str) -> str:
        fields, response_id = command_fields(self.fake, command, text, channel=channel)
        fields["team_id"] = team
        body = urlencode(fields)
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url, data=body.encode(), headers=signed_headers(body)) as response,
        ):
            assert response.status == 200
        await self.fake.wait_responses(response_id)
        (answer,) = self.fake.responses[response_id]
        blocks = answer.get("blocks") or []
        texts = [b["text"]["text"] for b in blocks if isinstance(b.get("text"), dict)]
        return "\n".join([str(answer.get("text", "")), *texts])


@pytest.fixture
def rig(store: Store) -> Rig:
    return Rig(store)


@pytest.fixture
async def discord(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Discord]:
    async with running_fake_discord(monkeypatch) as fake:
        bot = NewsBot(DiscordSettings(token=SecretStr(BOT_TOKEN)), rig.desk, sync_on_start=False)
        async with bot:
            await bot.login(BOT_TOKEN)
            yield Discord(bot, fake)


@pytest.fixture
async def slack(rig: Rig) -> AsyncIterator[Slack]:
    async with running_fake_slack() as fake:
        settings = SlackSettings(
            bot_token=SecretStr(SLACK_TOKEN), signing_secret=SecretStr(SIGNING_SECRET)
        )
        bot = SlackBot(
            settings, rig.desk, http_host="127.0.0.1", http_port=0, base_url=fake.base + "/api/"
        )
        stop = asyncio.Event()
        task = asyncio.create_task(bot.serve(stop))
        for _ in range(400):
            if bot.port:
                break
            await asyncio.sleep(0.005)
        yield Slack(bot, fake)
        stop.set()
        await asyncio.wait_for(task, 5)


def _feed_ids(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"#(\d+)", text)}


async def test_servers_and_workspaces_keep_their_feeds_alerts_and_watches_apart(
    rig: Rig, discord: Discord, slack: Slack
) -> None:
    # Each adds its own feeds; A and workspace 1 add one URL under two spellings.
    said = await discord(GUILD_A, CHAN_A, "feeds", "add", url="https://wire.example/rss")
    assert "Added feed" in said
    (wire,) = _feed_ids(said)
    said = await discord(GUILD_B, CHAN_B, "feeds", "add", url="https://b-only.example/rss")
    (b_only,) = _feed_ids(said)
    said = await slack(TEAM_1, CHAN_1, "/feeds", "add HTTP://Wire.Example:80/rss/?utm_source=x")
    assert _feed_ids(said) == {wire}  # the same feed: one row, fetched once
    said = await slack(TEAM_2, CHAN_2, "/feeds", "add https://two-only.example/rss")
    (two_only,) = _feed_ids(said)
    polled = await rig.store.list_feeds()
    assert [feed.id for feed in polled] == [wire, b_only, two_only]

    # Each lists only its own.
    assert _feed_ids(await discord(GUILD_A, CHAN_A, "feeds", "list")) == {wire}
    assert _feed_ids(await discord(GUILD_B, CHAN_B, "feeds", "list")) == {b_only}
    assert _feed_ids(await slack(TEAM_1, CHAN_1, "/feeds", "list")) == {wire}
    assert _feed_ids(await slack(TEAM_2, CHAN_2, "/feeds", "list")) == {two_only}

    # Nobody removes another's feed; the answer does not even confirm it exists.
    said = await discord(GUILD_B, CHAN_B, "feeds", "remove", feed=str(wire))
    assert f"no feed with id {wire}" in said
    said = await slack(TEAM_2, CHAN_2, "/feeds", f"remove {wire}")
    assert f"no feed with id {wire}" in said
    said = await slack(TEAM_1, CHAN_1, "/feeds", f"remove {two_only}")
    assert f"no feed with id {two_only}" in said
    assert [feed.id for feed in await rig.store.list_feeds()] == [wire, b_only, two_only]
    # A leaving the shared feed leaves workspace 1 subscribed.
    await discord(GUILD_A, CHAN_A, "feeds", "remove", feed=str(wire))
    assert _feed_ids(await slack(TEAM_1, CHAN_1, "/feeds", "list")) == {wire}
    assert _feed_ids(await discord(GUILD_A, CHAN_A, "feeds", "list")) == set()
    await discord(GUILD_A, CHAN_A, "feeds", "add", url="https://wire.example/rss")

    # Alerts and watches in every channel; B and workspace 2 watch Kim too.
    for guild, channel in ((GUILD_A, CHAN_A), (GUILD_B, CHAN_B)):
        assert "now gets" in await discord(guild, channel, "alerts", "on")
        await discord(guild, channel, "watch", "add", term="Kim")
    for team, channel in ((TEAM_1, CHAN_1), (TEAM_2, CHAN_2)):
        assert "now gets" in await slack(team, channel, "/alerts", "on")
        await slack(team, channel, "/watch", "add Kim")
    assert "Kim" in await discord(GUILD_B, CHAN_B, "watch", "list")
    await discord(GUILD_B, CHAN_B, "watch", "add", term="Moon")
    assert "Moon" not in await discord(GUILD_A, CHAN_A, "watch", "list")
    assert "Moon" not in await slack(TEAM_1, CHAN_1, "/watch", "list")

    # A Hanoi report on the shared feed reaches its owners only, not the watchers of Kim.
    parsed = ParsedItem("guid:1", "https://wire.example/a/1", "Trump, Kim in Hanoi", "x", None)
    (item,) = await rig.store.store_items(wire, [parsed], rig.clock(), announce_first=1)
    await rig.publish(replace(item, analysis=HANOI))
    alerted = {row.destination for row in await rig.rows()}
    assert alerted == {
        Destination("discord", CHAN_A, GUILD_A),
        Destination("slack", CHAN_1, TEAM_1),
    }
    # B's own feed reaches B alone.
    parsed = ParsedItem("guid:2", "https://b-only.example/a/2", "Kim to visit Seoul", "x", None)
    (item,) = await rig.store.store_items(b_only, [parsed], rig.clock(), announce_first=1)
    await rig.publish(replace(item, analysis=analysis(KIM, city="Seoul", country="South Korea")))
    alerted_b = {row.destination for row in await rig.rows()} - alerted
    assert alerted_b == {Destination("discord", CHAN_B, GUILD_B)}

    # Turning alerts off in one server changes nobody else's.
    await discord(GUILD_B, CHAN_B, "alerts", "off")
    assert "Alerts are off" in await discord(GUILD_B, CHAN_B, "alerts", "status")
    assert "Alerts are off" not in await discord(GUILD_A, CHAN_A, "alerts", "status")
    assert "Alerts are off" not in await slack(TEAM_2, CHAN_2, "/alerts", "status")


async def test_dms_are_refused_for_everything_server_scoped(
    rig: Rig, discord: Discord, slack: Slack
) -> None:
    await discord(GUILD_A, CHAN_A, "feeds", "add", url="https://wire.example/rss")
    for group, sub in (("feeds", "list"), ("alerts", "status"), ("watch", "list")):
        said = await discord.in_dm(group, sub)
        assert "only in a server channel" in said
        assert "wire.example" not in said
    for command, text in (("/feeds", "list"), ("/feeds", "remove 1"), ("/alerts", "status")):
        said = await slack(TEAM_1, "D0DIRECT", command, text)
        assert "not in a direct message" in said
    assert [feed.owners for feed in await rig.store.list_feeds()] == [(f"discord:{GUILD_A}",)]


async def _report(rig: Rig, feed: int, key: str, link: str, data: dict[str, Any]) -> None:
    """One analysed item of ``feed``, filed as the poller files it."""
    parsed = ParsedItem(key, link, str(data["summary"]), str(data["summary"]), None)
    (item,) = await rig.store.store_items(feed, [parsed], rig.clock(), announce_first=1)
    await rig.publish(replace(item, analysis=data))


async def test_a_story_is_seen_only_through_the_feeds_of_ones_own_server_or_workspace(
    rig: Rig, discord: Discord, slack: Slack
) -> None:
    feeds = {}
    for guild, channel, host in ((GUILD_A, CHAN_A, "a"), (GUILD_B, CHAN_B, "b")):
        said = await discord(guild, channel, "feeds", "add", url=f"https://{host}.example/rss")
        (feeds[host],) = _feed_ids(said)
        assert "now gets" in await discord(guild, channel, "alerts", "on")
        await discord(guild, channel, "watch", "add", term="Kim")
    for team, channel, host in ((TEAM_1, CHAN_1, "one"), (TEAM_2, CHAN_2, "two")):
        (feeds[host],) = _feed_ids(
            await slack(team, channel, "/feeds", f"add https://{host}.example/rss")
        )
        assert "now gets" in await slack(team, channel, "/alerts", "on")
        await slack(team, channel, "/watch", "add Kim")
    discord_a = Destination("discord", CHAN_A, GUILD_A)
    discord_b = Destination("discord", CHAN_B, GUILD_B)
    slack_1 = Destination("slack", CHAN_1, TEAM_1)
    slack_2 = Destination("slack", CHAN_2, TEAM_2)

    # Server A's feed opens the Hanoi story: A alone is told, and it is A's story alone.
    hanoi = analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", summary="Trump and Kim in Hanoi")
    await _report(rig, feeds["a"], "guid:a", "https://a.example/hanoi", hanoi)
    assert {row.destination for row in await rig.rows()} == {discord_a}
    (story,) = await rig.desk.latest(discord_a, 5)
    assert "Trump and Kim in Hanoi" in await discord(GUILD_A, CHAN_A, "summit", "latest")
    for guild, channel in ((GUILD_B, CHAN_B),):
        assert "No summit stories yet" in await discord(guild, channel, "summit", "latest")
        assert "No summit story matches" in await discord(
            guild, channel, "summit", "search", query="Hanoi"
        )
        assert f"no story with id {story.id}" in await discord(
            guild, channel, "summit", "story", story=str(story.id)
        )
    for team, channel in ((TEAM_1, CHAN_1), (TEAM_2, CHAN_2)):
        assert "No summit stories yet" in await slack(team, channel, "/summit", "latest")
        assert "No summit story matches" in await slack(team, channel, "/summit", "search Hanoi")
        assert f"no story with id {story.id}" in await slack(
            team, channel, "/summit", f"story {story.id}"
        )
    for destination in (discord_b, slack_1, slack_2):
        assert await rig.desk.suggest_stories(destination, "hanoi") == []
        assert await rig.desk.upcoming(destination) == []

    # Workspace 2's feed reports the venue: the one story grows, but only workspace 2 hears of
    # it, and it sees its own report alone (not A's link, not A's summary).
    venue = analysis(
        TRUMP, KIM, city="Hanoi", country="Vietnam", venue="Metropole", summary="Venue named"
    )
    await _report(rig, feeds["two"], "guid:two", "https://two.example/venue", venue)
    alerted = [row.destination for row in await rig.rows()]
    assert alerted == [discord_a, slack_2]
    (seen_by_2,) = await rig.desk.latest(slack_2, 5)
    assert seen_by_2.id == story.id
    assert [source.link for source in seen_by_2.sources] == ["https://two.example/venue"]
    assert seen_by_2.summary == "Venue named"
    said = await slack(TEAM_2, CHAN_2, "/summit", f"story {story.id}")
    assert "two.example" in said
    assert "a.example" not in said
    assert await rig.desk.search(slack_2, "Trump and Kim in Hanoi") == []
    # A still sees its own report only: the venue came from workspace 2's feed.
    (seen_by_a,) = await rig.desk.latest(discord_a, 5)
    assert [source.link for source in seen_by_a.sources] == ["https://a.example/hanoi"]
    assert seen_by_a.facts.venue is None
    said = await discord(GUILD_A, CHAN_A, "summit", "story", story=str(story.id))
    assert "a.example" in said
    assert "two.example" not in said
    assert "Metropole" not in said
    assert await rig.desk.search(discord_a, "Metropole") == []
    for destination in (discord_b, slack_1):
        assert await rig.desk.latest(destination, 5) == []
        assert await rig.desk.search(destination, "Metropole") == []

    # What is sent is the view too: workspace 2 gets the story as new, under its own title.
    chat = FakeChat(platform="slack")
    await rig.new_outbox(chat).deliver_due()
    (sent,) = [m for m in chat.channel(CHAN_2) if m.kind != "digest"]
    assert (sent.kind, sent.title, sent.changes) == ("new", "Venue named", ())
    assert [m.kind for m in chat.channel(CHAN_1)] == ["digest"]

    # Workspace 1's feed repeats what A's said: nothing new to A or 2, so only 1 is told.
    await _report(rig, feeds["one"], "guid:one", "https://one.example/hanoi", hanoi)
    assert [row.destination for row in await rig.rows()] == [discord_a, slack_2, slack_1]
    (seen_by_1,) = await rig.desk.latest(slack_1, 5)
    assert [source.link for source in seen_by_1.sources] == ["https://one.example/hanoi"]
    assert await rig.desk.latest(discord_b, 5) == []
    # The operator (the terminal) sees the whole story.
    whole = await rig.desk.story(Destination("console", "terminal"), story.id)
    assert {source.link for source in whole.sources} == {
        "https://a.example/hanoi",
        "https://two.example/venue",
        "https://one.example/hanoi",
    }
