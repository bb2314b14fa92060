"""Slash commands: each handler defers, takes parsed input, calls one NewsDesk use case, renders.

Input is parsed before a handler runs (``Range``, ``Literal`` and the Transformers in
``inputs``); every error reaches ``NewsTree.on_error``, which answers with one ephemeral
sentence. Configuration commands check Manage Server when they run: the group's
``default_permissions`` is only a hint that server admins can change (RELIABILITY E3).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import discord
from discord import app_commands
from discord.app_commands import Range, Transform

from bot.core.errors import InvalidInput, NewsbotError
from bot.core.ports import NewsDesk
from bot.core.stories import Destination
from bot.platforms.discord.inputs import (
    CHOICE_MAX,
    FeedRef,
    FeedUrl,
    Schedule,
    StoryRef,
    TimeZone,
)
from bot.platforms.discord.render import (
    NO_MENTIONS,
    Rendered,
    clean,
    fit,
    plain,
    render_digest,
    render_error,
    render_feed_added,
    render_feed_removed,
    render_feeds,
    render_story,
    render_story_list,
    render_subscribed,
    render_subscription,
    render_upcoming,
    render_watches,
)

log = logging.getLogger(__name__)

Interaction = discord.Interaction[discord.Client]
Choices = list[app_commands.Choice[str]]

GENERIC_ERROR = (
    "Something went wrong on newsbot's side; it has been logged. Please try again later."
)
CALENDAR_FILE = "newsbot-summits.ics"

_DEFERRED = "newsbot:deferred"
_MANAGE_SERVER = discord.Permissions(manage_guild=True)


def _may_configure(interaction: Interaction) -> bool:
    """In a server, with Manage Server in this channel (the interaction's resolved permissions)."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
    return True


manage_server = app_commands.check(_may_configure)
"""The runtime check on every configuration command; ``default_permissions`` is only a hint."""


# --- replies -----------------------------------------------------------------------------------


async def defer(interaction: Interaction, *, ephemeral: bool = False) -> None:
    """Acknowledge within Discord's 3 s window; the answer edits the "thinking…" message."""
    interaction.extras[_DEFERRED] = "ephemeral" if ephemeral else "public"
    await interaction.response.defer(ephemeral=ephemeral, thinking=True)


async def reply(
    interaction: Interaction,
    message: Rendered | str,
    *,
    ephemeral: bool = False,
    file: discord.File | None = None,
) -> None:
    """Answer the command: edit the deferred response, or send the first response."""
    rendered = message if isinstance(message, Rendered) else fit(message, [])
    if interaction.response.is_done():
        edit: dict[str, Any] = {"attachments": [file]} if file is not None else {}
        await interaction.edit_original_response(
            content=rendered.content,
            embeds=list(rendered.embeds),
            allowed_mentions=NO_MENTIONS,
            **edit,
        )
        return
    send: dict[str, Any] = {"file": file} if file is not None else {}
    await interaction.response.send_message(
        rendered.content,
        embeds=list(rendered.embeds),
        ephemeral=ephemeral,
        allowed_mentions=NO_MENTIONS,
        **send,
    )


async def reply_error(interaction: Interaction, text: str) -> None:
    """One ephemeral sentence, however far the command got before it failed."""
    text = render_error(text)
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return
    deferred = interaction.extras.get(_DEFERRED)
    if deferred == "ephemeral":
        await interaction.edit_original_response(
            content=text, embeds=[], allowed_mentions=NO_MENTIONS
        )
        return
    if deferred == "public":
        # The public "thinking…" message would otherwise show the error to the whole channel.
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


def destination_of(interaction: Interaction) -> Destination:
    """The server channel the command was typed in, as the core names it; DMs are refused.

    Settings belong to the server (bot.core.tenancy), so a DM, which has none, owns nothing.
    """
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage
    if interaction.channel_id is None:
        raise InvalidInput("This command works only in a channel.")
    return Destination(
        platform="discord",
        channel_id=str(interaction.channel_id),
        workspace_id=str(interaction.guild_id),
    )


def asker_of(interaction: Interaction) -> Destination:
    """The channel a story lookup came from; in a DM (no server) it reads shared feeds only."""
    guild = interaction.guild_id
    return Destination(
        platform="discord",
        channel_id=str(interaction.channel_id or interaction.user.id),
        workspace_id=None if guild is None else str(guild),
    )


# What an alert channel needs (README, "Discord" step 2), with the names Discord shows.
ALERT_PERMISSIONS = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
    ("attach_files", "Attach Files"),
)


def missing_permissions(permissions: discord.Permissions) -> list[str]:
    """The permissions an alert channel needs that ``permissions`` lacks, as Discord names them."""
    return [label for name, label in ALERT_PERMISSIONS if not getattr(permissions, name)]


def check_can_post(interaction: Interaction) -> None:
    """Refuse ``/alerts on`` where the bot could not post (its resolved ``app_permissions``)."""
    missing = missing_permissions(interaction.app_permissions)
    if missing:
        # Errors are shown escaped (no live mentions), so the channel is named by its name.
        name = getattr(interaction.channel, "name", None)
        where = f"#{name}" if name else f"the channel {interaction.channel_id}"
        raise InvalidInput(
            f"newsbot cannot post in {where}: it lacks "
            f"{', '.join(missing)} there. Give the newsbot role these permissions in this "
            "channel, then run `/alerts on` again."
        )


async def _suggest(
    suggest: Callable[[str, int], Awaitable[list[tuple[int, str]]]], current: str
) -> Choices:
    """Autocomplete choices from a NewsDesk suggestion; a failure shows an empty list."""
    try:
        found = await suggest(current.strip(), 25)
    except Exception:
        log.exception("autocomplete failed")
        return []
    return [
        app_commands.Choice(name=plain(f"#{ident} · {label}", CHOICE_MAX), value=str(ident))
        for ident, label in found[:25]
    ]


# --- /summit -----------------------------------------------------------------------------------


class SummitCommands(
    app_commands.Group, name="summit", description="Summit stories across outlets"
):
    """Look up summit stories."""

    def __init__(self, desk: NewsDesk) -> None:
        super().__init__()
        self.desk = desk

    @app_commands.command(name="latest")
    @app_commands.describe(count="How many stories to show (1-10)")
    async def latest(self, interaction: Interaction, count: Range[int, 1, 10] = 5) -> None:
        """The newest summit stories."""
        await defer(interaction)
        stories = await self.desk.latest(asker_of(interaction), count)
        await reply(
            interaction,
            render_story_list("**Latest summit stories**", stories, "No summit stories yet."),
        )

    @app_commands.command(name="search")
    @app_commands.describe(query="Names, places or words, e.g. Xi Biden or Geneva")
    async def search(self, interaction: Interaction, query: Range[str, 2, 100]) -> None:
        """Search summit stories."""
        await defer(interaction)
        stories = await self.desk.search(asker_of(interaction), query)
        heading = f"**Summit stories matching** “{clean(query, 100)}”"
        await reply(
            interaction,
            render_story_list(heading, stories, "No summit story matches that search."),
        )

    @app_commands.command(name="story")
    @app_commands.describe(story="The story: start typing its title, or give its number")
    async def story(self, interaction: Interaction, story: Transform[int, StoryRef]) -> None:
        """One story in full: facts, sources, what changed and why it counts as a summit."""
        await defer(interaction)
        found = await self.desk.story(asker_of(interaction), story)
        await reply(interaction, render_story(found))

    @story.autocomplete("story")
    async def _story_choices(self, interaction: Interaction, current: str) -> Choices:
        asker = asker_of(interaction)

        async def suggest(prefix: str, limit: int) -> list[tuple[int, str]]:
            return await self.desk.suggest_stories(asker, prefix, limit)

        return await _suggest(suggest, current)

    @app_commands.command(name="upcoming")
    async def upcoming(self, interaction: Interaction) -> None:
        """Upcoming summits, with a calendar file to import."""
        await defer(interaction)
        stories = await self.desk.upcoming(asker_of(interaction))
        file = None
        if stories:
            file = discord.File(io.BytesIO(self.desk.calendar(stories)), filename=CALENDAR_FILE)
        await reply(interaction, render_upcoming(stories), file=file)


# --- /feeds ------------------------------------------------------------------------------------


class FeedCommands(
    app_commands.Group,
    name="feeds",
    description="The news feeds newsbot watches",
    guild_only=True,
    default_permissions=_MANAGE_SERVER,
):
    """Manage the feeds."""

    def __init__(self, desk: NewsDesk) -> None:
        super().__init__()
        self.desk = desk

    @app_commands.command(name="add")
    @app_commands.describe(url="The feed's address, e.g. https://example.com/rss.xml")
    @manage_server
    async def add(self, interaction: Interaction, url: Transform[str, FeedUrl]) -> None:
        """Watch a new RSS, Atom or JSON feed for this server."""
        destination = destination_of(interaction)
        await defer(interaction, ephemeral=True)
        feed = await self.desk.add_feed(destination, url)
        await reply(interaction, render_feed_added(feed), ephemeral=True)

    @app_commands.command(name="remove")
    @app_commands.describe(feed="The feed: start typing its name, or give its number")
    @manage_server
    async def remove(self, interaction: Interaction, feed: Transform[int, FeedRef]) -> None:
        """Stop watching a feed in this server."""
        destination = destination_of(interaction)
        await defer(interaction, ephemeral=True)
        removed = await self.desk.remove_feed(destination, feed)
        await reply(interaction, render_feed_removed(removed), ephemeral=True)

    @remove.autocomplete("feed")
    async def _feed_choices(self, interaction: Interaction, current: str) -> Choices:
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            return []
        destination = destination_of(interaction)

        async def suggest(prefix: str, limit: int) -> list[tuple[int, str]]:
            return await self.desk.suggest_feeds(destination, prefix, limit)

        return await _suggest(suggest, current)

    @app_commands.command(name="list")
    @manage_server
    async def list_(self, interaction: Interaction) -> None:
        """This server's feeds (and the operator's shared ones) and whether they are healthy."""
        destination = destination_of(interaction)
        await defer(interaction, ephemeral=True)
        feeds = await self.desk.list_feeds(destination)
        await reply(interaction, render_feeds(feeds), ephemeral=True)


# --- /alerts -----------------------------------------------------------------------------------


class AlertCommands(
    app_commands.Group,
    name="alerts",
    description="Summit alerts and digests in this channel",
    guild_only=True,
    default_permissions=_MANAGE_SERVER,
):
    """Subscribe this channel."""

    def __init__(self, desk: NewsDesk) -> None:
        super().__init__()
        self.desk = desk

    @app_commands.command(name="on")
    @app_commands.describe(
        mode="alerts: a post per new story or change; digest: on a schedule; both",
        schedule="When the digest comes, e.g. daily 08:00, weekdays 07:30 or 0 8 * * *",
        timezone="The schedule's time zone, e.g. Asia/Seoul (default UTC)",
    )
    @manage_server
    async def on(
        self,
        interaction: Interaction,
        mode: Literal["alerts", "digest", "both"] = "alerts",
        schedule: Transform[str, Schedule] | None = None,
        timezone: Transform[str, TimeZone] | None = None,
    ) -> None:
        """Turn on summit alerts or a digest here."""
        if mode == "alerts" and (schedule or timezone):
            raise InvalidInput(
                "A schedule and time zone apply only to digests: choose mode digest or both."
            )
        destination = destination_of(interaction)
        check_can_post(interaction)
        await defer(interaction, ephemeral=True)
        subscription = await self.desk.subscribe(
            destination, mode, schedule=schedule, timezone=timezone or "UTC"
        )
        await reply(interaction, render_subscribed(subscription), ephemeral=True)

    @app_commands.command(name="off")
    @manage_server
    async def off(self, interaction: Interaction) -> None:
        """Stop summit alerts and digests here."""
        destination = destination_of(interaction)
        await defer(interaction, ephemeral=True)
        await self.desk.unsubscribe(destination)
        await reply(
            interaction, "Summit alerts and digests are off in this channel.", ephemeral=True
        )

    @app_commands.command(name="status")
    @manage_server
    async def status(self, interaction: Interaction) -> None:
        """What this channel receives."""
        destination = destination_of(interaction)
        await defer(interaction, ephemeral=True)
        subscription = await self.desk.subscription(destination)
        await reply(interaction, render_subscription(subscription), ephemeral=True)


# --- /digest -----------------------------------------------------------------------------------


class DigestCommands(
    app_commands.Group, name="digest", description="Summit digests", guild_only=True
):
    """Digests on demand."""

    def __init__(self, desk: NewsDesk, *, per_channel_seconds: float = 60.0) -> None:
        super().__init__()
        self.desk = desk
        self._per = per_channel_seconds
        self._cooldowns: dict[int, app_commands.Cooldown] = {}

    def _cool_down(self, interaction: Interaction) -> None:
        """One digest per channel per minute: anyone may ask, nobody may flood."""
        key = interaction.channel_id or 0
        cooldown = self._cooldowns.setdefault(key, app_commands.Cooldown(1, self._per))
        retry_after = cooldown.update_rate_limit()
        if retry_after:
            raise app_commands.CommandOnCooldown(cooldown, retry_after)

    @app_commands.command(name="now")
    async def now(self, interaction: Interaction) -> None:
        """Post a digest of current summit stories here now."""
        destination = destination_of(interaction)
        self._cool_down(interaction)
        await defer(interaction)
        digest = await self.desk.digest_now(destination)
        first, *rest = render_digest(digest)
        await reply(interaction, first)
        for page in rest:
            await interaction.followup.send(
                page.content or "", embeds=list(page.embeds), allowed_mentions=NO_MENTIONS
            )


# --- /watch ------------------------------------------------------------------------------------


class WatchCommands(
    app_commands.Group,
    name="watch",
    description="Names and keywords this channel is alerted about",
    guild_only=True,
    default_permissions=_MANAGE_SERVER,
):
    """Watch names or keywords."""

    def __init__(self, desk: NewsDesk) -> None:
        super().__init__()
        self.desk = desk

    @app_commands.command(name="add")
    @app_commands.describe(term="A name or keyword, e.g. Macron or climate")
    @manage_server
    async def add(self, interaction: Interaction, term: Range[str, 2, 100]) -> None:
        """Alert this channel when any summit story mentions a name or keyword."""
        destination = destination_of(interaction)
        await defer(interaction, ephemeral=True)
        terms = await self.desk.watch(destination, term.strip())
        await reply(interaction, render_watches(terms, "Now watching"), ephemeral=True)

    @app_commands.command(name="remove")
    @app_commands.describe(term="The name or keyword to stop watching")
    @manage_server
    async def remove(self, interaction: Interaction, term: Range[str, 2, 100]) -> None:
        """Stop watching a name or keyword."""
        destination = destination_of(interaction)
        await defer(interaction, ephemeral=True)
        terms = await self.desk.unwatch(destination, term.strip())
        await reply(interaction, render_watches(terms, "Still watching"), ephemeral=True)

    @remove.autocomplete("term")
    async def _term_choices(self, interaction: Interaction, current: str) -> Choices:
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            return []
        try:
            terms = await self.desk.watches(destination_of(interaction))
        except Exception:
            log.exception("autocomplete failed")
            return []
        typed = current.strip().lower()
        return [
            app_commands.Choice(name=plain(term, CHOICE_MAX), value=term[:CHOICE_MAX])
            for term in terms
            if typed in term.lower()
        ][:25]

    @app_commands.command(name="list")
    @manage_server
    async def list_(self, interaction: Interaction) -> None:
        """The names and keywords watched here."""
        destination = destination_of(interaction)
        await defer(interaction, ephemeral=True)
        terms = await self.desk.watches(destination)
        await reply(interaction, render_watches(terms), ephemeral=True)


# --- the tree ----------------------------------------------------------------------------------

GROUPS: tuple[Callable[[NewsDesk], app_commands.Group], ...] = (
    SummitCommands,
    FeedCommands,
    AlertCommands,
    DigestCommands,
    WatchCommands,
)


def install_commands(tree: app_commands.CommandTree[Any], desk: NewsDesk) -> None:
    """Add every newsbot command group to ``tree`` (replacing ones already there)."""
    for group in GROUPS:
        tree.add_command(group(desk), override=True)


def user_message(error: BaseException) -> str | None:
    """The sentence to show for an error, or None when it is a bug (then it is logged)."""
    cause: BaseException = error
    if isinstance(error, app_commands.CommandInvokeError):
        cause = error.original
    elif isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
        cause = error.__cause__
    if isinstance(cause, NewsbotError):
        return str(cause) or GENERIC_ERROR
    if isinstance(cause, app_commands.MissingPermissions):
        return "You need the Manage Server permission to change newsbot's settings here."
    if isinstance(cause, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return (
            "newsbot does not know that command any more: the command list in this server is "
            "out of date. Try again in a minute, or ask the bot's operator to run "
            "`newsbot discord-sync --global`."
        )
    if isinstance(cause, app_commands.NoPrivateMessage):
        return "This command works only in a server channel."
    if isinstance(cause, app_commands.CommandOnCooldown):
        return f"Please wait {cause.retry_after:.0f} s before asking again."
    if isinstance(cause, app_commands.TransformerError):
        return "I could not understand that value; please pick one from the list."
    if isinstance(cause, app_commands.CheckFailure):
        return "You cannot use this command here."
    return None


class NewsTree(app_commands.CommandTree[discord.Client]):
    """The command tree: every command error becomes one ephemeral sentence."""

    async def on_error(self, interaction: Interaction, error: app_commands.AppCommandError) -> None:
        """Tell the user what went wrong; log the traceback when it is our bug."""
        text = user_message(error)
        if text is None:
            name = interaction.command.qualified_name if interaction.command else "?"
            log.error("/%s failed", name, exc_info=error)
            text = GENERIC_ERROR
        elif isinstance(
            error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch
        ):
            log.warning("unknown or outdated command: %s", error)
        try:
            await reply_error(interaction, text)
        except (discord.HTTPException, discord.InteractionResponded) as exc:
            log.warning("could not tell the user about an error: %s", exc)
