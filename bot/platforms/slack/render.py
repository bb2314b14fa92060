"""Pure rendering of stories, digests and settings into Slack Block Kit messages within limits.

Feed text is hostile (RELIABILITY C2-C5): ``&``, ``<`` and ``>`` are escaped everywhere, so
``<!channel>``, ``<@U…>`` and ``<url|text>`` arrive as visible text; bare ``@channel`` words
are broken with a word joiner; feed text never becomes a link label (labels are host names we
derived); links are kept only when they are http(s) with a real host. Every message is fitted
to the limits of §2 here, before anything is sent, and carries a plain-text ``text`` fallback.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.core.feedurl import display_host
from bot.core.links import web_link
from bot.core.models import FeedInfo
from bot.core.stories import Digest, FactChange, Story, StoryEvent, StoryFacts, Subscription
from bot.core.tenancy import OPERATOR
from bot.core.text import first_sentence, join_within
from bot.stories.digest import digest_lines
from bot.stories.facts import change_label, status_text, when_text, where_text, who_text

Block = dict[str, Any]

BLOCKS_MAX = 50
HEADER_MAX = 150
SECTION_MAX = 3000
FIELDS_MAX = 10
FIELD_MAX = 2000
CONTEXT_ELEMENTS_MAX = 10
CONTEXT_TEXT_MAX = 2000
# Slack refuses a message whose blocks hold ~12-13k characters in all (msg_blocks_too_long,
# bolt-js #2509), a limit it does not document: stay well below it.
BLOCK_TEXT_BUDGET = 11_000
TEXT_MAX = 3000
LINK_IN_TEXT_MAX = 300

ELLIPSIS = "…"
UNKNOWN = "not known yet"

_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_WHITESPACE = re.compile(r"\s+")
# Bot messages are not parsed for bare @channel by default; breaking the word keeps it that way
# even if a message is ever posted with link_names.
_BARE_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
# mrkdwn has no escape character, so the markers of bold, strike, code and italics in feed text
# become look-alikes; "_" only where it could open or close italics (not in snake_case).
_MARKERS = str.maketrans({"*": "\u2217", "~": "\u223c", "`": "\u02cb"})
_ITALIC_MARK = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


@dataclass(frozen=True, slots=True)
class Message:
    """One Slack message: the plain-text fallback and up to 50 blocks, within every limit."""

    text: str
    blocks: tuple[Block, ...] = ()

    def payload(self) -> dict[str, Any]:
        """Keyword arguments for chat.postMessage or ``respond``."""
        body: dict[str, Any] = {"text": self.text}
        if self.blocks:
            body["blocks"] = list(self.blocks)
        return body


# --- text and links --------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape exactly the three characters Slack treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """``text`` stripped and cut to ``limit`` code points, ending in "…" when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)].rstrip()
    # Never leave half an entity ("&l") in front of the ellipsis.
    return _PARTIAL_ENTITY.sub("", cut).rstrip() + ELLIPSIS


def clean(text: str | None, limit: int, *, markers: bool = False) -> str:
    """Feed text made inert for mrkdwn and plain text: one line, escaped, cut to ``limit``.

    Formatting markers become look-alikes unless ``markers`` (our own sentences, which may
    format a command as code, quoting at most what the user typed).
    """
    if not text:
        return ""
    # Escaping only lengthens text: what lies past a few times the limit can never be shown.
    text = _WHITESPACE.sub(" ", _INVISIBLE.sub("", text[: limit * 2 + 64])).strip()
    if not markers:
        text = _ITALIC_MARK.sub("\u02cd", text.translate(_MARKERS))
    return truncate(escape(_BARE_BROADCAST.sub("@\u2060", text)), limit)


def code(text: str, limit: int) -> str:
    """Text as inline code, where mrkdwn formats nothing: escaped, no backticks, one line."""
    inner = _WHITESPACE.sub(" ", _INVISIBLE.sub("", text[: limit * 2])).strip()
    inner = escape(inner.replace("`", "\u02cb"))
    return f"`{truncate(inner, limit) or ' '}`"


@functools.lru_cache(maxsize=4096)
def safe_url(url: str | None) -> str | None:
    """``url`` if it is http(s) with a real host and no control syntax, else None (C4)."""
    link = web_link(url)
    # "|" would end the address inside <url|label>; "&" is escaped like all text.
    return link.replace("|", "%7C").replace("&", "&amp;") if link else None


@functools.lru_cache(maxsize=4096)
def domain(url: str | None) -> str | None:
    """The host of a safe link, without ``www.`` (what a label can truthfully claim)."""
    if safe_url(url) is None or url is None:
        return None
    host = (urlsplit(url.strip()).hostname or "").encode("idna").decode("ascii").lower()
    return host.removeprefix("www.") or None


def link(label: str, url: str | None) -> str:
    """``<url|label>`` where ``label`` is a host name we derived; just the label if unsafe."""
    safe = safe_url(url)
    return f"<{safe}|{label}>" if safe else label


def lines(items: Iterable[str], limit: int, more: str = "…and {n} more") -> str:
    """Join lines until ``limit``; the rest is summarised as "…and N more"."""
    return truncate(join_within(items, limit, more), limit)


# --- blocks, each within its own limits ---------------------------------------------------------


def header(text: str) -> Block:
    """A header block (plain text, ≤150)."""
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(text, HEADER_MAX) or "Untitled"},
    }


def section(text: str, fields: Sequence[str] = ()) -> Block:
    """A mrkdwn section (text ≤3,000; ≤10 fields of ≤2,000); ``verbatim`` stops auto-parsing."""
    block: Block = {"type": "section"}
    body = truncate(text, SECTION_MAX)
    if body:
        block["text"] = {"type": "mrkdwn", "text": body, "verbatim": True}
    kept = [truncate(item, FIELD_MAX) for item in fields[:FIELDS_MAX] if item.strip()]
    if kept:
        block["fields"] = [{"type": "mrkdwn", "text": item, "verbatim": True} for item in kept]
    if "text" not in block and "fields" not in block:
        block["text"] = {"type": "mrkdwn", "text": " ", "verbatim": True}
    return block


def context(*texts: str) -> Block:
    """A context block (≤10 mrkdwn elements)."""
    elements = [
        {"type": "mrkdwn", "text": truncate(text, CONTEXT_TEXT_MAX), "verbatim": True}
        for text in texts
        if text.strip()
    ][:CONTEXT_ELEMENTS_MAX]
    return {"type": "context", "elements": elements or [{"type": "mrkdwn", "text": " "}]}


def divider() -> Block:
    """A divider."""
    return {"type": "divider"}


def block_text(block: Block) -> int:
    """Characters of text a block carries (what counts against the aggregate budget)."""
    total = 0
    for key in ("text",):
        item = block.get(key)
        if isinstance(item, dict):
            total += len(str(item.get("text", "")))
    for key in ("fields", "elements"):
        for item in block.get(key) or ():
            if isinstance(item, dict):
                total += len(str(item.get("text", "")))
    return total


def fit(text: str, blocks: Sequence[Block]) -> Message:
    """Enforce the per-message limits (§2): the last guard before anything is sent."""
    kept: list[Block] = []
    used = 0
    for block in blocks:
        size = block_text(block)
        if len(kept) >= BLOCKS_MAX - 1 or used + size > BLOCK_TEXT_BUDGET - 200:
            dropped = len(blocks) - len(kept)
            kept.append(context(f"…{dropped} more part(s) did not fit in one Slack message."))
            break
        kept.append(block)
        used += size
    return Message(text=truncate(text, TEXT_MAX) or "newsbot", blocks=tuple(kept))


def problems(message: Message) -> list[str]:
    """Every Slack limit the message breaks (empty when it is safe to send)."""
    found: list[str] = []
    if not message.text.strip() or len(message.text) > TEXT_MAX:
        found.append(f"text length {len(message.text)}")
    if len(message.blocks) > BLOCKS_MAX:
        found.append(f"{len(message.blocks)} blocks > {BLOCKS_MAX}")
    total = sum(block_text(block) for block in message.blocks)
    if total > BLOCK_TEXT_BUDGET:
        found.append(f"block text {total} > {BLOCK_TEXT_BUDGET}")
    for index, block in enumerate(message.blocks):
        found.extend(f"block {index}: {problem}" for problem in block_problems(block))
    return found


def block_problems(block: Block) -> list[str]:
    """The limits one block breaks."""
    found: list[str] = []
    kind = block.get("type")
    text = block.get("text")
    body = text.get("text", "") if isinstance(text, dict) else ""
    if kind == "header" and not 1 <= len(body) <= HEADER_MAX:
        found.append(f"header {len(body)}")
    if kind == "section":
        fields = block.get("fields") or []
        if text is not None and not 1 <= len(body) <= SECTION_MAX:
            found.append(f"section text {len(body)}")
        if len(fields) > FIELDS_MAX:
            found.append(f"{len(fields)} fields")
        found.extend(
            f"field {len(item['text'])}"
            for item in fields
            if not 1 <= len(item["text"]) <= FIELD_MAX
        )
        if text is None and not fields:
            found.append("empty section")
    if kind == "context":
        elements = block.get("elements") or []
        if not 1 <= len(elements) <= CONTEXT_ELEMENTS_MAX:
            found.append(f"{len(elements)} context elements")
        found.extend(
            f"context text {len(item['text'])}"
            for item in elements
            if not 1 <= len(item["text"]) <= SECTION_MAX
        )
    return found


# --- facts -------------------------------------------------------------------------------------


def change_line(change: FactChange, limit: int = 300) -> str:
    """ "*Venue*: Geneva → Vienna" (escaped feed values)."""
    label = clean(change_label(change), 60)
    old, new = clean(change.old, limit // 2), clean(change.new, limit // 2)
    if not old:
        return f"*{label}* announced: {new}" if new else f"*{label}* changed"
    if not new:
        return f"*{label}* no longer known (was {old})"
    return f"*{label}*: {old} → {new}"


def fact_fields(facts: StoryFacts) -> list[str]:
    """Who, where, when and status as section fields."""
    return [
        f"*Who*\n{clean(who_text(facts), FIELD_MAX - 10) or UNKNOWN}",
        f"*Where*\n{clean(where_text(facts), FIELD_MAX - 10) or UNKNOWN}",
        f"*When*\n{clean(when_text(facts), 200) or UNKNOWN}",
        f"*Status*\n{clean(status_text(facts), 50) or UNKNOWN}",
    ]


def _source_links(story: Story, limit: int = 3) -> str:
    """ "2 sources: <https://…|reuters.com> · apnews.com" with host labels we derived."""
    found: dict[str, str] = {}
    for source in story.sources:
        label, url = domain(source.link), safe_url(source.link)
        if label and url and label not in found:
            found[label] = source.link or ""
    count = len(story.sources)
    text = f"{count} source{'s' if count != 1 else ''}"
    if found:
        shown = " · ".join(
            link(name, url) if len(url) <= LINK_IN_TEXT_MAX else name
            for name, url in list(found.items())[:limit]
        )
        text += f": {shown}" + (f" +{len(found) - limit}" if len(found) > limit else "")
    return text


def _best_link(story: Story) -> str | None:
    candidates = [story.best_link, *(source.link for source in story.sources)]
    return next((url for url in candidates if safe_url(url)), None)


def _read_more(story: Story) -> str:
    url = _best_link(story)
    label = domain(url)
    return f"Read: {link(label, url)}" if url and label else ""


# --- stories -----------------------------------------------------------------------------------


def render_alert(event: StoryEvent) -> Message:
    """A channel alert: a new story, or an update that says what changed."""
    story = event.story
    title = clean(story.title, HEADER_MAX)
    summary = clean(story.summary, 1000)
    blocks: list[Block] = []
    if event.kind == "update":
        changes = event.changes or story.changes[-3:]
        what = ", ".join(dict.fromkeys(change_label(change).lower() for change in changes))
        lead = f"Summit story updated: {what or 'key facts'} changed"
        blocks.append(context(f":arrows_counterclockwise: *{lead}*"))
        blocks.append(header(f"Update: {title}"))
        changed = lines((f"• {change_line(change)}" for change in changes), 1500)
        blocks.append(section(f"*What changed*\n{changed}"))
        if summary:
            blocks.append(section(summary))
    else:
        lead = "New summit story"
        blocks.append(context(f":newspaper: *{lead}*"))
        blocks.append(header(title))
        if summary:
            blocks.append(section(summary))
    blocks.append(section("", fact_fields(story.facts)))
    blocks.append(context(_source_links(story), f"updated {story.updated_at:%d %b %Y %H:%M} UTC"))
    text = f"{lead}: {title}"
    read = _read_more(story)
    if read:
        blocks.append(section(read))
    return fit(text, blocks)


def render_story(story: Story) -> Message:
    """Everything about one story: facts, sources, change history and why it is a summit."""
    blocks: list[Block] = [header(clean(story.title, HEADER_MAX))]
    summary = clean(story.summary, 1500)
    if summary:
        blocks.append(section(summary))
    blocks.append(section("", fact_fields(story.facts)))
    if story.facts.agenda:
        agenda = lines((f"• {clean(item, 200)}" for item in story.facts.agenda), 1500)
        blocks.append(section(f"*Agenda*\n{agenda}"))
    sources = (
        f"• {link(domain(s.link) or clean(s.outlet, 60) or 'source', s.link)} — "
        f"{clean(s.title, 150)}"
        for s in story.sources
    )
    blocks.append(section(f"*Sources ({len(story.sources)})*\n{lines(sources, 2500)}"))
    if story.changes:
        history = (
            f"• {change.at:%d %b %H:%M} · {change_line(change, 200)}"
            for change in reversed(story.changes)
        )
        blocks.append(section(f"*Changes*\n{lines(history, 2000)}"))
    if story.quotes:
        quotes = (f"“{clean(q.text, 200)}” — {clean(q.speaker, 60)}" for q in story.quotes)
        blocks.append(section(f"*Quotes*\n{lines(quotes, 1500)}"))
    reasons = lines((f"• {clean(reason, 200)}" for reason in story.reasons), 1500) or "—"
    blocks.append(section(f"*Why it is a summit* (score {story.score:.2f})\n{reasons}"))
    blocks.append(
        context(
            f"Story #{story.id} · first seen {story.first_seen:%d %b %Y %H:%M} UTC",
            _source_links(story),
        )
    )
    return fit(f"Summit story #{story.id}: {clean(story.title, 500)}", blocks)


def story_card(story: Story) -> Block:
    """One story in one compact section: title, facts line, one sentence, source links."""
    facts, summary, _ = digest_lines(story)
    parts = [
        f"*#{story.id} · {clean(story.title, 200)}*",
        clean(facts, 400),
        clean(first_sentence(summary), 300),
        _source_links(story),
    ]
    return section("\n".join(part for part in parts if part))


def render_story_list(heading: str, stories: Sequence[Story], empty: str) -> Message:
    """A list of stories (``/summit latest``, ``/summit search``): one section each."""
    if not stories:
        return fit(empty, [section(empty)])
    blocks = [section(heading), *(story_card(story) for story in stories)]
    return fit(heading, blocks)


def _pack(heading: list[Block], cards: Sequence[Block], max_messages: int) -> list[list[Block]]:
    """Cards into messages of ≤50 blocks within the text budget; the first gets the heading."""
    pages: list[list[Block]] = [list(heading)]
    used = sum(block_text(block) for block in heading)
    for card in cards:
        size = block_text(card)
        # Room is kept on each page for the "continued" / "more" context lines.
        if len(pages[-1]) >= BLOCKS_MAX - 2 or used + size > BLOCK_TEXT_BUDGET - 400:
            if len(pages) >= max_messages:
                break
            pages.append([])
            used = 0
        pages[-1].append(card)
        used += size
    return pages


EMPTY_DIGEST = "No summit stories this time."


def render_digest(digest: Digest, *, max_messages: int = 3) -> list[Message]:
    """A concise digest: one section per story, packed into as few messages as fit."""
    count = len(digest.stories)
    title = clean(digest.title, 140)
    if not digest.stories:  # one sentence says so: no "0 stories", no second "none"
        empty = clean(digest.note, 500) if digest.note else EMPTY_DIGEST
        return [fit(f"{title}: {empty}", [header(title), section(empty)])]
    heading: list[Block] = [header(title)]
    note = f"{count} stor{'ies' if count != 1 else 'y'}"
    if digest.note:
        note += f" · {clean(digest.note, 500)}"
    heading.append(context(note))
    pages = _pack(heading, [story_card(story) for story in digest.stories], max_messages)
    shown = sum(1 for page in pages for block in page if block.get("type") == "section")
    left = count - shown
    out: list[Message] = []
    for index, page in enumerate(pages):
        blocks = list(page)
        text = f"{title} · {count} stories"
        if index:
            text = f"{title} (continued, {index + 1}/{len(pages)})"
            blocks.insert(0, context(f"{title} (continued, {index + 1}/{len(pages)})"))
        if left and index == len(pages) - 1:
            blocks.append(
                context(f"+{left} more not shown here: use `/summit latest` or `/summit search`.")
            )
        out.append(fit(text, blocks))
    return out


def render_upcoming(stories: Sequence[Story], *, calendar_note: str | None = None) -> Message:
    """Upcoming summits in date order, one line each."""
    if not stories:
        text = "No upcoming summits are known right now."
        return fit(text, [section(text)])
    entries = []
    for story in stories:
        head = clean(when_text(story.facts), 60) or "Date not known"
        entry = f"*{head}* · {clean(story.title, 150)}"
        place = clean(where_text(story.facts), 120)
        if place:
            entry += f" · {place}"
        entries.append(entry + f" (`#{story.id}`)")
    blocks: list[Block] = [header(f"Upcoming summits ({len(stories)})")]
    chunk: list[str] = []
    for entry in entries:
        if sum(len(item) + 1 for item in chunk) + len(entry) > SECTION_MAX - 100:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(entry)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if calendar_note:
        blocks.append(context(calendar_note))
    return fit(f"Upcoming summits ({len(stories)})", blocks)


# --- feeds, subscriptions, watches, notices ----------------------------------------------------


def render_feeds(feeds: Sequence[FeedInfo]) -> Message:
    """The feed list with each feed's health."""
    if not feeds:
        text = "No feeds yet. Add one with `/feeds add https://…`."
        return fit(text, [section(text)])
    entries = []
    for feed in feeds:
        name = clean(feed.title, 100) or domain(feed.url) or "untitled feed"
        host = domain(feed.url) or display_host(feed.url)
        if feed.disabled_reason:
            health = f":no_entry: disabled: {clean(feed.disabled_reason, 120)}"
        elif feed.consecutive_failures:
            health = (
                f":warning: failing ({feed.consecutive_failures}×): {clean(feed.last_error, 120)}"
            )
        else:
            health = ":white_check_mark: ok"
        if OPERATOR in feed.owners:
            health += " · :globe_with_meridians: shared by the operator"
        entries.append(f"`#{feed.id}` *{name}* — {link(host, feed.url)} — {health}")
    return fit(
        f"Feeds ({len(feeds)})",
        [header(f"Feeds ({len(feeds)})"), section(lines(entries, SECTION_MAX))],
    )


def render_feed_added(feed: FeedInfo) -> Message:
    """Confirmation for ``/feeds add``."""
    name = clean(feed.title, 150) or domain(feed.url) or "the feed"
    host = domain(feed.url) or display_host(feed.url)
    return notice(f"Added feed `#{feed.id}` *{name}* ({host}).")


def render_feed_removed(feed: FeedInfo) -> Message:
    """Confirmation for ``/feeds remove``."""
    name = clean(feed.title, 150) or domain(feed.url) or "the feed"
    return notice(f"Removed feed `#{feed.id}` *{name}*.")


_MODES = {
    "alerts": "Alerts for new stories and changed facts",
    "digest": "Scheduled digest",
    "both": "Alerts and a scheduled digest",
}


def render_subscription(subscription: Subscription | None) -> Message:
    """What this channel receives, and how to change it."""
    if subscription is None:
        return notice("Alerts are off in this channel. Turn them on with `/alerts on`.")
    fields = [f"*Mode*\n{_MODES.get(subscription.mode, clean(subscription.mode, 50))}"]
    if subscription.mode in ("digest", "both"):
        fields.append(f"*Schedule*\n{code(subscription.schedule or 'default', 100)}")
        fields.append(f"*Time zone*\n{clean(subscription.timezone, 100)}")
    filters = subscription.filters
    for name, values in (
        ("Participants", filters.participants),
        ("Countries", filters.countries),
        ("Keywords", filters.keywords),
    ):
        if values:
            fields.append(f"*{name}*\n{clean(', '.join(values), FIELD_MAX - 20)}")
    if filters.min_score:
        fields.append(f"*Minimum score*\n{filters.min_score:.2f}")
    blocks: list[Block] = [header("Summit alerts in this channel"), section("", fields)]
    if subscription.disabled_reason:
        blocks.append(section(f":no_entry: *Paused*: {clean(subscription.disabled_reason, 500)}"))
    blocks.append(context("Change with `/alerts on`, stop with `/alerts off`."))
    return fit("Summit alerts in this channel", blocks)


def render_subscribed(subscription: Subscription) -> Message:
    """Confirmation for ``/alerts on``."""
    if subscription.mode == "alerts":
        what = "alerts for new summit stories and changed facts"
    else:
        schedule = code(subscription.schedule, 100) if subscription.schedule else "a default time"
        what = f"a digest on {schedule} ({clean(subscription.timezone, 100)})"
        if subscription.mode == "both":
            what = "alerts and " + what
    return notice(f"This channel now gets {what}.")


def render_watches(terms: Sequence[str], heading: str = "Watched names and keywords") -> Message:
    """The channel's watch list."""
    if not terms:
        return notice("Nothing is watched here. Add a name with `/watch add NAME`.")
    body = lines((f"• {clean(term, 100)}" for term in terms), SECTION_MAX)
    return fit(heading, [section(f"*{clean(heading, 100)}*\n{body}")])


def render_notice(reason: str, channel_id: str) -> Message:
    """The short notice left when newsbot stops posting in a channel; it names the channel."""
    return notice(
        f"newsbot stopped posting summit alerts in {channel_ref(channel_id)}: "
        f"{clean(reason, 500)}. A workspace admin can fix the channel (invite newsbot with "
        "`/invite @newsbot`) and run `/alerts on` again."
    )


def channel_ref(channel_id: str) -> str:
    """A channel mention Slack shows by name (``<#C0123>``), or plain text if not an id."""
    if re.fullmatch(r"[CGD][A-Z0-9]{2,30}", channel_id):
        return f"<#{channel_id}>"
    return f"channel {clean(channel_id, 40)}"


def notice(text: str) -> Message:
    """A short answer of our own words (already safe mrkdwn) as one section."""
    body = truncate(text, SECTION_MAX)
    return Message(text=body, blocks=(section(body),))


def render_error(message: str) -> Message:
    """A user-facing error sentence, escaped (it may quote what the user typed)."""
    text = clean(message, 1000, markers=True) or "Something went wrong."
    return Message(text=text, blocks=(section(f":warning: {text}"),))


def render_usage(problem: str | None, usage: str) -> Message:
    """What was wrong with the command, and how to type it."""
    lead = f":warning: {clean(problem, 500, markers=True)}\n" if problem else ""
    text = f"{lead}*Usage*\n{usage}"
    return Message(text=truncate(text, TEXT_MAX), blocks=(section(text),))
