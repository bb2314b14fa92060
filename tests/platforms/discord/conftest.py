"""Fixtures: a fake Discord on 127.0.0.1 (reusable by end-to-end tests), a NewsDesk, a bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.platforms.discord.bot import NewsBot
from bot.settings import DiscordSettings
from tests.platforms.discord.desk import FakeNewsDesk
from tests.platforms.discord.fake import (
    BOT_TOKEN,
    GUILD_ID,
    FakeDiscord,
    running_fake_discord,
)


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A fake Discord on a free loopback port; every discord.py client in the test uses it."""
    async with running_fake_discord(monkeypatch) as fake:
        yield fake


@pytest.fixture
def discord_settings() -> DiscordSettings:
    """Settings with the fake token and a development guild."""
    return DiscordSettings(token=SecretStr(BOT_TOKEN), dev_guild_id=int(GUILD_ID))


@pytest.fixture
def desk() -> FakeNewsDesk:
    """An in-memory NewsDesk with two stories and one feed."""
    return FakeNewsDesk()


@pytest.fixture
async def discord_bot(
    fake_discord: FakeDiscord, desk: FakeNewsDesk, discord_settings: DiscordSettings
) -> AsyncIterator[NewsBot]:
    """A NewsBot logged in (REST only) to the fake Discord; its commands are installed."""
    bot = NewsBot(discord_settings, desk)
    async with bot:
        await bot.login(BOT_TOKEN)
        yield bot
