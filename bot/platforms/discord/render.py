"""Pure rendering of stories, digests and settings into Discord messages within Discord's limits.

Feed text is hostile (RELIABILITY C1-C5): it is escaped for markdown and mentions, masked
links are broken, links are kept only when they are http(s) with a real host, and every
message is fitted to the limits of §2 here, before anything is sent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import discord
from discord.utils import escape_mentions

from bot.core.feedurl import display_host
from bot.core.links import web_link
from bot.core.models import FeedInfo
from bot.core.stories import (
    Digest,
    FactChange,
    Story,
    StoryEvent,
    StoryFacts,
    Subscription,
)
from bot.core.tenancy import OPERATOR
from bot.core.text import first_sentence, join_within
from bot.stories.facts import (
    change_label,
    facts_line,
    status_text,
    when_text,
    where_text,
    who_text,
)

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
LINK_IN_TEXT_MAX = 300

NO_MENTIONS = discord.AllowedMentions.none()
"""Passed with every send and edit: feed text must never ping anyone (C1)."""

ELLIPSIS = "…"
UNKNOWN = "not known yet"

_COLOURS = {
    "upcoming": 0x3B82F6,
    "ongoing": 0x22C55E,
    "concluded": 0x6B7280,
    "cancelled": 0xEF4444,
    "postponed": 0xF59E0B,
}
_UPDATE_COLOUR = 0xA855F7
_DEFAULT_COLOUR = 0x5865F2

# Invisible and bidirectional-override characters let a title hide or reorder what it claims;
# our own zero-width space (added by escape_mentions) must come only from us.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_WHITESPACE = re.compile(r"\s+")
# A bare URL (no brackets, parentheses or markdown delimiters inside) that Discord autolinks.
_BARE_URL = re.compile(r"https?://[^\s<>\[\]()\\|`\"]*[^\s<>\[\]()\\|`\".,:;'!?*_~]")
_MARKDOWN_CHAR = re.compile(r"([\\*_~|`\[\]])")
_BLOCK_START = re.compile(r"^(\s*)([#>+-])", re.MULTILINE)
_LIST_NUMBER = re.compile(r"^(\s*\d+)([.)]\s)", re.MULTILINE)
# Discord syntax that escape_mentions leaves alone: <@user>, <#channel>, </command:id>, <:emoji:id>,
# <t:timestamp>, <https://suppressed.link>; a zero-width space after '<' renders them literally.
_ANGLE_SYNTAX = re.compile(r"<(?=[@#/:!&a-zA-Z])")


@dataclass(frozen=True, slots=True)
class Rendered:
    """One Discord message: plain content and up to ten embeds, already within every limit."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = ()


# --- text and links --------------------------------------------------------------------------


def truncate(text: str, limit: int) -> str:
    """``text`` stripped and cut to ``limit`` code points, ending in "…" when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    # Never leave an escaping backslash dangling in front of the ellipsis.
    return text[: max(limit - 1, 0)].rstrip().rstrip("\\") + ELLIPSIS


def clean(text: str | None, limit: int) -> str:
    """Feed text made inert: one line, markdown and mentions escaped, cut to ``limit``."""
    if not text:
        return ""
    # Escaping only lengthens text: what lies past a few times the limit can never be shown.
    text = _WHITESPACE.sub(" ", _INVISIBLE.sub("", text[: limit * 4 + 64])).strip()
    text = escape_mentions(escape_markdown(text))
    text = _ANGLE_SYNTAX.sub("<\u200b", text)
    return truncate(text, limit)


def escape_markdown(text: str) -> str:
    """Backslash-escape Discord markdown outside bare URLs, which stay clickable.

    discord.py's ``utils.escape_markdown`` treats everything from the first "[" to the last ")"
    on a line as one masked link and escapes only its first character, so a second masked link
    or a spoiler after it would stay live; this escapes every markdown character instead.
    """
    out: list[str] = []
    position = 0
    for match in _BARE_URL.finditer(text):
        out.append(_MARKDOWN_CHAR.sub(r"\\\1", text[position : match.start()]))
        out.append(match.group())
        position = match.end()
    out.append(_MARKDOWN_CHAR.sub(r"\\\1", text[position:]))
    escaped = "".join(out)
    # Block syntax counts only at the start of a line: headings, quotes, lists, subtext.
    return _LIST_NUMBER.sub(r"\1\\\2", _BLOCK_START.sub(r"\1\\\2", escaped))


def plain(text: str | None, limit: int) -> str:
    """Feed text for places that render no markdown (footers, autocomplete): one inert line."""
    if not text:
        return ""
    text = escape_mentions(_WHITESPACE.sub(" ", _INVISIBLE.sub("", text[: limit * 4 + 64])).strip())
    return truncate(_ANGLE_SYNTAX.sub("<\u200b", text), limit)


def code(text: str, limit: int) -> str:
    """Text shown as inline code: nothing inside renders, so only backticks need removing."""
    inner = escape_mentions(_WHITESPACE.sub(" ", _INVISIBLE.sub("", text[: limit * 4])))
    inner = _ANGLE_SYNTAX.sub("<\u200b", inner).replace("`", "ˋ")
    return f"`{truncate(inner, limit) or ' '}`"


@functools.lru_cache(maxsize=4096)
def safe_url(url: str | None) -> str | None:
    """``url`` if Discord will accept it as a link (http/https, a real host), else None (C4)."""
    link = web_link(url)
    # Parentheses would end a markdown link early; percent-encoding keeps the same address.
    return link.replace("(", "%28").replace(")", "%29") if link else None


@functools.lru_cache(maxsize=4096)
def domain(url: str | None) -> str | None:
    """The host of a safe link, without ``www.`` (what a footer can truthfully claim)."""
    link = safe_url(url)
    if link is None:
        return None
    host = (urlsplit(link).hostname or "").encode("idna").decode("ascii").lower()
    return host.removeprefix("www.") or None


def _link(label: str, url: str | None) -> str:
    """A masked link whose text is a host name we derived, never feed text."""
    link = safe_url(url)
    return f"[{label}]({link})" if link else label


# --- facts -------------------------------------------------------------------------------------


def change_line(change: FactChange, limit: int = 300) -> str:
    """ "Venue: Geneva → Vienna" (escaped feed values)."""
    label = change_label(change)
    old, new = clean(change.old, limit // 2), clean(change.new, limit // 2)
    if not old:
        text = f"**{label}** announced: {new}" if new else f"**{label}** changed"
    elif not new:
        text = f"**{label}** no longer known (was {old})"
    else:
        text = f"**{label}**: {old} → {new}"
    return text


def _sources_footer(story: Story) -> str:
    names: list[str] = []
    for source in story.sources:
        name = domain(source.link) or (source.outlet or "").strip()
        if name and name not in names:
            names.append(name)
    count = len(story.sources)
    text = f"{count} source{'s' if count != 1 else ''}"
    if names:
        text += " · " + ", ".join(names)
    return plain(text, FOOTER_MAX)


def _best_link(story: Story) -> str | None:
    links = [story.best_link, *(source.link for source in story.sources)]
    return next((link for link in map(safe_url, links) if link), None)


def _colour(story: Story) -> int:
    return _COLOURS.get(story.facts.status or "", _DEFAULT_COLOUR)


# --- embeds within limits ----------------------------------------------------------------------


def _embed(
    title: str,
    *,
    url: str | None = None,
    description: str = "",
    colour: int = _DEFAULT_COLOUR,
) -> discord.Embed:
    """An embed whose title and description are already within their limits."""
    return discord.Embed(
        title=truncate(title, TITLE_MAX) or "Untitled",
        url=safe_url(url),
        description=truncate(description, DESCRIPTION_MAX) or None,
        colour=colour,
    )


def _field(embed: discord.Embed, name: str, value: str, *, inline: bool = True) -> None:
    """Add a field cut to its limits; empty values show as "not known yet"."""
    if len(embed.fields) >= FIELDS_MAX:
        return
    embed.add_field(
        name=truncate(name, FIELD_NAME_MAX) or "\u200b",
        value=truncate(value, FIELD_VALUE_MAX) or UNKNOWN,
        inline=inline,
    )


def _lines(lines: Iterable[str], limit: int, more: str = "…and {n} more") -> str:
    """Join lines until ``limit``; the rest is summarised as "…and N more"."""
    return truncate(join_within(lines, limit, more), limit)


def fit(content: str | None, embeds: Sequence[discord.Embed]) -> Rendered:
    """Enforce every per-message limit (§2): the last guard before anything is sent."""
    text = truncate(content, CONTENT_MAX) if content else None
    kept = list(embeds[:EMBEDS_MAX])
    for embed in kept:
        _fit_embed(embed)
    while sum(len(embed) for embed in kept) > EMBED_TOTAL_MAX:
        excess = sum(len(embed) for embed in kept) - EMBED_TOTAL_MAX
        largest = max(kept, key=len)
        if not _shrink(largest, excess):
            kept.remove(largest)
    return Rendered(content=text or None, embeds=tuple(kept))


def _fit_embed(embed: discord.Embed) -> None:
    if embed.title is not None:
        embed.title = truncate(embed.title, TITLE_MAX)
    if embed.description is not None:
        embed.description = truncate(embed.description, DESCRIPTION_MAX)
    while len(embed.fields) > FIELDS_MAX:
        embed.remove_field(-1)
    for index, item in enumerate(embed.fields):
        embed.set_field_at(
            index,
            name=truncate(item.name or "", FIELD_NAME_MAX) or "\u200b",
            value=truncate(item.value or "", FIELD_VALUE_MAX) or UNKNOWN,
            inline=bool(item.inline),
        )
    if embed.footer.text:
        embed.set_footer(text=truncate(embed.footer.text, FOOTER_MAX))
    if embed.author.name:
        embed.set_author(name=truncate(embed.author.name, AUTHOR_MAX), url=embed.author.url)


def _shrink(embed: discord.Embed, excess: int) -> bool:
    """Remove ``excess`` characters from the embed's description, then its last fields."""
    if embed.description and len(embed.description) > 64:
        keep = max(len(embed.description) - excess, 64)
        embed.description = truncate(embed.description, keep)
        return True
    if embed.fields:
        embed.remove_field(-1)
        return True
    if embed.footer.text:
        embed.remove_footer()
        return True
    return False


def problems(message: Rendered) -> list[str]:
    """Every Discord limit the message breaks (empty when it is safe to send)."""
    found: list[str] = []
    if message.content is not None and len(message.content.strip()) > CONTENT_MAX:
        found.append(f"content {len(message.content)} > {CONTENT_MAX}")
    if len(message.embeds) > EMBEDS_MAX:
        found.append(f"{len(message.embeds)} embeds > {EMBEDS_MAX}")
    total = sum(len(embed) for embed in message.embeds)
    if total > EMBED_TOTAL_MAX:
        found.append(f"embeds total {total} > {EMBED_TOTAL_MAX}")
    for embed in message.embeds:
        found.extend(_embed_problems(embed))
    return found


def _embed_problems(embed: discord.Embed) -> list[str]:
    checks = [
        ("title", embed.title, TITLE_MAX),
        ("description", embed.description, DESCRIPTION_MAX),
        ("footer", embed.footer.text, FOOTER_MAX),
        ("author", embed.author.name, AUTHOR_MAX),
    ]
    found = [f"{name} > {limit}" for name, text, limit in checks if text and len(text) > limit]
    if len(embed.fields) > FIELDS_MAX:
        found.append(f"{len(embed.fields)} fields > {FIELDS_MAX}")
    for item in embed.fields:
        if len(item.name or "") > FIELD_NAME_MAX or len(item.value or "") > FIELD_VALUE_MAX:
            found.append("field over limit")
        if not (item.name or "").strip() or not (item.value or "").strip():
            found.append("empty field")
    if embed.url is not None and safe_url(embed.url) != embed.url:
        found.append("unsafe url")
    return found


# --- stories -----------------------------------------------------------------------------------


def _fact_fields(embed: discord.Embed, facts: StoryFacts) -> None:
    _field(embed, "Who", clean(who_text(facts), FIELD_VALUE_MAX))
    _field(embed, "Where", clean(where_text(facts), FIELD_VALUE_MAX))
    _field(embed, "When", when_text(facts))
    _field(embed, "Status", status_text(facts))


def render_alert(event: StoryEvent) -> Rendered:
    """A channel alert: a new story, or an update that says what changed."""
    story = event.story
    title = clean(story.title, TITLE_MAX)
    summary = clean(story.summary, 1000)
    if event.kind == "update":
        changes = event.changes or story.changes[-3:]
        what = ", ".join(dict.fromkeys(change_label(change).lower() for change in changes))
        content = f"**Summit story updated**: {what or 'key facts'} changed"
        lines = [change_line(change) for change in changes]
        description = "**What changed**\n" + _lines((f"• {line}" for line in lines), 1500)
        description += f"\n\n{summary}" if summary else ""
        embed = _embed(
            f"Update: {title}",
            url=_best_link(story),
            description=description,
            colour=_UPDATE_COLOUR,
        )
    else:
        content = "**New summit story**"
        embed = _embed(title, url=_best_link(story), description=summary, colour=_colour(story))
    _fact_fields(embed, story.facts)
    embed.set_footer(text=_sources_footer(story))
    embed.timestamp = story.updated_at
    return fit(content, [embed])


def render_story(story: Story) -> Rendered:
    """Everything about one story: facts, sources, change history and why it is a summit."""
    embed = _embed(
        clean(story.title, TITLE_MAX),
        url=_best_link(story),
        description=clean(story.summary, 1500),
        colour=_colour(story),
    )
    _fact_fields(embed, story.facts)
    if story.facts.agenda:
        agenda = (f"• {clean(item, 200)}" for item in story.facts.agenda)
        _field(embed, "Agenda", _lines(agenda, FIELD_VALUE_MAX), inline=False)
    sources = (_source_line(source.link, source.outlet, source.title) for source in story.sources)
    _field(embed, f"Sources ({len(story.sources)})", _lines(sources, FIELD_VALUE_MAX), inline=False)
    if story.changes:
        history = (
            f"{change.at:%d %b %H:%M} · {change_line(change, 200)}"
            for change in reversed(story.changes)
        )
        _field(embed, "Changes", _lines(history, FIELD_VALUE_MAX), inline=False)
    if story.quotes:
        quotes = (f"“{clean(q.text, 200)}” — {clean(q.speaker, 60)}" for q in story.quotes)
        _field(embed, "Quotes", _lines(quotes, FIELD_VALUE_MAX), inline=False)
    reasons = (f"• {clean(reason, 200)}" for reason in story.reasons)
    _field(
        embed,
        f"Why it is a summit (score {story.score:.2f})",
        _lines(reasons, FIELD_VALUE_MAX) or "—",
        inline=False,
    )
    embed.set_footer(
        text=f"Story #{story.id} · first seen {story.first_seen:%d %b %Y %H:%M} UTC · "
        + _sources_footer(story)
    )
    embed.timestamp = story.updated_at
    return fit(None, [embed])


def _source_line(link: str | None, outlet: str | None, title: str) -> str:
    label = domain(link) or clean(outlet, 60) or "source"
    return f"{_link(label, link)} — {clean(title, 150)}"


def render_story_list(heading: str, stories: Sequence[Story], empty: str) -> Rendered:
    """A list of stories (``/summit latest``, ``/summit search``): one compact embed each."""
    if not stories:
        return Rendered(content=empty)
    embeds = [_story_card(story) for story in stories]
    return _pack(heading, embeds)[0]


def _story_card(story: Story) -> discord.Embed:
    """One story in one compact embed: facts line, one sentence, sources with links."""
    links: dict[str, str] = {}
    for source in story.sources:
        label, link = domain(source.link), safe_url(source.link)
        if label and link and label not in links:
            links[label] = link
    count = len(story.sources)
    sources = f"{count} source{'s' if count != 1 else ''}"
    if links:
        # Long addresses count against the 6,000-character message budget: name them only.
        shown = " · ".join(
            _link(name, link) if len(link) <= LINK_IN_TEXT_MAX else name
            for name, link in list(links.items())[:3]
        )
        sources += f": {shown}" + (f" +{len(links) - 3}" if len(links) > 3 else "")
    description = "\n".join(
        part
        for part in (
            clean(facts_line(story.facts), 400),
            clean(first_sentence(story.summary), 300),
            sources,
        )
        if part
    )
    return _embed(
        f"#{story.id} · {clean(story.title, TITLE_MAX)}",
        url=_best_link(story),
        description=description,
        colour=_colour(story),
    )


def _pack(content: str, embeds: Sequence[discord.Embed], max_messages: int = 1) -> list[Rendered]:
    """Pack embeds into messages of ≤10 embeds and ≤6,000 characters; say how many did not fit."""
    pages: list[list[discord.Embed]] = [[]]
    for embed in embeds:
        page = pages[-1]
        if len(page) >= EMBEDS_MAX or sum(map(len, page)) + len(embed) > EMBED_TOTAL_MAX:
            if len(pages) >= max_messages:
                break
            pages.append([])
        pages[-1].append(embed)
    shown = sum(len(page) for page in pages)
    left = len(embeds) - shown
    out: list[Rendered] = []
    for index, page in enumerate(pages):
        text = content if index == 0 else f"{content} (continued, {index + 1}/{len(pages)})"
        if left and index == len(pages) - 1:
            text += f"\n+{left} more not shown here: use `/summit latest` or `/summit search`."
        out.append(fit(text, page))
    return out


# --- digests and calendar ----------------------------------------------------------------------


EMPTY_DIGEST = "No summit stories this time."


def render_digest(digest: Digest, *, max_messages: int = 3) -> list[Rendered]:
    """A concise digest: one compact embed per story, packed into as few messages as fit."""
    count = len(digest.stories)
    if not digest.stories:  # one sentence says so: no "0 stories", no second "none"
        empty = clean(digest.note, 500) if digest.note else EMPTY_DIGEST
        return [fit(f"**{clean(digest.title, 200)}**\n{empty}", [])]
    heading = f"**{clean(digest.title, 200)}** · {count} stor{'ies' if count != 1 else 'y'}"
    if digest.note:
        heading += f"\n{clean(digest.note, 500)}"
    return _pack(heading, [_story_card(story) for story in digest.stories], max_messages)


def render_upcoming(stories: Sequence[Story]) -> Rendered:
    """Upcoming summits in date order, one line each (the .ics file has the details)."""
    if not stories:
        return Rendered(content="No upcoming summits are known right now.")
    lines = []
    for story in stories:
        facts = story.facts
        head = when_text(facts) or "Date not known"
        place = clean(where_text(facts), 120)
        title = clean(story.title, 150)
        # Feed text never goes inside a masked link's label: a "](" in it would rewrite the link.
        lines.append(f"**{head}** · {title}")
        if place:
            lines[-1] += f" · {place}"
        lines[-1] += f" (`#{story.id}`)"
    embed = _embed(
        f"Upcoming summits ({len(stories)})",
        description=_lines(lines, DESCRIPTION_MAX),
        colour=_COLOURS["upcoming"],
    )
    embed.set_footer(text="Add them to your calendar with the attached .ics file.")
    return fit(None, [embed])


# --- feeds, subscriptions, watches, notices ----------------------------------------------------


def render_feeds(feeds: Sequence[FeedInfo]) -> Rendered:
    """The feed list with each feed's health."""
    if not feeds:
        return Rendered(content="No feeds yet. Add one with `/feeds add url:https://…`.")
    lines = []
    for feed in feeds:
        name = clean(feed.title, 100) or domain(feed.url) or "untitled feed"
        host = domain(feed.url) or display_host(feed.url)
        if feed.disabled_reason:
            health = f"⛔ disabled: {clean(feed.disabled_reason, 120)}"
        elif feed.consecutive_failures:
            health = f"⚠️ failing ({feed.consecutive_failures}×): {clean(feed.last_error, 120)}"
        else:
            health = "✅ ok"
        if OPERATOR in feed.owners:
            health += " · 🌐 shared by the operator"
        lines.append(f"`#{feed.id}` **{name}** — {_link(host, feed.url)} — {health}")
    embed = _embed(f"Feeds ({len(feeds)})", description=_lines(lines, DESCRIPTION_MAX))
    return fit(None, [embed])


def render_feed_added(feed: FeedInfo) -> str:
    """Confirmation for ``/feeds add``."""
    name = clean(feed.title, 150) or domain(feed.url) or "the feed"
    host = domain(feed.url) or display_host(feed.url)
    return truncate(f"Added feed `#{feed.id}` **{name}** ({host}).", CONTENT_MAX)


def render_feed_removed(feed: FeedInfo) -> str:
    """Confirmation for ``/feeds remove``."""
    name = clean(feed.title, 150) or domain(feed.url) or "the feed"
    return truncate(f"Removed feed `#{feed.id}` **{name}**.", CONTENT_MAX)


def render_subscription(subscription: Subscription | None) -> Rendered:
    """What this channel receives, and how to change it."""
    if subscription is None:
        return Rendered(
            content="Alerts are off in this channel. Turn them on with `/alerts on`.",
        )
    embed = _embed("Summit alerts in this channel")
    modes = {
        "alerts": "Alerts for new stories and changed facts",
        "digest": "Scheduled digest",
        "both": "Alerts and a scheduled digest",
    }
    _field(embed, "Mode", modes.get(subscription.mode, subscription.mode))
    if subscription.mode in ("digest", "both"):
        _field(embed, "Schedule", code(subscription.schedule or "default", 100))
        _field(embed, "Time zone", clean(subscription.timezone, 100))
    filters = subscription.filters
    wanted = [
        ("Participants", filters.participants),
        ("Countries", filters.countries),
        ("Keywords", filters.keywords),
    ]
    for name, values in wanted:
        if values:
            _field(embed, name, clean(", ".join(values), FIELD_VALUE_MAX), inline=False)
    if filters.min_score:
        _field(embed, "Minimum score", f"{filters.min_score:.2f}")
    if subscription.disabled_reason:
        _field(embed, "⛔ Paused", clean(subscription.disabled_reason, 500), inline=False)
    embed.set_footer(text="Change with /alerts on, stop with /alerts off.")
    return fit(None, [embed])


def render_subscribed(subscription: Subscription) -> str:
    """Confirmation for ``/alerts on``."""
    if subscription.mode == "alerts":
        what = "alerts for new summit stories and changed facts"
    else:
        schedule = code(subscription.schedule, 100) if subscription.schedule else "a default time"
        tz = clean(subscription.timezone, 100)
        what = f"a digest on {schedule} ({tz})"
        if subscription.mode == "both":
            what = "alerts and " + what
    return f"This channel now gets {what}."


def render_watches(terms: Sequence[str], heading: str = "Watched names and keywords") -> Rendered:
    """The channel's watch list."""
    if not terms:
        return Rendered(content="Nothing is watched here. Add a name with `/watch add`.")
    lines = (f"• {clean(term, 100)}" for term in terms)
    return fit(None, [_embed(heading, description=_lines(lines, DESCRIPTION_MAX))])


def render_notice(reason: str, channel_id: int | None) -> str:
    """The notice left for a server's admins when newsbot stops posting in a channel.

    It may land in the server's system channel, so it names the channel it is about.
    """
    where = f"<#{channel_id}>" if channel_id is not None else "a channel of this server"
    return truncate(
        f"newsbot stopped posting summit alerts in {where}: "
        f"{clean(reason, 500)}. Someone with Manage Server can fix the channel's permissions "
        "and run `/alerts on` again.",
        CONTENT_MAX,
    )


def render_error(message: str) -> str:
    """A user-facing error sentence, escaped (it may quote what the user typed)."""
    return clean(message, CONTENT_MAX) or "Something went wrong."
