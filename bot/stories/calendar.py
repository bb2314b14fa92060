"""An iCalendar (.ics) file of summits with known dates (icalendar lives only here)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from bot.core.stories import Story
from bot.stories.facts import facts_line, where_text

PRODID = "-//newsbot//summit calendar//EN"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_STATUS = {
    "upcoming": "TENTATIVE",
    "postponed": "TENTATIVE",
    "ongoing": "CONFIRMED",
    "concluded": "CONFIRMED",
    "cancelled": "CANCELLED",
}


def _clean(text: str) -> str:
    return _CONTROL.sub("", text)


def calendar_ics(stories: Sequence[Story], now: datetime, domain: str = "newsbot") -> bytes:
    """One all-day VEVENT per story with a start date; stories without one are left out."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Summits")
    for story in stories:
        facts = story.facts
        if facts.start_date is None:
            continue
        event = Event()
        event.add("uid", f"story-{story.id}@{domain}")
        event.add("dtstamp", now)
        event.add("last-modified", story.updated_at)
        event.add("summary", _clean(story.title)[:250])
        event.add("dtstart", facts.start_date)
        event.add("dtend", (facts.end_date or facts.start_date) + timedelta(days=1))
        if where := where_text(facts):
            event.add("location", _clean(where))
        lines = [facts_line(facts), story.summary, f"Sources: {len(story.sources)}"]
        if link := story.best_link:
            lines.append(link)
            if link.startswith(("https://", "http://")):
                event.add("url", link)
        event.add("description", _clean("\n".join(line for line in lines if line)))
        if facts.status in _STATUS:
            event.add("status", _STATUS[facts.status])
        calendar.add_component(event)
    return bytes(calendar.to_ical())
