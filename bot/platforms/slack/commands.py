"""Slash commands on one Bolt ``AsyncApp``: ack → parse the text → one NewsDesk call → respond.

Every listener acks at once (Slack's 3-second window, RELIABILITY E2) and answers through
``respond`` (the command's ``response_url``), ephemeral unless the answer is meant for the
channel. Bad input gets a clear ephemeral sentence and the command's usage; a NewsbotError
gets its one sentence; anything else gets a generic sentence and the traceback goes to the log.
Configuration commands check the caller when they run: workspace admins and owners, or members
of the configured user group (``AdminPolicy``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import InvalidInput, NewsbotError, PermissionDenied
from bot.core.ports import NewsDesk
from bot.core.stories import Destination, Mode
from bot.platforms.slack.inputs import (
    QUERY_MAX,
    QUERY_MIN,
    TERM_MAX,
    TERM_MIN,
    BadInput,
    parse_alerts_on,
    parse_count,
    parse_feed_url,
    parse_ref,
    parse_text,
    split_command,
)
from bot.platforms.slack.render import (
    Message,
    clean,
    code,
    notice,
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
    render_usage,
    render_watches,
)

log = logging.getLogger(__name__)

GENERIC_ERROR = (
    "Something went wrong on newsbot's side; it has been logged. Please try again later."
)
CALENDAR_FILE = "newsbot-summits.ics"

USAGE = {
    "/summit": (
        "`/summit latest [1-10]` — the newest summit stories\n"
        "`/summit search WORDS` — e.g. `/summit search xi geneva`\n"
        "`/summit story NUMBER` — one story in full, e.g. `/summit story 12`\n"
        "`/summit upcoming` — upcoming summits, with a calendar file"
    ),
    "/feeds": (
        "`/feeds list` — this workspace's feeds and their health (admins)\n"
        "`/feeds add URL` — e.g. `/feeds add https://example.com/rss.xml` (admins)\n"
        "`/feeds remove NUMBER` — e.g. `/feeds remove 7` (admins)"
    ),
    "/alerts": (
        "`/alerts on [alerts|digest|both] [SCHEDULE] [TIMEZONE]` — e.g. "
        "`/alerts on both daily 08:00 Asia/Seoul` (admins)\n"
        "`/alerts off` — stop alerts and digests here (admins)\n"
        "`/alerts status` — what this channel receives (admins)"
    ),
    "/digest": "`/digest now` — post a digest of current summit stories here",
    "/watch": (
        "`/watch add NAME` — e.g. `/watch add Macron` (admins)\n"
        "`/watch remove NAME` (admins)\n"
        "`/watch list` — what this channel watches (admins)"
    ),
}

Visibility = Literal["ephemeral", "in_channel"]
Body = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """What a command answers: one or more messages, public or just for the caller."""

    messages: tuple[Message, ...]
    visibility: Visibility = "ephemeral"


def ephemeral(message: Message) -> Reply:
    """An answer only the caller sees."""
    return Reply((message,), "ephemeral")


def public(*messages: Message) -> Reply:
    """An answer the whole channel sees."""
    return Reply(messages, "in_channel")


# --- who may configure ------------------------------------------------------------------------


class AdminPolicy:
    """Workspace admins and owners may configure newsbot, and members of ``admin_group``.

    ``admin_group`` is a user group id (``S0123ABC``) or handle (``newsbot-admins``). Whether
    the caller is an admin or in the group is asked of Slack (users.info, usergroups.users.list)
    every time a configuration command runs, never cached, so a demoted admin loses access at
    once. Only a handle's group id is remembered (for ``ttl`` seconds): it never changes rights.
    """

    def __init__(
        self,
        admin_group: str | None = None,
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.admin_group = (admin_group or "").strip().lstrip("@") or None
        self._ttl = ttl
        self._clock = clock
        self._group_ids: dict[str, tuple[float, str]] = {}

    async def check(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        """Raise PermissionDenied unless ``user_id`` may change newsbot's settings."""
        if not await self._allowed(client, team_id, user_id):
            who = "workspace admins and owners"
            if self.admin_group:
                who += f" and members of @{self.admin_group}"
            raise PermissionDenied(f"Only {who} can change newsbot's settings.")

    async def _allowed(self, client: AsyncWebClient, team_id: str, user_id: str) -> bool:
        try:
            info = await client.users_info(user=user_id)
            user = cast("dict[str, Any]", info.get("user") or {})
            if user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"):
                return True
            if self.admin_group is None:
                return False
            group = await self._group_id(client, team_id, self.admin_group)
            if group is None:
                log.warning("the admin user group %r does not exist", self.admin_group)
                return False
            members = await client.usergroups_users_list(usergroup=group)
            return user_id in cast("list[str]", members.get("users") or [])
        except (SlackApiError, SlackClientError) as exc:
            log.warning("could not check whether %s is an admin: %s", user_id, exc)
            raise PermissionDenied(
                "newsbot could not check your permissions with Slack; please try again."
            ) from exc

    async def _group_id(self, client: AsyncWebClient, team_id: str, group: str) -> str | None:
        if group.startswith("S") and group.isupper() and group.isalnum():
            return group
        cached = self._group_ids.get(team_id)
        if cached is not None and self._clock() - cached[0] < self._ttl:
            return cached[1]
        found = await client.usergroups_list()
        for item in cast("list[dict[str, Any]]", found.get("usergroups") or []):
            if item.get("handle") == group or item.get("name") == group:
                self._group_ids[team_id] = (self._clock(), str(item["id"]))
                return str(item["id"])
        return None


# --- the commands -----------------------------------------------------------------------------


def destination_of(command: Body) -> Destination:
    """The workspace channel the command was typed in, as the core names it; DMs are refused.

    Settings belong to the workspace (bot.core.tenancy), and a DM is nobody's channel to set.
    """
    channel = str(command.get("channel_id") or "")
    team = str(command.get("team_id") or "")
    if not channel or not team:
        raise InvalidInput("This command works only in a channel of a workspace.")
    if channel.startswith("D") or command.get("channel_name") == "directmessage":
        raise InvalidInput("This command works only in a channel, not in a direct message.")
    return Destination("slack", channel, team)


def asker_of(command: Body) -> Destination:
    """The channel a story lookup came from: it reads its workspace's feeds (a DM too, since
    a Slack DM is inside one workspace) and the shared ones."""
    team = str(command.get("team_id") or "") or None
    return Destination("slack", str(command.get("channel_id") or ""), team)


async def check_can_post(client: AsyncWebClient, channel_id: str, name: str) -> None:
    """Refuse ``/alerts on`` in a channel newsbot cannot post to (it is not a member).

    conversations.history answers ``not_in_channel`` for a channel the bot is not in, with
    the ``channels:history`` scope newsbot already has for reconciliation.
    """
    # Errors are shown escaped (no live syntax), so the channel is named by its name.
    where = f"#{name}" if name else f"the channel {channel_id}"
    try:
        await client.conversations_history(channel=channel_id, limit=1)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if error in ("not_in_channel", "channel_not_found"):
            raise InvalidInput(
                f"newsbot is not a member of {where}, so it cannot post there: invite it with "
                "`/invite @newsbot`, then run `/alerts on` again."
            ) from exc
        if error == "missing_scope":
            raise InvalidInput(
                f"newsbot may not read {where} (missing scope channels:history or "
                "groups:history): reinstall the app from config/slack-manifest.yaml."
            ) from exc
        log.warning("could not check newsbot's access to %s: %s", channel_id, error)
        raise InvalidInput(
            f"newsbot could not check that it can post in {where}; please try again."
        ) from exc
    except SlackClientError as exc:
        log.warning("could not check newsbot's access to %s: %s", channel_id, exc)
        raise InvalidInput(
            f"newsbot could not check that it can post in {where}; please try again."
        ) from exc


class SlackCommands:
    """The five slash commands over a NewsDesk; ``register`` adds them to a Bolt app."""

    def __init__(
        self,
        desk: NewsDesk,
        admins: AdminPolicy,
        *,
        digest_every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.desk = desk
        self.admins = admins
        self._digest_every = digest_every
        self._clock = clock
        self._last_digest: dict[str, float] = {}

    def register(self, app: AsyncApp) -> None:
        """Add one listener per command to ``app``."""
        handlers: dict[str, Callable[[Body, AsyncWebClient], Awaitable[Reply]]] = {
            "/summit": self.summit,
            "/feeds": self.feeds,
            "/alerts": self.alerts,
            "/digest": self.digest,
            "/watch": self.watch,
        }
        for name, handler in handlers.items():
            app.command(name)(_listener(name, handler))

    # /summit latest|search|story|upcoming
    async def summit(self, command: Body, client: AsyncWebClient) -> Reply:
        """Look up summit stories."""
        sub, rest = split_command(str(command.get("text") or ""))
        if sub in ("latest", ""):
            stories = await self.desk.latest(asker_of(command), parse_count(rest))
            return public(
                render_story_list("*Latest summit stories*", stories, "No summit stories yet.")
            )
        if sub == "search":
            query = parse_text(rest, "search", QUERY_MIN, QUERY_MAX)
            stories = await self.desk.search(asker_of(command), query)
            heading = f"*Summit stories matching* “{clean(query, QUERY_MAX)}”"
            return public(
                render_story_list(heading, stories, "No summit story matches that search.")
            )
        if sub == "story":
            story = await self.desk.story(asker_of(command), parse_ref(rest, "story"))
            return public(render_story(story))
        if sub == "upcoming":
            return await self._upcoming(command, client)
        raise BadInput(f"I do not know /summit {code(sub, 30)}.")

    async def _upcoming(self, command: Body, client: AsyncWebClient) -> Reply:
        stories = await self.desk.upcoming(asker_of(command))
        note = None
        if stories:
            try:
                await client.files_upload_v2(
                    channel=destination_of(command).channel_id,
                    filename=CALENDAR_FILE,
                    title="Upcoming summits (calendar)",
                    content=self.desk.calendar(stories),
                )
                note = "The calendar file above imports them into any calendar."
            except (SlackApiError, SlackClientError) as exc:
                # Typical: newsbot is not in the channel, or files:write is missing.
                log.info("could not upload the calendar file: %s", exc)
                note = (
                    "Invite newsbot to this channel (`/invite @newsbot`) to get a calendar "
                    "file with these dates."
                )
        return public(render_upcoming(stories, calendar_note=note))

    # /feeds list|add|remove
    async def feeds(self, command: Body, client: AsyncWebClient) -> Reply:
        """Manage the feeds."""
        sub, rest = split_command(str(command.get("text") or ""))
        destination = destination_of(command)
        if sub in ("list", ""):
            await self._admin(command, client)
            return ephemeral(render_feeds(await self.desk.list_feeds(destination)))
        if sub == "add":
            url = parse_feed_url(rest)
            await self._admin(command, client)
            return ephemeral(render_feed_added(await self.desk.add_feed(destination, url)))
        if sub == "remove":
            feed_id = parse_ref(rest, "feed")
            await self._admin(command, client)
            removed = await self.desk.remove_feed(destination, feed_id)
            return ephemeral(render_feed_removed(removed))
        raise BadInput(f"I do not know /feeds {code(sub, 30)}.")

    # /alerts on|off|status
    async def alerts(self, command: Body, client: AsyncWebClient) -> Reply:
        """Subscribe this channel."""
        sub, rest = split_command(str(command.get("text") or ""))
        destination = destination_of(command)
        if sub in ("status", ""):
            await self._admin(command, client)
            return ephemeral(render_subscription(await self.desk.subscription(destination)))
        if sub == "on":
            mode, schedule, zone = parse_alerts_on(rest)
            await self._admin(command, client)
            name = str(command.get("channel_name") or "")
            await check_can_post(client, destination.channel_id, name)
            subscription = await self.desk.subscribe(
                destination, cast("Mode", mode), schedule=schedule, timezone=zone or "UTC"
            )
            return ephemeral(render_subscribed(subscription))
        if sub == "off":
            if rest:
                raise BadInput("`/alerts off` takes nothing after it.")
            await self._admin(command, client)
            await self.desk.unsubscribe(destination)
            return ephemeral(notice("Summit alerts and digests are off in this channel."))
        raise BadInput(f"I do not know /alerts {code(sub, 30)}.")

    # /digest now
    async def digest(self, command: Body, client: AsyncWebClient) -> Reply:
        """Post a digest here now (one per channel per minute: anyone may ask, none may flood)."""
        sub, rest = split_command(str(command.get("text") or ""))
        if sub not in ("now", "") or rest:
            raise BadInput("`/digest` knows only `now`.")
        destination = destination_of(command)
        now = self._clock()
        last = self._last_digest.get(destination.channel_id)
        if last is not None and now - last < self._digest_every:
            wait = self._digest_every - (now - last)
            raise InvalidInput(f"Please wait {wait:.0f} s before asking for another digest.")
        self._last_digest[destination.channel_id] = now
        return public(*render_digest(await self.desk.digest_now(destination)))

    # /watch add|remove|list
    async def watch(self, command: Body, client: AsyncWebClient) -> Reply:
        """Watch names or keywords."""
        sub, rest = split_command(str(command.get("text") or ""))
        destination = destination_of(command)
        if sub in ("list", ""):
            await self._admin(command, client)
            return ephemeral(render_watches(await self.desk.watches(destination)))
        if sub in ("add", "remove"):
            term = parse_text(rest, "name or keyword", TERM_MIN, TERM_MAX)
            await self._admin(command, client)
            if sub == "add":
                terms = await self.desk.watch(destination, term)
                return ephemeral(render_watches(terms, "Now watching"))
            terms = await self.desk.unwatch(destination, term)
            return ephemeral(render_watches(terms, "Still watching"))
        raise BadInput(f"I do not know /watch {code(sub, 30)}.")

    async def _admin(self, command: Body, client: AsyncWebClient) -> None:
        await self.admins.check(
            client, str(command.get("team_id") or ""), str(command.get("user_id") or "")
        )


def _listener(
    name: str, handler: Callable[[Body, AsyncWebClient], Awaitable[Reply]]
) -> Callable[..., Awaitable[None]]:
    """A Bolt listener: ack at once, run the handler, answer through ``respond``."""

    async def listener(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        try:
            reply = await handler(command, client)
        except BadInput as exc:
            reply = ephemeral(render_usage(str(exc), USAGE[name]))
        except NewsbotError as exc:
            reply = ephemeral(render_error(str(exc) or GENERIC_ERROR))
        except Exception:
            log.exception("%s %s failed", name, clean(str(command.get("text") or ""), 100))
            reply = ephemeral(render_error(GENERIC_ERROR))
        await _answer(respond, reply)

    listener.__name__ = f"newsbot_{name.strip('/')}"
    return listener


async def _answer(respond: AsyncRespond, reply: Reply) -> None:
    """Send the reply's messages through the response_url (up to five per command)."""
    for message in reply.messages[:5]:
        try:
            await respond(
                response_type=reply.visibility,
                replace_original=False,
                **message.payload(),
            )
        except Exception as exc:  # the command already ran; the user can only be told in logs
            log.warning("could not answer a slash command: %s", type(exc).__name__)
            return
