"""Builders for analysed summit items, stored for real so stories can reference them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.core.models import NewItem, ParsedItem
from bot.storage.store import Store

TRUMP = {"name": "Donald Trump", "title": "President", "country": "United States"}
KIM = {"name": "Kim Jong-un", "title": "Chairman", "country": "North Korea"}
MOON = {"name": "Moon Jae-in", "title": "President", "country": "South Korea"}
PUTIN = {"name": "Vladimir Putin", "title": "President", "country": "Russia"}


def analysis(
    *people: dict[str, str],
    city: str | None = None,
    country: str | None = None,
    venue: str | None = None,
    start: str | None = None,
    end: str | None = None,
    status: str | None = "upcoming",
    score: float = 0.9,
    summary: str = "",
    agenda: tuple[str, ...] = (),
    summit: bool = True,
) -> dict[str, Any]:
    """An extractor result in the ``newsbot extract --json`` shape."""
    return {
        "id": "x",
        "is_summit": summit,
        "score": score,
        "reasons": [f"score {score}"],
        "participants": [dict(person) for person in people],
        "location": {"city": city, "country": country, "venue": venue},
        "start_date": start,
        "end_date": end,
        "status": status,
        "agenda": list(agenda),
        "quotes": [],
        "summary": summary,
    }


def day(text: str) -> datetime:
    """An aware UTC datetime from 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Newsroom:
    """Feeds on a real store that hand out analysed items, one outlet per feed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._feeds: dict[str, int] = {}
        self._count = 0

    async def item(
        self,
        outlet: str,
        title: str,
        data: dict[str, Any],
        published: datetime,
        summary: str = "",
    ) -> NewItem:
        """Store one item in the outlet's feed and attach ``data`` as its analysis."""
        if outlet not in self._feeds:
            feed = await self.store.add_feed(f"https://{outlet}/rss", published, title=outlet)
            self._feeds[outlet] = feed.id
        self._count += 1
        parsed = ParsedItem(
            key=f"guid:{self._count}",
            link=f"https://{outlet}/news/{self._count}",
            title=title,
            summary=summary or title,
            published=published,
        )
        (stored,) = await self.store.store_items(
            self._feeds[outlet], [parsed], published, announce_first=1
        )
        return replace(stored, analysis=data, feed_title=outlet)
