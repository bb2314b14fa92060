"""Feeds on 127.0.0.1 -> poll -> extract -> story -> alerts, updates, digests on fake chat APIs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import TERMINAL, App, build_app
from bot.core.stories import Destination
from bot.platforms.discord.notifier import DiscordNotifier
from bot.settings import DiscordSettings, Settings, SlackSettings
from bot.storage.newsdesk import Repositories
from bot.storage.outbox import OutboxRepository
from tests.fakes import FakeClock
from tests.ingest.servers import Handler, LoopbackServer, Request, respond, routes
from tests.platforms.discord.fake import (
    BOT_TOKEN,
    CHANNEL_ID,
    GUILD_ID,
    FakeDiscord,
    running_fake_discord,
)
from tests.platforms.slack.fake import BOT_TOKEN as SLACK_BOT_TOKEN
from tests.platforms.slack.fake import CHANNEL_ID as SLACK_CHANNEL
from tests.platforms.slack.fake import SIGNING_SECRET, TEAM_ID, running_fake_slack

CHANNEL = Destination("discord", CHANNEL_ID, GUILD_ID)

FIRST = (
    "Leaders of South Korea and Japan to hold summit in Busan",
    "South Korean President Lee Jae-myung and Japanese Prime Minister Shigeru Ishiba will hold a "
    "summit in Busan on Friday, the presidential office said on Tuesday. The two leaders are "
    "expected to discuss trade and security.",
    "Tue, 24 Nov 2026 09:00:00 GMT",
)
REPEAT = (
    "Lee and Ishiba to meet in Busan on Friday",
    "President Lee Jae-myung of South Korea and Prime Minister Shigeru Ishiba of Japan will hold "
    "a summit in Busan on Friday, officials said on Tuesday.",
    "Tue, 24 Nov 2026 11:00:00 GMT",
)
MOVED = (
    "Busan summit moved to Saturday",
    "The summit between South Korean President Lee Jae-myung and Japanese Prime Minister Shigeru "
    "Ishiba will now be held in Busan on Saturday, officials said on Tuesday evening.",
    "Tue, 24 Nov 2026 19:00:00 GMT",
)


class Outlet:
    """One publisher's feed, whose items the test adds between polls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[tuple[str, str, str, str]] = []

    def add(self, story: tuple[str, str, str], link: str) -> None:
        title, text, date = story
        self.items.insert(0, (title, text, date, link))

    def handler(self) -> Handler:
        async def feed(request: Request, writer: asyncio.StreamWriter) -> None:
            entries = "".join(
                f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
                f"<description>{text}</description><pubDate>{date}</pubDate></item>"
                for title, text, date, link in self.items
            )
            body = (
                f"<rss version='2.0'><channel><title>{self.name}</title>{entries}</channel></rss>"
            )
            await respond(writer, 200, body.encode(), {"Content-Type": "application/rss+xml"})

        return feed


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with running_fake_discord(monkeypatch) as fake:
        yield fake


async def posts(fake: FakeDiscord) -> list[dict[str, object]]:
    """Message creations in the subscribed channel, in order."""
    return [
        call.body
        for call in fake.requests("POST", rf"^/channels/{CHANNEL_ID}/messages$")
        if isinstance(call.body, dict)
    ]


async def poll(app: App, clock: FakeClock, to: datetime) -> None:
    clock.now = to
    await app.run_once()


async def test_alert_update_and_digest_reach_discord_once_each(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    yonhap, kyodo = Outlet("Yonhap"), Outlet("Kyodo")
    site = routes({"/yonhap.xml": yonhap.handler(), "/kyodo.xml": kyodo.handler()})
    clock = FakeClock(datetime(2026, 11, 24, 0, 0, tzinfo=UTC))
    async with LoopbackServer(site) as server:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'discord.db'}",
            allow_hosts=["127.0.0.1"],
            feeds_file=tmp_path / "none.toml",
            parse={"workers": 1},
            nlp={"fetch_articles": False},
            discord=DiscordSettings(token=SecretStr(BOT_TOKEN)),
        )
        async with build_app(settings, clock=clock) as app:
            for outlet in ("yonhap", "kyodo"):
                await app.store.add_feed(server.url(f"/{outlet}.xml"), clock())
            await app.run_once()
            await app.desk.subscribe(CHANNEL, "both", "0 8 * * *", "Asia/Seoul")

            yonhap.add(FIRST, "https://yonhap.example/busan-1")
            await poll(app, clock, datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
            sent = await posts(fake_discord)
            assert len(sent) == 2, "the welcome digest, then one alert"
            alert = sent[1]["embeds"][0]  # type: ignore[index]
            assert "Busan" in str(alert)
            assert "Lee Jae-myung" in str(alert)
            assert sent[1]["allowed_mentions"] == {"parse": []}
            assert sent[1]["enforce_nonce"] is True

            kyodo.add(REPEAT, "https://kyodo.example/busan")
            await poll(app, clock, datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
            assert len(await posts(fake_discord)) == 2, "another outlet, same facts: no post"
            story = (await app.desk.latest(TERMINAL, 5))[0]
            assert len(story.sources) == 2

            yonhap.add(MOVED, "https://yonhap.example/busan-2")
            await poll(app, clock, datetime(2026, 11, 24, 20, 0, tzinfo=UTC))
            sent = await posts(fake_discord)
            assert len(sent) == 3, "the changed date: exactly one update post"
            assert "2026-11-28" in str(sent[2])
            assert len(await app.desk.latest(TERMINAL, 5)) == 1, "still one story"

            # 08:00 in Seoul is 23:00 UTC the day before: the digest fires then, once.
            clock.now = datetime(2026, 11, 24, 22, 59, tzinfo=UTC)
            await app.delivery.tick()
            assert len(await posts(fake_discord)) == 3
            clock.now += timedelta(minutes=2)
            await app.delivery.tick()
            await app.delivery.tick()
            sent = await posts(fake_discord)
            assert len(sent) == 4, "the scheduled digest, once"
            assert "Busan" in str(sent[3])
            nonces = [body["nonce"] for body in sent]
            assert len(set(nonces)) == len(nonces)


class Crash(BaseException):
    """Stands in for the process dying (kill -9) between Discord's answer and our commit."""


async def test_a_crash_between_send_and_commit_neither_loses_nor_doubles_a_post(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}",
        feeds_file=tmp_path / "none.toml",
        parse={"workers": 1},
        discord=DiscordSettings(token=SecretStr(BOT_TOKEN)),
    )

    async def crash(*args: object, **kwargs: object) -> None:
        raise Crash

    async def first_life() -> None:
        async with build_app(settings) as app:
            await app.desk.subscribe(CHANNEL, "alerts")
            await app.run_once()

    with monkeypatch.context() as patch:
        patch.setattr(OutboxRepository, "mark_sent", crash)
        with pytest.raises(Crash):
            await first_life()
    assert len(fake_discord.messages[CHANNEL_ID]) == 1, "Discord got the post before the crash"

    # The restart comes after the post could still have landed, so the lookup goes at once.
    monkeypatch.setattr(DiscordNotifier, "in_flight", timedelta(0))
    async with build_app(settings) as app:
        await app.run_once()
        await app.run_once()
        records = await Repositories.over(app.store.engine).outbox.records(CHANNEL)
    assert [record.status for record in records] == ["sent"], "not lost: recorded as sent"
    assert len(fake_discord.messages[CHANNEL_ID]) == 1, "not doubled: found in the history"
    assert len(await posts(fake_discord)) == 1, "the marker was found, so no second post"
    assert fake_discord.requests("GET", rf"^/channels/{CHANNEL_ID}/messages$")


async def test_with_both_platforms_the_same_story_lands_in_discord_and_slack(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    yonhap = Outlet("Yonhap")
    clock = FakeClock(datetime(2026, 11, 24, 0, 0, tzinfo=UTC))
    slack_channel = Destination("slack", SLACK_CHANNEL, TEAM_ID)
    async with (
        LoopbackServer(routes({"/yonhap.xml": yonhap.handler()})) as server,
        running_fake_slack() as fake_slack,
    ):
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'both.db'}",
            allow_hosts=["127.0.0.1"],
            feeds_file=tmp_path / "none.toml",
            parse={"workers": 1},
            nlp={"fetch_articles": False},
            discord=DiscordSettings(token=SecretStr(BOT_TOKEN)),
            slack=SlackSettings(
                bot_token=SecretStr(SLACK_BOT_TOKEN),
                signing_secret=SecretStr(SIGNING_SECRET),
                http_port=0,
                api_base_url=fake_slack.base + "/api/",
            ),
        )
        async with build_app(settings, clock=clock) as app:
            await app.store.add_feed(server.url("/yonhap.xml"), clock())
            await app.run_once()
            await app.desk.subscribe(CHANNEL, "alerts")
            await app.desk.subscribe(slack_channel, "both", "0 8 * * *", "Asia/Seoul")

            yonhap.add(FIRST, "https://yonhap.example/busan-1")
            await poll(app, clock, datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
            yonhap.add(MOVED, "https://yonhap.example/busan-2")
            await poll(app, clock, datetime(2026, 11, 24, 20, 0, tzinfo=UTC))
            clock.now = datetime(2026, 11, 24, 23, 1, tzinfo=UTC)
            await app.delivery.tick()

        discord_posts = await posts(fake_discord)
        slack_posts = fake_slack.posts(SLACK_CHANNEL)
        # Discord: welcome digest, alert, update. Slack: the same, plus the 08:00 Seoul digest.
        assert len(discord_posts) == 3
        assert len(slack_posts) == 4, [post.get("text") for post in slack_posts]
        assert "Busan" in str(slack_posts[1])
        assert "2026-11-28" in str(slack_posts[2])
        assert "<!channel>" not in str(slack_posts)


async def test_run_forever_serves_both_platforms_and_stops_cleanly(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    async with running_fake_slack() as fake_slack:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
            feeds_file=tmp_path / "none.toml",
            parse={"workers": 1},
            health_port=None,
            discord=DiscordSettings(token=SecretStr(BOT_TOKEN)),
            slack=SlackSettings(
                bot_token=SecretStr(SLACK_BOT_TOKEN),
                signing_secret=SecretStr(SIGNING_SECRET),
                http_host="127.0.0.1",
                http_port=0,
                api_base_url=fake_slack.base + "/api/",
            ),
        )
        async with build_app(settings) as app:
            stop = asyncio.Event()
            running = asyncio.create_task(app.run_forever(stop))
            assert app.discord_bot is not None
            for _ in range(200):
                if app.discord_bot.is_ready() and app.scheduling:
                    break
                await asyncio.sleep(0.05)
            assert app.discord_bot.is_ready(), "connected to the fake gateway"
            assert app.scheduling
            assert running.done() is False, "the Slack transport is up beside Discord"
            stop.set()
            await asyncio.wait_for(running, 15)
            assert not app.scheduling
