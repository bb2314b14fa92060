"""The Discord Notifier: posts alerts and digests through the logged-in client's REST API.

Every channel send carries ``nonce=key[:25]`` (discord.py then adds ``enforce_nonce``), so a
retry of the same outbox row within Discord's dedupe window returns the message already posted
(RELIABILITY D2, §3.5). That window is only "a few minutes", so every page also carries its
marker (``ref <nonce>``) at the end of its last embed's footer, or as a subtext line when it
has no embed: a re-send after an earlier attempt first pages the channel's history back to
``since`` and returns the message it finds. discord.py's own errors are translated into the
core's delivery errors here and nowhere else (D1, D4).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import aiohttp
import discord

from bot.core.errors import DeliveryError, DestinationGone, RateLimited
from bot.core.stories import Destination, Digest, StoryEvent
from bot.platforms.discord.render import (
    CONTENT_MAX,
    EMBED_TOTAL_MAX,
    FOOTER_MAX,
    NO_MENTIONS,
    Rendered,
    render_alert,
    render_digest,
    render_notice,
    truncate,
)

log = logging.getLogger(__name__)

NONCE_MAX = 25
UNKNOWN_MESSAGE = 10008
# Clocks differ: history is read from a little before the row was queued.
CLOCK_SKEW = timedelta(minutes=2)
HISTORY_MAX = 10_000


def nonce_for(key: str, page: int = 0) -> str:
    """The Discord nonce for page ``page`` of the message with outbox key ``key`` (≤25 chars)."""
    if page == 0:
        return key[:NONCE_MAX]
    return f"{key[: NONCE_MAX - 3]}~{page:02d}"


def marker_for(key: str, page: int = 0) -> str:
    """The text that identifies a posted page in the channel's history."""
    return f"ref {nonce_for(key, page)}"


def with_marker(message: Rendered, marker: str) -> Rendered:
    """The page with its marker: at the end of its last embed's footer, else of its content."""
    suffix = f" · {marker}"
    if not message.embeds:
        content = truncate(message.content or "", CONTENT_MAX - len(marker) - 4)
        return replace(message, content=f"{content}\n-# {marker}".lstrip("\n"))
    embeds = list(message.embeds)
    last = embeds[-1].copy()
    footer = last.footer.text or ""
    room = EMBED_TOTAL_MAX - sum(len(embed) for embed in embeds) + len(footer) - len(suffix)
    footer = truncate(footer, max(min(FOOTER_MAX - len(suffix), room), 0))
    last.set_footer(text=(footer + suffix).lstrip(" ·"), icon_url=last.footer.icon_url)
    embeds[-1] = last
    return replace(message, embeds=tuple(embeds))


def markers_in(message: discord.Message) -> list[str]:
    """The footer and content texts of a posted message, where markers live."""
    texts = [embed.footer.text or "" for embed in message.embeds]
    texts.append(message.content or "")
    return texts


class DiscordNotifier:
    """Posts to Discord channels for the delivery worker; implements ``bot.core.ports.Notifier``."""

    platform = "discord"
    held_output = None  # posts can be read back: the outbox looks for their markers
    in_flight = timedelta(seconds=35)  # our post timeout is 30 s

    def __init__(self, client: discord.Client, *, timeout: float = 30.0) -> None:
        self._client = client
        self._timeout = timeout
        self._rest_only = False

    def use_rest_login(self) -> None:
        """Posting needs no gateway in this process (``run --once``): ready once logged in."""
        self._rest_only = True

    async def ready(self) -> None:
        """Return once the gateway said READY (or, REST only, once logged in)."""
        while not self._client.is_ready():
            if self._rest_only and self._client.user is not None:
                return
            await asyncio.sleep(0.1)

    async def send_alert(
        self, destination: Destination, event: StoryEvent, key: str, since: datetime | None = None
    ) -> str:
        """Post one alert embed (unless already posted since ``since``); returns its id."""
        return await self._send(destination, [render_alert(event)], key, since)

    async def send_digest(
        self, destination: Destination, digest: Digest, key: str, since: datetime | None = None
    ) -> str:
        """Post a digest (one message, or a few when it is long); returns the first message id."""
        return await self._send(destination, render_digest(digest), key, since)

    async def notify_admins(self, destination: Destination, reason: str) -> None:
        """Leave a short notice in the channel, or the server's system channel; else log it."""
        targets: list[discord.abc.Messageable] = []
        channel_id = _channel_id(destination)
        text = render_notice(reason, channel_id)
        if channel_id is not None:
            targets.append(self._client.get_partial_messageable(channel_id))
        guild = self._guild(destination)
        if guild is not None and guild.system_channel is not None:
            targets.append(guild.system_channel)
        for target in targets:
            try:
                async with asyncio.timeout(self._timeout):
                    await target.send(text, allowed_mentions=NO_MENTIONS)
            except (discord.DiscordException, aiohttp.ClientError, OSError) as exc:
                log.info("could not leave a notice in %s: %s", _where(destination), exc)
                continue
            return
        log.warning("newsbot stopped posting to %s: %s", _where(destination), reason)

    def _guild(self, destination: Destination) -> discord.Guild | None:
        if not destination.workspace_id or not destination.workspace_id.isdigit():
            return None
        return self._client.get_guild(int(destination.workspace_id))

    async def _send(
        self,
        destination: Destination,
        pages: Sequence[Rendered],
        key: str,
        since: datetime | None,
    ) -> str:
        channel_id = _channel_id(destination)
        if channel_id is None:
            raise DestinationGone(f"{destination.channel_id!r} is not a Discord channel id")
        if self._client.user is None or self._client.is_closed():
            raise DeliveryError("the Discord client is not logged in")
        channel = self._client.get_partial_messageable(channel_id)
        first: str | None = None
        async with _delivery_errors(destination), asyncio.timeout(self._timeout):
            markers = [marker_for(key, page) for page in range(len(pages))]
            posted = {} if since is None else await self._posted(channel, markers, since)
            for page, message in enumerate(pages):
                message_id = posted.get(markers[page])
                if message_id is not None:
                    log.info(
                        "outbox row %s page %d is already in %s as %s: not posting it again",
                        key,
                        page,
                        _where(destination),
                        message_id,
                    )
                else:
                    marked = with_marker(message, markers[page])
                    sent = await channel.send(
                        marked.content,
                        embeds=list(marked.embeds),
                        nonce=nonce_for(key, page),
                        allowed_mentions=NO_MENTIONS,
                    )
                    message_id = str(sent.id)
                first = first or message_id
        if first is None:
            raise DeliveryError("nothing to send")
        return first

    async def _posted(
        self, channel: discord.PartialMessageable, markers: Sequence[str], since: datetime
    ) -> dict[str, str]:
        """Which of ``markers`` our bot posted in the channel since ``since`` (marker → id)."""
        me = self._client.user.id if self._client.user is not None else None
        wanted = set(markers)
        found: dict[str, str] = {}
        after = discord.Object(discord.utils.time_snowflake(since - CLOCK_SKEW))
        try:
            async for message in channel.history(limit=HISTORY_MAX, after=after):
                if message.author.id != me:
                    continue
                for text in markers_in(message):
                    for marker in wanted - found.keys():
                        if text.endswith(marker):
                            found[marker] = str(message.id)
                if len(found) == len(wanted):
                    break
        except discord.Forbidden:
            # Posting may still be allowed: only Discord's nonce window guards this re-send.
            log.warning(
                "cannot read the history of channel %s to check for an earlier post: give "
                "newsbot Read Message History there",
                channel.id,
            )
        return found


def _channel_id(destination: Destination) -> int | None:
    value = destination.channel_id.strip()
    return int(value) if value.isdigit() else None


def _where(destination: Destination) -> str:
    guild = f" in guild {destination.workspace_id}" if destination.workspace_id else ""
    return f"channel {destination.channel_id}{guild}"


@contextlib.asynccontextmanager
async def _delivery_errors(destination: Destination) -> AsyncIterator[None]:
    """Translate discord.py and transport errors into the core delivery errors."""
    try:
        yield
    except discord.RateLimited as exc:
        # discord.py raises this only when Discord asks for longer than max_ratelimit_timeout;
        # shorter waits it sleeps through itself.
        raise RateLimited(
            f"Discord asked newsbot to wait {exc.retry_after:.0f} s before posting again",
            retry_after=exc.retry_after,
        ) from exc
    except discord.NotFound as exc:
        if exc.code == UNKNOWN_MESSAGE:
            # A message with this nonce was deleted moments ago: the channel itself is fine.
            raise DeliveryError(f"Discord refused the message ({exc.code}: {exc.text})") from exc
        raise DestinationGone(
            f"the channel is gone or the bot cannot see it (Discord {exc.code}: {exc.text})"
        ) from exc
    except discord.Forbidden as exc:
        raise DestinationGone(
            "the bot may not post there; it needs View Channel, Send Messages and Embed Links "
            f"(Discord {exc.code}: {exc.text})"
        ) from exc
    except discord.HTTPException as exc:
        if exc.status == 429:
            # A 429 without Discord's Via header (Cloudflare): discord.py does not retry it.
            raise RateLimited(
                "Discord (Cloudflare) is rate limiting newsbot",
                retry_after=_retry_after(exc),
            ) from exc
        raise DeliveryError(f"Discord answered {exc.status} ({exc.code}: {exc.text})") from exc
    except TimeoutError as exc:  # before OSError, of which it is a subclass
        raise DeliveryError("Discord did not answer in time") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise DeliveryError(f"could not reach Discord: {type(exc).__name__}") from exc
    else:
        log.debug("delivered to %s", _where(destination))


def _retry_after(exc: discord.HTTPException) -> float | None:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None
