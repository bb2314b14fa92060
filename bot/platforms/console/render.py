"""Stories, digests and upcoming summits as terminal text or JSON, for ``newsbot stories`` & co.

The same records the chat commands render (``bot.core.stories``); feed text is hostile, so
every string from a feed goes through ``clean`` before it reaches the terminal.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from bot.core.models import FeedInfo
from bot.core.stories import Digest, Story
from bot.platforms.console.terminal import clean
from bot.stories.digest import digest_lines
from bot.stories.facts import change_label, facts_line, facts_to_json, when_text, where_text

WIDTH = 100


def feed_line(feed: FeedInfo) -> str:
    """One feed on two lines for ``feeds list``: id, title, URL, then its health."""
    state = "ok"
    if feed.disabled_reason:
        state = f"DISABLED: {feed.disabled_reason} (re-enable: `newsbot feeds enable {feed.id}`)"
    elif feed.consecutive_failures:
        state = f"failing ({feed.consecutive_failures}): {feed.last_error}"
    elif feed.last_success_at is None:
        state = "not polled yet"
    title = clean(feed.title or "(untitled)")
    owners = ", ".join(feed.owners) or "nobody"
    head = f"{feed.id:>4}  {title[:40]:<40}  {clean(feed.url)}"
    return f"{head}\n      {clean(state)} · owners: {owners}"


def story_line(story: Story) -> str:
    """One story on two lines: id and title, then its facts line."""
    return f"#{story.id:<5} {clean(story.title)}\n       {clean(facts_line(story.facts))}"


def render_story_list(stories: Sequence[Story], empty: str) -> str:
    """A compact list (``stories list``, ``stories search``)."""
    if not stories:
        return empty
    return "\n".join(story_line(story) for story in stories)


def render_story(story: Story) -> str:
    """Everything about one story: facts, summary, agenda, sources, changes, quotes, why."""
    lines = [f"#{story.id} {clean(story.title)}", f"  {clean(facts_line(story.facts))}"]
    lines += _wrapped(clean(story.summary))
    if story.facts.agenda:
        lines.append("agenda:")
        lines += [f"  • {clean(item)}" for item in story.facts.agenda]
    lines.append(f"sources ({len(story.sources)}):")
    for source in story.sources:
        outlet = clean(source.outlet or "unknown outlet")
        link = f" <{clean(source.link)}>" if source.link else ""
        lines.append(f"  • {outlet}: {clean(source.title)}{link}")
    if story.changes:
        lines.append("changes:")
        lines += [
            f"  {change.at:%Y-%m-%d %H:%M} {clean(change_label(change))}: "
            f"{clean(change.old or '—')} → {clean(change.new or '—')}"
            for change in story.changes
        ]
    if story.quotes:
        lines.append("quotes:")
        lines += [f"  “{clean(quote.text)}” — {clean(quote.speaker)}" for quote in story.quotes]
    if story.reasons:
        lines.append("why it is a summit story:")
        lines += [f"  • {clean(reason)}" for reason in story.reasons]
    lines.append(
        f"first seen {story.first_seen:%Y-%m-%d %H:%M}, "
        f"updated {story.updated_at:%Y-%m-%d %H:%M} UTC"
    )
    return "\n".join(lines)


def render_digest(digest: Digest) -> str:
    """A digest as the terminal notifier prints it: per story facts, a sentence, sources."""
    count = len(digest.stories)
    lines = [f"{clean(digest.title)} · {count} stor{'ies' if count != 1 else 'y'}"]
    if digest.note:
        lines.append(clean(digest.note))
    for story in digest.stories:
        facts, sentence, sources = (clean(line) for line in digest_lines(story))
        lines += ["", f"#{story.id} {clean(story.title)}", f"  {facts}"]
        lines += _wrapped(sentence)
        lines.append(f"  {sources}")
    return "\n".join(lines)


def render_upcoming(stories: Sequence[Story]) -> str:
    """Upcoming summits in date order, one line each."""
    if not stories:
        return "No upcoming summits are known right now."
    lines = []
    for story in stories:
        when = when_text(story.facts) or "date not known"
        place = where_text(story.facts)
        line = f"{clean(when):<24} #{story.id:<5} {clean(story.title)}"
        lines.append(f"{line} · {clean(place)}" if place else line)
    return "\n".join(lines)


def story_json(story: Story) -> dict[str, Any]:
    """A story as JSON-ready data, with the same fields the chat commands show."""
    return {
        "id": story.id,
        "title": story.title,
        "summary": story.summary,
        "facts": facts_to_json(story.facts),
        "score": story.score,
        "reasons": list(story.reasons),
        "sources": [
            {
                "title": source.title,
                "link": source.link,
                "outlet": source.outlet,
                "published": source.published.isoformat() if source.published else None,
            }
            for source in story.sources
        ],
        "changes": [
            {
                "at": change.at.isoformat(),
                "field": change.field,
                "old": change.old,
                "new": change.new,
            }
            for change in story.changes
        ],
        "quotes": [{"speaker": quote.speaker, "text": quote.text} for quote in story.quotes],
        "first_seen": story.first_seen.isoformat(),
        "updated_at": story.updated_at.isoformat(),
        "link": story.best_link,
    }


def digest_json(digest: Digest) -> dict[str, Any]:
    """A digest as JSON-ready data."""
    return {
        "title": digest.title,
        "note": digest.note,
        "generated_at": digest.generated_at.isoformat(),
        "stories": [story_json(story) for story in digest.stories],
    }


def _wrapped(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent="  ", subsequent_indent="  ") if text else []
