"""Digests: a concise list of stories for a destination, the same data on every platform."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.stories import Digest, Filters, Story
from bot.stories.facts import aged, facts_line
from bot.stories.filters import matches

DIGEST_SIZE = 10
WELCOME_SIZE = 5
WELCOME_NOTE = "Alerts for new summit stories and changed facts will follow in this channel."
EMPTY_NOTE = "No summit stories right now; new ones will be posted here as they appear."


def pick(
    stories: Sequence[Story], filters: Filters | None, limit: int, now: datetime
) -> tuple[Story, ...]:
    """The stories passing ``filters``, strongest and most recent first, at most ``limit``,
    each with its status as of ``now`` (a past summit never reads "Upcoming")."""
    chosen = [story for story in stories if filters is None or matches(story, filters)]
    chosen.sort(key=lambda story: (story.score, story.updated_at, story.id), reverse=True)
    return tuple(replace(s, facts=aged(s.facts, now.date())) for s in chosen[:limit])


def digest_title(at: datetime, timezone: str) -> str:
    """ "Summit digest · 2026-11-27 08:00 Asia/Seoul"."""
    local = at.astimezone(ZoneInfo(timezone))
    return f"Summit digest · {local:%Y-%m-%d %H:%M} {timezone}"


def build_digest(
    stories: Sequence[Story],
    filters: Filters | None,
    now: datetime,
    *,
    title: str = "Summit stories",
    limit: int = DIGEST_SIZE,
    note: str | None = None,
) -> Digest:
    """A digest of the matching stories (possibly empty: callers decide whether to send it)."""
    chosen = pick(stories, filters, limit, now)
    return Digest(title=title, stories=chosen, generated_at=now, note=note)


def welcome_digest(stories: Sequence[Story], filters: Filters | None, now: datetime) -> Digest:
    """The short digest a channel gets when it first subscribes, instead of silence."""
    chosen = pick(stories, filters, WELCOME_SIZE, now)
    return Digest(
        title="Summit stories right now",
        stories=chosen,
        generated_at=now,
        note=WELCOME_NOTE if chosen else EMPTY_NOTE,
    )


def digest_lines(story: Story) -> tuple[str, str, str]:
    """A story as three digest lines: facts, one summary sentence, sources and best link."""
    count = len(story.sources)
    sources = f"{count} source{'s' if count != 1 else ''}"
    link = story.best_link
    return (
        facts_line(story.facts),
        story.summary or story.title,
        f"{sources} · {link}" if link else sources,
    )
