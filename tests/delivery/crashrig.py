"""A crash rig: the real ``newsbot run`` in a subprocess, ``kill -9``-ed at chosen stages.

Feeds, articles and a fake Discord or Slack run in this process on 127.0.0.1; the bot runs as
``python -m bot run`` (Discord's REST and gateway bases pointed at the fake by a two-line
wrapper, since discord.py has no setting for them). Ten channels: seven healthy, one that
hangs every post, one that answers 429 with a Retry-After now and then, one that is gone.

Each life of the bot gets one more summit story in the feed and is killed at one stage:

- ``fetch``: while the feed request is open;
- ``article``: while an article page is being read for the analysis;
- ``analysis``: shortly after the article was answered (spaCy at work);
- ``insert``: as soon as a story event is committed (routing and outbox insert follow);
- ``send``: while a post is open at the fake platform;
- ``answered``: right after the platform answered a post (before the outbox commit);
- ``recovery``: at the first history read (reconciliation) or post after a restart.

Discord forgets its nonces at every kill (as if its few minutes had passed), so only the
marker in history can prevent a double. The last life is not killed; the rig then counts, per
healthy channel, each story's alerts: 0 lost, 0 doubled is the goal. It also measures how long
after the last start everything was delivered, and how far apart one story's alerts landed
in the healthy channels (the hung and rate-limited channels must not hold them up; a row
a kill left unanswered waits out its own post's landing time and is not counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.stories import Destination
from bot.storage.newsdesk import Repositories
from bot.storage.store import Store
from bot.stories.desk import Desk
from tests.platforms.discord import fake as discord_fake
from tests.platforms.slack import fake as slack_fake

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("fetch", "article", "analysis", "insert", "send", "answered", "recovery")
HEALTHY = 7
HUNG, LIMITED, GONE = "hung", "limited", "gone"
RETRY_AFTER = 4.0
PACE = {"discord": 0.0, "slack": 1.0}  # seconds between two posts to one channel (bot/app.py)

PAIRS = [
    ("President", "leader", "Donald Trump", "Kim Jong Un", "Hanoi", "Vietnam"),
    ("President", "Chancellor", "Emmanuel Macron", "Olaf Scholz", "Paris", "France"),
    ("President", "President", "Xi Jinping", "Vladimir Putin", "Beijing", "China"),
    ("President", "Prime Minister", "Joe Biden", "Fumio Kishida", "Tokyo", "Japan"),
    ("Prime Minister", "Prime Minister", "Narendra Modi", "Anthony Albanese", "New Delhi", "India"),
    ("President", "President", "Recep Tayyip Erdogan", "Volodymyr Zelensky", "Istanbul", "Turkey"),
    ("President", "President", "Lula da Silva", "Javier Milei", "Brasilia", "Brazil"),
    ("Prime Minister", "Prime Minister", "Justin Trudeau", "Keir Starmer", "Ottawa", "Canada"),
    ("President", "Prime Minister", "Yoon Suk Yeol", "Shigeru Ishiba", "Seoul", "South Korea"),
    ("President", "President", "Cyril Ramaphosa", "Bola Tinubu", "Pretoria", "South Africa"),
    ("Prime Minister", "Prime Minister", "Giorgia Meloni", "Pedro Sanchez", "Rome", "Italy"),
    ("President", "Prime Minister", "Prabowo Subianto", "Anwar Ibrahim", "Jakarta", "Indonesia"),
    ("President", "President", "Gustavo Petro", "Gabriel Boric", "Bogota", "Colombia"),
    (
        "Prime Minister",
        "Prime Minister",
        "Dick Schoof",
        "Bart De Wever",
        "The Hague",
        "Netherlands",
    ),
    ("President", "President", "Andrzej Duda", "Klaus Iohannis", "Warsaw", "Poland"),
    ("President", "President", "William Ruto", "Samia Suluhu Hassan", "Nairobi", "Kenya"),
    ("President", "Prime Minister", "Abdel Fattah el-Sisi", "Benjamin Netanyahu", "Cairo", "Egypt"),
    ("President", "President", "Claudia Sheinbaum", "Nayib Bukele", "Mexico City", "Mexico"),
    (
        "Prime Minister",
        "Prime Minister",
        "Ulf Kristersson",
        "Jonas Gahr Store",
        "Stockholm",
        "Sweden",
    ),
    ("President", "President", "Ferdinand Marcos", "Luong Cuong", "Manila", "Philippines"),
    (
        "President",
        "Prime Minister",
        "Alexander Van der Bellen",
        "Viktor Orban",
        "Vienna",
        "Austria",
    ),
    (
        "President",
        "President",
        "Kassym-Jomart Tokayev",
        "Shavkat Mirziyoyev",
        "Astana",
        "Kazakhstan",
    ),
    (
        "Prime Minister",
        "President",
        "Kyriakos Mitsotakis",
        "Nikos Christodoulides",
        "Athens",
        "Greece",
    ),
    ("President", "President", "Emmerson Mnangagwa", "Hakainde Hichilema", "Harare", "Zimbabwe"),
    (
        "Prime Minister",
        "Prime Minister",
        "Christopher Luxon",
        "Sitiveni Rabuka",
        "Wellington",
        "New Zealand",
    ),
]
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

WRAPPER = """
import os, sys, yarl, discord.gateway, discord.http
base = os.environ.get("SOAK_DISCORD_BASE")
if base:
    discord.http.Route.BASE = f"http://{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://{base}/gateway")
from bot.cli import main
sys.argv = ["newsbot", "run"]
main()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def story_text(number: int) -> tuple[str, str, str]:
    """Title, summary and city of the ``number``-th distinct summit."""
    title_a, title_b, a, b, city, country = PAIRS[number % len(PAIRS)]
    day = DAYS[number % len(DAYS)]
    return (
        f"{a} and {b} to hold summit in {city}",
        f"{title_a} {a} and {title_b} {b} will hold a summit in {city}, {country}, on {day}, "
        "officials said. "
        "The two leaders are expected to discuss trade and security.",
        city,
    )


ORDINARY = 1000  # entry numbers from here on are ordinary news, not summits
PLACES = ("Riverside", "Hillcrest", "Lakeview", "Oakford", "Millbrook", "Stonebridge")


def ordinary_text(number: int) -> tuple[str, str]:
    """Title and summary of the ``number``-th ordinary (not summit) entry."""
    place = PLACES[number % len(PLACES)]
    return (
        f"{place} library extends opening hours ({number})",
        f"The {place} public library will open until nine on weekdays from March, the "
        f"council said. Volunteers will run a reading club for children (notice {number}).",
    )


def entry_text(number: int) -> tuple[str, str]:
    """Title and summary of any feed entry."""
    if number >= ORDINARY:
        return ordinary_text(number)
    title, summary, _ = story_text(number)
    return title, summary


Hook = Callable[[], Awaitable[None]]


@dataclass
class Trigger:
    """What the current life waits for before it is killed."""

    stage: str = ""
    fired: asyncio.Event = field(default_factory=asyncio.Event)

    def fire(self, stage: str) -> None:
        if self.stage == stage:
            self.fired.set()


@dataclass
class Post:
    """One message the fake platform stored."""

    channel: str
    marker: str
    alert_city: str | None
    at: float
    life: int


class Site:
    """The feed and its article pages."""

    def __init__(self, trigger: Trigger) -> None:
        self.trigger = trigger
        self.stories: list[int] = []
        self.app = web.Application()
        self.app.router.add_get("/feed.xml", self.feed)
        self.app.router.add_get("/article/{n}", self.article)
        self.base = ""

    async def feed(self, request: web.Request) -> web.Response:
        self.trigger.fire("fetch")
        if self.trigger.stage == "fetch":
            await asyncio.sleep(30)  # the kill comes first
        entries = []
        for number in self.stories:
            title, summary = entry_text(number)
            link = f"{self.base}/article/{number}"
            entries.append(
                f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
                f"<description>{summary}</description>"
                f"<pubDate>Tue, 24 Nov 2026 {9 + number // 60 % 12:02d}:{number % 60:02d}:00 GMT"
                "</pubDate></item>"
            )
        body = f"<rss version='2.0'><channel><title>Wire</title>{''.join(entries)}</channel></rss>"
        return web.Response(body=body.encode(), content_type="application/rss+xml")

    async def article(self, request: web.Request) -> web.Response:
        self.trigger.fire("article")
        if self.trigger.stage == "article":
            await asyncio.sleep(30)
        number = int(request.match_info["n"])
        title, summary = entry_text(number)
        html = f"<html><body><article><h1>{title}</h1><p>{summary}</p></article></body></html>"
        response = web.Response(text=html, content_type="text/html")
        if self.trigger.stage == "analysis":
            loop = asyncio.get_running_loop()
            loop.call_later(random.uniform(0.02, 0.3), self.trigger.fire, "analysis")
        return response


class Platform:
    """Common bookkeeping of the two fake platforms."""

    name = ""

    def __init__(self, trigger: Trigger) -> None:
        self.trigger = trigger
        self.posts: list[Post] = []
        self.life = 0
        self.limited_posts = 0
        self.login_at: dict[int, float] = {}  # life → when the bot first logged in
        self.names = [f"ok{n}" for n in range(HEALTHY)] + [HUNG, LIMITED, GONE]

    def record(self, channel: str, marker: str, city: str | None) -> None:
        self.posts.append(Post(channel, marker, city, time.monotonic(), self.life))

    def after_answer(self) -> None:
        if self.trigger.stage == "answered":
            asyncio.get_running_loop().call_soon(self.trigger.fire, "answered")

    def logged_in(self) -> None:
        self.login_at.setdefault(self.life, time.monotonic())

    def reconciling(self) -> None:
        self.trigger.fire("recovery")

    async def before_post(self, channel: str) -> str | None:
        """None to go on; else "hang", "limit" or "gone"."""
        self.trigger.fire("recovery")
        if channel == self.channel_id(HUNG):
            return "hang"
        if channel == self.channel_id(GONE):
            return "gone"
        if channel == self.channel_id(LIMITED):
            self.limited_posts += 1
            if self.limited_posts % 3 == 1:
                return "limit"
        if self.trigger.stage == "send":
            self.trigger.fire("send")
            await asyncio.sleep(30)
        return None

    def channel_id(self, name: str) -> str:
        raise NotImplementedError

    def forget(self) -> None:
        """After a kill: the platform's own de-duplication window has passed."""


class ChaosDiscord(discord_fake.FakeDiscord, Platform):
    name = "discord"

    def __init__(self, trigger: Trigger) -> None:
        discord_fake.FakeDiscord.__init__(self)
        Platform.__init__(self, trigger)

    def channel_id(self, name: str) -> str:
        return str(900_000_000_000_000_000 + self.names.index(name))

    def forget(self) -> None:
        self.forget_nonces()

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        parts = request.match_info["tail"].strip("/").split("/")
        if parts == ["users", "@me"]:
            self.logged_in()
        if parts[:1] == ["channels"] and parts[2:] == ["messages"]:
            if request.method == "GET":
                self.reconciling()
            elif request.method == "POST":
                verdict = await self.before_post(parts[1])
                if verdict == "hang":
                    await asyncio.sleep(3600)
                if verdict == "gone":
                    return discord_fake.json_response(
                        {"message": "Unknown Channel", "code": 10003}, 404
                    )
                if verdict == "limit":
                    return discord_fake.json_response(
                        {"message": "slow", "retry_after": RETRY_AFTER, "global": False},
                        429,
                        {"Via": "1.1 google", "Retry-After": str(RETRY_AFTER)},
                    )
        response = await super()._rest(request)
        if request.method == "POST" and parts[2:] == ["messages"]:
            self.after_answer()
        return response

    def _create(self, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        known = len(self.messages.get(channel_id, []))
        message = super()._create(channel_id, body)
        if len(self.messages.get(channel_id, [])) > known:
            footer = "".join(str(e.get("footer", {}).get("text", "")) for e in body["embeds"])
            carrier = footer if "ref " in footer else str(body.get("content") or "")
            marker = carrier.rsplit("ref ", 1)[-1].strip()
            city = None
            if str(body.get("content") or "").startswith("**New summit story"):
                city = next(
                    (c for *_, c, _ in PAIRS if c in json.dumps(body["embeds"][0]["title"])), "?"
                )
            name = self.names[int(channel_id) - 900_000_000_000_000_000]
            self.record(name, marker, city)
        return message


class ChaosSlack(slack_fake.FakeSlack, Platform):
    name = "slack"

    def __init__(self, trigger: Trigger) -> None:
        slack_fake.FakeSlack.__init__(self)
        Platform.__init__(self, trigger)

    def channel_id(self, name: str) -> str:
        return f"C0{name.upper()}"

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "auth.test":
            self.logged_in()
        if method == "conversations.history":
            self.reconciling()
        if method == "chat.postMessage":
            params: dict[str, Any] = dict(request.query)
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
            verdict = await self.before_post(str(params.get("channel")))
            if verdict == "hang":
                await asyncio.sleep(3600)
            if verdict == "gone":
                return web.json_response({"ok": False, "error": "channel_not_found"})
            if verdict == "limit":
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(int(RETRY_AFTER))},
                )
            self.calls.append(slack_fake.Call(method, params, dict(request.headers)))
            message = self._store(params)
            metadata = message.get("metadata") or {}
            marker = str((metadata.get("event_payload") or {}).get("key"))
            lead = str(params.get("text") or "")
            city = None
            if lead.startswith("New summit story"):
                city = next((c for *_, c, _ in PAIRS if c in lead), "?")
            name = next(n for n in self.names if self.channel_id(n) == params["channel"])
            self.record(name, marker, city)
            self.after_answer()
            return web.json_response(
                {"ok": True, "channel": params["channel"], "ts": message["ts"], "message": message}
            )
        return await super().api(request)


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    return runner, int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]


def bot_env(database_url: str, work: Path) -> dict[str, str]:
    """The environment of one ``newsbot run`` life: our feed only, one parser worker."""
    (work / "feeds.toml").write_text("feeds = []\n", encoding="utf-8")
    # Without PYTHONUNBUFFERED (set in our image, not by ``make run``) a block that Python
    # buffered dies with the process: the bot's own writes must be safe either way.
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return {
        **inherited,
        "PYTHONPATH": os.environ.get("SOAK_BOT_ROOT", str(ROOT)),
        "NEWSBOT_DATABASE_URL": database_url,
        "NEWSBOT_ALLOW_HOSTS": "127.0.0.1",
        "NEWSBOT_FEEDS_FILE": str(work / "feeds.toml"),
        "NEWSBOT_POLL__FIRST_POLL_ANNOUNCE": "100",
        "NEWSBOT_PARSE__WORKERS": "1",
        "NEWSBOT_HEALTH_PORT": str(free_port()),
        "NEWSBOT_LOG_LEVEL": "INFO",
    }


async def column(database_url: str, sql: str) -> list[Any]:
    """The first column of a query on the bot's database, read from outside the bot."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql))).scalars())
    finally:
        await engine.dispose()


async def count(database_url: str, sql: str) -> int:
    """One number from the bot's database."""
    return int(next(iter(await column(database_url, sql)), 0) or 0)


RETRIED = "SELECT delivery_key FROM outbox WHERE attempts > 1"


async def keys(database_url: str, sql: str) -> set[str]:
    """One column of strings from the bot's database."""
    return {str(value) for value in await column(database_url, sql)}


async def due_now(database_url: str) -> None:
    """Time passed: every feed is due at the next start, and a killed life's poll lease
    (which would hold the feed until it expires) is gone."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE feeds SET next_poll_at = NULL, lease_owner = NULL, lease_until = NULL")
            )
    finally:
        await engine.dispose()


async def kill(process: asyncio.subprocess.Process | None) -> None:
    """SIGKILL the bot and everything in its session (its parser worker too)."""
    if process is not None and process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


@dataclass
class Result:
    """What one soak measured."""

    platform: str
    backend: str
    kills: Counter[str] = field(default_factory=Counter)
    missed_triggers: Counter[str] = field(default_factory=Counter)
    stories: int = 0
    expected: int = 0
    lost: list[tuple[str, str]] = field(default_factory=list)
    doubled: list[tuple[str, str]] = field(default_factory=list)
    deliver_after_restart: float = 0.0
    login_after_restart: float = 0.0
    max_spread: float = 0.0
    paced_spread: float = 0.0  # the spread less each channel's own pacing of earlier posts
    unanswered: int = 0  # posts of rows a kill left unanswered, left out of the spread
    widest: str = ""  # the story, life and per-channel landing times of the widest spread
    gone_posts: int = 0
    last_by_channel: dict[str, float] = field(default_factory=dict)
    log_tail: str = ""

    def line(self) -> str:
        return (
            f"{self.platform:7} {self.backend:10} kills {sum(self.kills.values()):3} "
            f"stories {self.stories:2} alerts expected {self.expected:3} "
            f"lost {len(self.lost)} doubled {len(self.doubled)} "
            f"delivered {self.deliver_after_restart:5.1f} s after the last start "
            f"({self.login_after_restart:4.1f} s of it before login), "
            f"other channels within {self.max_spread:4.2f} s of each other"
            f" ({self.paced_spread:4.2f} s less each channel's own pacing;"
            f" {self.unanswered} row(s) a kill left unanswered not counted)"
            + (f", missed triggers {dict(self.missed_triggers)}" if self.missed_triggers else "")
        )


class Soak:
    """One platform, one database, a list of kill stages."""

    def __init__(self, platform: str, database_url: str, work: Path, stages: list[str]) -> None:
        self.trigger = Trigger()
        self.platform: ChaosDiscord | ChaosSlack = (
            ChaosDiscord(self.trigger) if platform == "discord" else ChaosSlack(self.trigger)
        )
        self.database_url = database_url
        self.work = work
        self.stages = stages
        self.site = Site(self.trigger)
        self.result = Result(platform, "postgresql" if "postgresql" in database_url else "sqlite")
        self.bot: asyncio.subprocess.Process | None = None
        self.log = work / "bot.log"

    async def run(self, progress: Callable[[str], None] = lambda _: None) -> Result:
        runners = []
        try:
            runner, port = await serve(self.site.app)
            runners.append(runner)
            self.site.base = f"http://127.0.0.1:{port}"
            if isinstance(self.platform, ChaosDiscord):
                await self.platform.start()
            else:
                runner, api_port = await serve(self.platform.app)
                runners.append(runner)
                self.platform.base = f"http://127.0.0.1:{api_port}"
            await self._prepare()
            for number, stage in enumerate(self.stages):
                self.site.stories.append(number)
                await self._life(stage)
                progress(f"{self.result.platform}/{self.result.backend}: killed at {stage}")
            self.site.stories.append(len(self.stages))
            await self._last_life()
            self._check(await keys(self.database_url, RETRIED))
        finally:
            await self._kill()
            if isinstance(self.platform, ChaosDiscord):
                await self.platform.close()
            for runner in runners:
                await runner.cleanup()
        return self.result

    def _env(self) -> dict[str, str]:
        env = bot_env(self.database_url, self.work)
        if isinstance(self.platform, ChaosDiscord):
            env["SOAK_DISCORD_BASE"] = self.platform.base
            env["NEWSBOT_DISCORD__TOKEN"] = discord_fake.BOT_TOKEN
        else:
            env["NEWSBOT_SLACK__BOT_TOKEN"] = slack_fake.BOT_TOKEN
            env["NEWSBOT_SLACK__SIGNING_SECRET"] = slack_fake.SIGNING_SECRET
            env["NEWSBOT_SLACK__API_BASE_URL"] = self.platform.base + "/api/"
            env["NEWSBOT_SLACK__HTTP_HOST"] = "127.0.0.1"
            env["NEWSBOT_SLACK__HTTP_PORT"] = str(free_port())
        return env

    async def _prepare(self) -> None:
        """A migrated database with the feed and ten subscribed channels."""
        store = await Store.open(self.database_url)
        try:
            now = datetime.now(UTC)
            await store.add_feed(f"{self.site.base}/feed.xml", now, title="Wire")
            repositories = Repositories.over(store.engine)

            async def no_feeds(url: str) -> Any:
                raise AssertionError(url)

            desk = Desk(repositories, store, no_feeds, clock=lambda: datetime.now(UTC))
            workspace = discord_fake.GUILD_ID if self.result.platform == "discord" else "T0TEAM"
            for name in self.platform.names:
                channel = self.platform.channel_id(name)
                await desk.subscribe(
                    Destination(self.result.platform, channel, workspace), "alerts"
                )
        finally:
            await store.close()

    async def _count(self, sql: str) -> int:
        return await count(self.database_url, sql)

    async def _start(self) -> None:
        await due_now(self.database_url)
        self.platform.life += 1
        handle = self.log.open("ab")
        self.bot = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRAPPER,
            cwd=self.work,
            env=self._env(),
            stdout=handle,
            stderr=handle,
            start_new_session=True,
        )
        handle.close()

    async def _kill(self) -> None:
        await kill(self.bot)
        self.bot = None

    async def _life(self, stage: str) -> None:
        self.trigger.stage = stage
        self.trigger.fired = asyncio.Event()
        events = await self._count("SELECT count(*) FROM story_events")
        await self._start()
        try:
            if stage == "insert":
                await asyncio.wait_for(self._events_above(events), 90)
            else:
                await asyncio.wait_for(self.trigger.fired.wait(), 90)
        except TimeoutError:
            self.result.missed_triggers[stage] += 1
        await self._kill()
        self.result.kills[stage] += 1
        self.trigger.stage = ""
        self.platform.forget()

    async def _events_above(self, count: int) -> None:
        while await self._count("SELECT count(*) FROM story_events") <= count:
            await asyncio.sleep(0.02)

    def _expected(self) -> set[tuple[str, str]]:
        healthy = [n for n in self.platform.names if n not in (HUNG, GONE)]
        cities = {story_text(number)[2] for number in self.site.stories}
        return {(channel, city) for channel in healthy for city in cities}

    async def _last_life(self) -> None:
        self.trigger.stage = ""
        started = time.monotonic()
        await self._start()
        expected = self._expected()
        deadline = started + 120
        while time.monotonic() < deadline:
            got = {(p.channel, p.alert_city) for p in self.platform.posts if p.alert_city}
            if expected <= got:
                break
            await asyncio.sleep(0.1)
        last = max(
            (p.at for p in self.platform.posts if p.life == self.platform.life),
            default=started,
        )
        self.result.deliver_after_restart = last - started
        self.result.login_after_restart = (
            self.platform.login_at.get(self.platform.life, last) - started
        )
        for post in self.platform.posts:
            if post.life == self.platform.life:
                self.result.last_by_channel[post.channel] = round(post.at - started, 1)
        await asyncio.sleep(3)  # anything that would double shows up now
        await self._kill()
        self.result.log_tail = self.log.read_text(errors="replace")[-4000:]

    def _posted_before(self, post: Post) -> int:
        """Posts its channel got earlier in the same life (paced one after another)."""
        return sum(
            1
            for other in self.platform.posts
            if other.channel == post.channel and other.life == post.life and other.at < post.at
        )

    def _check(self, retried: set[str]) -> None:
        result = self.result
        expected = self._expected()
        result.stories = len(self.site.stories)
        result.expected = len(expected)
        alerts: Counter[tuple[str, str]] = Counter(
            (p.channel, p.alert_city) for p in self.platform.posts if p.alert_city
        )
        result.lost = sorted(expected - set(alerts))
        markers = Counter((p.channel, p.marker) for p in self.platform.posts)
        result.doubled = sorted({k for k, n in alerts.items() if n > 1})
        result.doubled += sorted(k for k, n in markers.items() if n > 1 and k not in alerts)
        result.gone_posts = sum(p.channel == GONE for p in self.platform.posts)
        spread: dict[tuple[str, int], list[Post]] = defaultdict(list)
        for post in self.platform.posts:
            if post.alert_city and post.channel.startswith("ok"):
                spread[(post.alert_city, post.life)].append(post)
        # A row a kill left unanswered waits out its post's landing time in its own channel;
        # the spread measures what one channel's trouble costs the others, so it leaves out
        # those rows (their delay counts in the time to deliver everything after the restart).
        complete = [
            [post for post in posts if post.marker not in retried]
            for posts in spread.values()
            if len(posts) == HEALTHY
        ]
        result.unanswered = sum(HEALTHY - len(posts) for posts in complete)
        complete = [posts for posts in complete if len(posts) > 1]
        if complete:
            widest = max(complete, key=lambda ps: max(p.at for p in ps) - min(p.at for p in ps))
            first = min(p.at for p in widest)
            result.max_spread = max(p.at for p in widest) - first
            pace = PACE[self.result.platform]
            result.paced_spread = max(
                max(due) - min(due)
                for due in ([p.at - pace * self._posted_before(p) for p in ps] for ps in complete)
            )
            landed = ", ".join(
                f"{p.channel} +{p.at - first:.2f} ({self._posted_before(p)} before)" for p in widest
            )
            result.widest = f"{widest[0].alert_city} in life {widest[0].life}: {landed}"
