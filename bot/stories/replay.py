"""Replay labelled or recorded items through extract → stories, in publication order.

No chat and no network: a real SQLite database in a temporary folder, a clock set to each
item's publication time, and the same StorySink the bot uses. One output record per input:
``{"id", "story", "event": "new"|"update"|"none", "changed": [...]}``, then the final stories.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Protocol

from bot.core.errors import InvalidInput
from bot.core.models import NewItem, ParsedItem
from bot.core.stories import Story
from bot.storage.newsdesk import StoryRepository
from bot.storage.store import Store
from bot.stories.facts import facts_to_json
from bot.stories.sink import StorySink

Progress = Callable[[int, int], None]


class Analyse(Protocol):
    """The extractor's batch call: one contract JSON object per (id, title, text, day)."""

    def __call__(
        self, articles: Sequence[tuple[str, str, str, date | None]]
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class ReplayItem:
    """One input line: an article and when and where it was published."""

    id: str
    title: str
    text: str
    published: datetime | None
    outlet: str


def _when(value: Any, line: int) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(
            f"line {line}: published must be an ISO date or time, not {value!r}"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def read_items(lines: Iterable[str]) -> list[ReplayItem]:
    """Items from JSONL lines ``{"id", "title", "text", "published"?, "source"?}``."""
    items: list[ReplayItem] = []
    seen: set[str] = set()
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"line {number} is not JSON: {exc.msg}") from None
        if not isinstance(data, dict) or not data.get("id") or not data.get("title"):
            raise InvalidInput(f'line {number}: each line needs an "id" and a "title"')
        item_id = str(data["id"])
        if item_id in seen:
            raise InvalidInput(f"line {number}: id {item_id!r} appears twice")
        seen.add(item_id)
        items.append(
            ReplayItem(
                id=item_id,
                title=str(data["title"]),
                text=str(data.get("text") or ""),
                published=_when(data.get("published"), number),
                outlet=str(data.get("source") or data.get("outlet") or "replay"),
            )
        )
    return items


def in_publication_order(items: Sequence[ReplayItem]) -> list[tuple[ReplayItem, datetime]]:
    """Items by publication time, each with the clock to file it at.

    Undated items (the BBC set has no dates) come first, seen when the replay starts: at the
    earliest publication time, or the epoch of the Unix clock when nothing is dated.
    """
    dated = sorted((item for item in items if item.published), key=lambda i: i.published or 0)
    start = dated[0].published if dated else datetime(1970, 1, 1, tzinfo=UTC)
    assert start is not None
    undated = [(item, start) for item in items if item.published is None]
    return undated + [(item, item.published or start) for item in dated]


def day_clock(moment: datetime) -> datetime:
    """A date-only publication time as noon UTC (so time zones never move it a day)."""
    if moment.time() == time(0, 0):
        return moment.replace(hour=12)
    return moment


def story_json(story: Story, ids: dict[int, str]) -> dict[str, Any]:
    """A final story: its facts and the input ids of its sources."""
    return {
        "story_id": story.id,
        "title": story.title,
        "facts": facts_to_json(story.facts),
        "sources": [ids.get(source.item_id, str(source.item_id)) for source in story.sources],
        "changes": [
            {"field": change.field, "old": change.old, "new": change.new}
            for change in story.changes
        ],
    }


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(1970, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def replay(
    items: Sequence[ReplayItem],
    analyse: Analyse,
    *,
    assume_summit: bool = False,
    progress: Progress | None = None,
    batch: int = 64,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per input item its story and event, and the final stories.

    ``assume_summit`` files every item as a summit report whatever the detector says, to
    score merging apart from detection (the facts are still the extractor's).
    """
    ordered = in_publication_order(items)
    analyses: list[dict[str, Any]] = []
    for start in range(0, len(ordered), batch):
        chunk = ordered[start : start + batch]
        articles = [
            (item.id, item.title, item.text, (item.published or clock).date())
            for item, clock in chunk
        ]
        analyses.extend(analyse(articles))
        if progress is not None:
            progress(len(analyses), len(ordered) * 2)
    with tempfile.TemporaryDirectory(prefix="newsbot-replay-") as folder:
        store = await Store.open(f"sqlite+aiosqlite:///{Path(folder) / 'replay.db'}")
        try:
            clock = _Clock()
            sink = StorySink(StoryRepository(store.engine), clock=clock)
            lines, ids = [], {}
            feeds: dict[str, int] = {}
            for done, ((item, moment), found) in enumerate(zip(ordered, analyses, strict=True), 1):
                clock.now = day_clock(moment)
                analysis = {**found, "is_summit": True} if assume_summit else found
                stored = await _store(store, feeds, item, clock.now)
                ids[stored.id] = item.id
                (filed,) = await sink.file_items([replace(stored, analysis=analysis)])
                lines.append(
                    {
                        "id": item.id,
                        "story": filed.story_id if filed else None,
                        "event": (filed.kind if filed else None) or "none",
                        "changed": [change.field for change in filed.changes] if filed else [],
                    }
                )
                if progress is not None:
                    progress(len(ordered) + done, len(ordered) * 2)
            stories = StoryRepository(store.engine)
            final = await stories.all_stories()
            return lines, [story_json(story, ids) for story in final]
        finally:
            await store.close()


async def _store(store: Store, feeds: dict[str, int], item: ReplayItem, now: datetime) -> NewItem:
    if item.outlet not in feeds:
        feed = await store.add_feed(
            f"https://replay.invalid/{len(feeds) + 1}", now, title=item.outlet
        )
        feeds[item.outlet] = feed.id
    parsed = ParsedItem(
        key=f"replay:{item.id}",
        link=None,
        title=item.title,
        summary=item.text,
        published=item.published,
    )
    (stored,) = await store.store_items(feeds[item.outlet], [parsed], now, announce_first=1)
    return stored
