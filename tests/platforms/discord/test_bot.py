"""The client: command sync policy, the real gateway path, token problems, no secrets in logs."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pydantic import SecretStr

from bot.core.errors import ConfigError
from bot.ops.logs import redact
from bot.platforms.discord.bot import NewsBot, install_redaction, sync_commands
from bot.settings import DiscordSettings
from tests.platforms.discord.desk import FakeNewsDesk
from tests.platforms.discord.fake import (
    BOT_TOKEN,
    GUILD_ID,
    INTERACTION_TOKEN_PREFIX,
    FakeDiscord,
    interaction,
)

GLOBAL_SYNC = r"^/applications/\d+/commands$"
GUILD_SYNC = r"^/applications/\d+/guilds/\d+/commands$"


async def test_without_a_dev_guild_nothing_is_synced_on_start(
    fake_discord: FakeDiscord, desk: FakeNewsDesk, caplog: pytest.LogCaptureFixture
) -> None:
    bot = NewsBot(DiscordSettings(token=SecretStr(BOT_TOKEN)), desk)
    with caplog.at_level(logging.INFO, logger="bot.platforms.discord"):
        async with bot:
            await bot.login(BOT_TOKEN)
    assert fake_discord.requests("PUT", r"commands") == []
    assert "run `newsbot discord-sync --global`" in caplog.text
    assert {c.name for c in bot.tree.get_commands()} == {
        "summit",
        "feeds",
        "alerts",
        "digest",
        "watch",
    }


async def test_global_sync_only_on_request(fake_discord: FakeDiscord, desk: FakeNewsDesk) -> None:
    settings = DiscordSettings(token=SecretStr(BOT_TOKEN), dev_guild_id=int(GUILD_ID))
    names = await sync_commands(settings, desk, global_sync=True)
    assert sorted(names) == ["alerts", "digest", "feeds", "summit", "watch"]
    assert len(fake_discord.requests("PUT", GLOBAL_SYNC)) == 1
    assert fake_discord.requests("PUT", GUILD_SYNC) == []
    names = await sync_commands(settings, desk)
    assert len(fake_discord.requests("PUT", GUILD_SYNC)) == 1
    assert len(names) == 5


async def test_sync_without_a_guild_or_global_is_a_config_error(desk: FakeNewsDesk) -> None:
    with pytest.raises(ConfigError, match="dev_guild_id"):
        await sync_commands(DiscordSettings(token=SecretStr(BOT_TOKEN)), desk)


async def test_missing_or_rejected_token_is_a_config_error(
    fake_discord: FakeDiscord, desk: FakeNewsDesk
) -> None:
    with pytest.raises(ConfigError, match=r"set discord\.token"):
        await NewsBot(DiscordSettings(), desk).serve(asyncio.Event())
    fake_discord.fail("GET", r"^/users/@me$", 401, {"message": "401: Unauthorized", "code": 0})
    with pytest.raises(ConfigError, match=r"Discord refused the bot token"):
        await NewsBot(DiscordSettings(token=SecretStr("wrong")), desk).serve(asyncio.Event())


async def test_serve_answers_a_command_over_the_gateway_and_stops_cleanly(
    fake_discord: FakeDiscord,
    desk: FakeNewsDesk,
    discord_settings: DiscordSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The real client.start(): REST login, websocket IDENTIFY/READY, a dispatched command."""
    caplog.set_level(logging.DEBUG)
    bot = NewsBot(discord_settings, desk)
    bot._connection.guild_ready_timeout = 0.05  # READY lists no guilds: skip the 2 s wait
    stop = asyncio.Event()
    served = asyncio.create_task(bot.serve(stop))
    for _ in range(500):
        if bot.is_ready():
            break
        await asyncio.sleep(0.01)
    assert bot.is_ready()
    await fake_discord.dispatch("INTERACTION_CREATE", interaction("summit", "latest", {"count": 1}))
    for _ in range(200):
        if fake_discord.requests("PATCH", r"/messages/@original$"):
            break
        await asyncio.sleep(0.01)
    (edit,) = fake_discord.requests("PATCH", r"/messages/@original$")
    assert edit.body["content"] == "**Latest summit stories**"
    assert "op=2" in [c.path for c in fake_discord.calls if c.method == "WS"]  # IDENTIFY
    stop.set()
    await asyncio.wait_for(served, 5)
    assert bot.is_closed()
    assert "connected to Discord as newsbot" in caplog.text
    # F4: the gateway logs every event at DEBUG, interaction tokens included; none survive.
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "For Shard ID None: WebSocket Event" in logged
    assert INTERACTION_TOKEN_PREFIX not in logged
    assert BOT_TOKEN not in logged


def test_redact_tokens_in_urls_payloads_and_bot_tokens() -> None:
    text = (
        "POST https://discord.com/api/v10/webhooks/123/itok-abc.def_ghi?wait=1 "
        "/interactions/456/itok-xyz/callback {'token': 'itok-payload', 'id': '1'} "
        f'"token": "itok-json" Bot {BOT_TOKEN} secret-value'
    )
    redacted = redact(text, ["secret-value"])
    assert "itok" not in redacted
    assert BOT_TOKEN not in redacted
    assert "secret-value" not in redacted
    assert "/webhooks/123/<redacted>?wait=1" in redacted
    assert "/interactions/456/<redacted>/callback" in redacted


def test_redaction_covers_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    redactor = install_redaction(["correct-horse"])
    log = logging.getLogger("bot.platforms.discord.notifier")
    with caplog.at_level(logging.ERROR, logger="bot.platforms.discord.notifier"):
        try:
            raise RuntimeError("failed POST /webhooks/1/itok-secret with correct-horse")
        except RuntimeError:
            log.exception("send failed for /interactions/2/itok-other/callback")
    redactor.secrets.discard("correct-horse")
    (record,) = caplog.records
    assert record.getMessage() == "send failed for /interactions/2/<redacted>/callback"
    assert "itok" not in (record.exc_text or "")
    assert "correct-horse" not in (record.exc_text or "")
    assert "/webhooks/1/<redacted> with <redacted>" in (record.exc_text or "")
