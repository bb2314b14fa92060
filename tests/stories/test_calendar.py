"""The .ics export: dated stories only, escaped text, status mapped, links only http(s)."""

from __future__ import annotations

from datetime import date

from icalendar import Calendar

from bot.core.stories import Source, Story, StoryFacts
from bot.stories.calendar import calendar_ics
from tests.stories.helpers import day


def story(story_id: int, title: str, facts: StoryFacts, link: str | None) -> Story:
    source = Source(story_id, title, link, "outlet", day("2019-02-25"))
    return Story(
        id=story_id,
        title=title,
        summary="One sentence.",
        facts=facts,
        score=0.9,
        reasons=(),
        sources=(source,),
        first_seen=day("2019-02-25"),
        updated_at=day("2019-02-25"),
    )


def test_only_dated_stories_with_clean_text() -> None:
    dated = story(
        1,
        "Summit;\x1b[31m, with: commas\nand lines",
        StoryFacts(city="Hanoi", start_date=date(2019, 2, 27), status="cancelled"),
        "javascript:alert(1)",
    )
    undated = story(2, "Someday", StoryFacts(status="upcoming"), "https://x.example/")
    ics = calendar_ics([dated, undated], day("2019-02-26"))
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    assert str(event["summary"]) == "Summit;[31m, with: commas\nand lines"
    assert str(event["status"]) == "CANCELLED"
    assert "url" not in event
    assert event.decoded("dtend") == date(2019, 2, 28)
    assert b"\x1b" not in ics
