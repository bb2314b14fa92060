"""The scenarios end to end as the bot runs: corpus articles in feeds on 127.0.0.1, polled in
date order by the real app (fetch → parse → extract → stories → delivery to the terminal).

Each scenario is one story (one "new" alert) whose later reports come as updates, and every
update's "changed" lines agree with the facts line printed under them.
"""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from bot.app import TERMINAL, build_app
from bot.settings import Settings
from bot.stories.replay import ReplayItem, read_items
from tests.fakes import FakeClock
from tests.ingest.servers import Handler, LoopbackServer, Request, respond, routes
from tests.stories.test_scenarios import SCENARIOS, corpus_lines, scenario_params

pytestmark = pytest.mark.slow


class Feed:
    """One outlet's RSS feed; the test adds items between polls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.entries: list[str] = []

    def add(self, item: ReplayItem) -> None:
        assert item.published is not None
        link = f"https://{self.name.lower()}.example/{item.id}"
        self.entries.insert(
            0,
            f"<item><title>{escape(item.title)}</title><link>{link}</link><guid>{link}</guid>"
            f"<description>{escape(item.text)}</description>"
            f"<pubDate>{format_datetime(item.published)}</pubDate></item>",
        )

    def handler(self) -> Handler:
        async def serve(request: Request, writer: asyncio.StreamWriter) -> None:
            body = (
                f"<rss version='2.0'><channel><title>{self.name}</title>"
                f"{''.join(self.entries)}</channel></rss>"
            )
            await respond(writer, 200, body.encode(), {"Content-Type": "application/rss+xml"})

        return serve


def outlet(item: ReplayItem) -> str:
    return item.outlet.split()[0].strip("()") or "News"


def alerts(output: str) -> list[str]:
    """The alert blocks the terminal printed (digests left out)."""
    blocks = output.split("\n\n")
    return [b for b in blocks if re.match(r"── (NEW SUMMIT STORY|SUMMIT STORY UPDATE) #", b)]


def agrees(block: str) -> list[str]:
    """The "changed" lines of an update that its facts line contradicts."""
    lines = block.splitlines()
    facts = next(
        line for line in lines[1:] if line.startswith("  ") and not line.startswith("  changed")
    )
    wrong = []
    for line in lines:
        found = re.match(r"  changed (\w+): (.*) → (.*)$", line)
        if found is None:
            continue
        field, new = found[1], found[3]
        if new == "—":
            continue
        if field in ("city", "country", "venue") and new not in facts:
            wrong.append(line)
        if field == "status" and new.capitalize() not in facts:
            wrong.append(line)
        if field == "participants" and any(n.strip() not in facts for n in new.split(",")):
            wrong.append(line)
        if field in ("start_date", "end_date"):
            day = date.fromisoformat(new)
            if f"{day:%b}" not in facts or str(day.day) not in facts:
                wrong.append(line)
    return wrong


@pytest.mark.parametrize("name", scenario_params())
async def test_scenario_through_the_running_bot(
    name: str, shared_dir: Path, tmp_path: Path
) -> None:
    items = [i for i in read_items(corpus_lines(shared_dir)) if i.id in SCENARIOS[name]]
    items.sort(key=lambda item: item.published or datetime.min.replace(tzinfo=UTC))
    feeds = {outlet(item): Feed(outlet(item)) for item in items}
    site = routes({f"/{feed}.xml": handler.handler() for feed, handler in feeds.items()})
    console = io.StringIO()
    assert items[0].published is not None
    clock = FakeClock(items[0].published.replace(hour=0))
    async with LoopbackServer(site) as server:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
            allow_hosts=["127.0.0.1"],
            feeds_file=tmp_path / "none.toml",
            parse={"workers": 1},
            nlp={"fetch_articles": False},
        )
        async with build_app(settings, clock=clock, console=console) as app:
            for feed in feeds:
                await app.store.add_feed(server.url(f"/{feed}.xml"), clock())
            await app.run_once()
            for item in items:
                assert item.published is not None
                feeds[outlet(item)].add(item)
                clock.now = item.published.replace(hour=12)
                await app.run_once()
            stories = await app.desk.latest(TERMINAL, 10)
    printed = alerts(console.getvalue())
    new = [b for b in printed if b.startswith("── NEW")]
    updates = [b for b in printed if b.startswith("── SUMMIT STORY UPDATE")]
    assert len(new) == 1, console.getvalue()
    assert len(stories) == 1
    assert len(stories[0].sources) == len(items)
    assert updates, "later reports changed the facts: at least one update"
    for block in updates:
        assert agrees(block) == [], block
