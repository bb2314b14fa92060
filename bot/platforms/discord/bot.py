"""The Discord client: takes its collaborators, registers the commands, logs in, logs.

Commands sync to ``dev_guild_id`` on start when it is set; global sync happens only through
``sync_commands(..., global_sync=True)`` (``newsbot discord-sync --global``), never on every
start, because global commands are rate-limited and take a while to propagate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import discord
from discord import app_commands

from bot.core.errors import ConfigError
from bot.core.ports import NewsDesk
from bot.ops.logs import install_redaction as redacting
from bot.platforms.discord.commands import NewsTree, install_commands
from bot.platforms.discord.render import NO_MENTIONS
from bot.settings import DiscordSettings

log = logging.getLogger(__name__)

DEFAULT_MAX_RATELIMIT_TIMEOUT = 30.0
"""Longer waits than this come back as RateLimited, so the outbox, not a sleeping task, waits."""


class NewsBot(discord.Client):
    """newsbot on Discord: slash commands over a NewsDesk; the Notifier posts through it."""

    def __init__(
        self,
        settings: DiscordSettings,
        desk: NewsDesk,
        *,
        sync_on_start: bool = True,
        max_ratelimit_timeout: float = DEFAULT_MAX_RATELIMIT_TIMEOUT,
    ) -> None:
        # Slash commands need no privileged intent; guilds lets notices find a system channel.
        super().__init__(
            intents=discord.Intents(guilds=True),
            allowed_mentions=NO_MENTIONS,
            max_ratelimit_timeout=max_ratelimit_timeout,
        )
        self.settings = settings
        self.desk = desk
        self.tree = NewsTree(self)
        self._sync_on_start = sync_on_start
        secret = settings.token.get_secret_value() if settings.token is not None else None
        install_redaction(secrets=[secret] if secret else [])

    async def setup_hook(self) -> None:
        """Register the commands; in development, sync them to the test guild at once."""
        install_commands(self.tree, self.desk)
        guild_id = self.settings.dev_guild_id
        if not self._sync_on_start:
            return
        if guild_id is None:
            log.info(
                "slash commands not synced on start; run `newsbot discord-sync --global` once "
                "after changing them (or set discord.dev_guild_id while developing)"
            )
            return
        synced = await self.sync_to(guild_id)
        log.info("synced %d slash command group(s) to guild %s", len(synced), guild_id)

    async def on_ready(self) -> None:
        """Only log: setup belongs in setup_hook."""
        log.info(
            "connected to Discord as %s (%s) in %d server(s)",
            self.user,
            self.user.id if self.user else "?",
            len(self.guilds),
        )

    async def sync_to(self, guild_id: int | None) -> list[app_commands.AppCommand]:
        """Sync the commands to one guild, or globally when ``guild_id`` is None."""
        if guild_id is None:
            return await self.tree.sync()
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        return await self.tree.sync(guild=guild)

    async def login_rest(self) -> None:
        """Log in over REST only (no gateway): enough to post, e.g. for ``run --once``."""
        try:
            await self.login(_token(self.settings))
        except discord.LoginFailure as exc:
            raise ConfigError(
                "Discord refused the bot token: check discord.token (NEWSBOT_DISCORD__TOKEN)"
            ) from exc

    async def serve(self, stop: asyncio.Event) -> None:
        """Log in, connect and answer commands until ``stop`` is set; then close."""
        token = _token(self.settings)
        runner = asyncio.create_task(self.start(token), name="newsbot:discord")
        stopper = asyncio.create_task(stop.wait(), name="newsbot:discord-stop")
        try:
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if runner in done:
                runner.result()
        except discord.LoginFailure as exc:
            raise ConfigError(
                "Discord refused the bot token: check discord.token (NEWSBOT_DISCORD__TOKEN)"
            ) from exc
        finally:
            stopper.cancel()
            await self.close()
            if not runner.done():
                runner.cancel()
            await asyncio.gather(runner, stopper, return_exceptions=True)


def _token(settings: DiscordSettings) -> str:
    if settings.token is None or not settings.token.get_secret_value().strip():
        raise ConfigError("set discord.token (NEWSBOT_DISCORD__TOKEN) to run the Discord bot")
    return settings.token.get_secret_value().strip()


async def sync_commands(
    settings: DiscordSettings, desk: NewsDesk, *, global_sync: bool = False
) -> list[str]:
    """Log in over REST only and sync the slash commands: globally, or to ``dev_guild_id``.

    The entry point of ``newsbot discord-sync [--global]``. Returns the synced command names.
    """
    if not global_sync and settings.dev_guild_id is None:
        raise ConfigError("set discord.dev_guild_id, or pass --global to sync for every server")
    bot = NewsBot(settings, desk, sync_on_start=False)
    async with bot:
        try:
            await bot.login(_token(settings))
        except discord.LoginFailure as exc:
            raise ConfigError("Discord refused the bot token: check discord.token") from exc
        synced = await bot.sync_to(None if global_sync else settings.dev_guild_id)
    return [command.name for command in synced]


# --- secrets never reach the log (RELIABILITY F4) -----------------------------------------------

# discord.py logs interaction tokens in gateway events and token-bearing webhook URLs at DEBUG.
_REDACTED_LOGGERS = (
    "discord",
    "discord.client",
    "discord.gateway",
    "discord.http",
    "discord.state",
    "discord.webhook.async_",
    "discord.app_commands.tree",
    "bot.platforms.discord",
    "bot.platforms.discord.bot",
    "bot.platforms.discord.commands",
    "bot.platforms.discord.notifier",
)


def install_redaction(secrets: Iterable[str] = ()) -> logging.Filter:
    """Attach the shared token filter to discord.py's loggers and ours (idempotent)."""
    return redacting(_REDACTED_LOGGERS, secrets)
