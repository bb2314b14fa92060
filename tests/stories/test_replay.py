"""`replay`: publication order, the output contract, bad input, on real SQLite (fake extractor)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest

from bot.core.errors import InvalidInput
from bot.stories.replay import read_items, replay
from tests.stories.helpers import KIM, TRUMP, analysis

LINES = [
    {
        "id": "moved",
        "title": "Hanoi summit moved",
        "text": "Trump Kim Hanoi",
        "published": "2019-02-24",
    },
    {
        "id": "first",
        "title": "Trump and Kim to meet in Hanoi",
        "text": "Trump Kim Hanoi Vietnam",
        "published": "2019-02-20",
    },
    {"id": "other", "title": "Football results", "text": "Goals", "published": "2019-02-21"},
]
FACTS = {
    "first": analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27"),
    "moved": analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-28"),
    "other": analysis(summit=False),
}


def fake_extractor(seen: list[str]) -> Any:
    def analyse(articles: Sequence[tuple[str, str, str, date | None]]) -> list[dict[str, Any]]:
        seen.extend(article[0] for article in articles)
        return [{**FACTS[article[0]], "id": article[0]} for article in articles]

    return analyse


async def test_replay_files_in_date_order_and_reports_events() -> None:
    seen: list[str] = []
    items = read_items(json.dumps(line) for line in LINES)
    lines, stories = await replay(items, fake_extractor(seen))
    assert seen == ["first", "other", "moved"]
    assert [line["id"] for line in lines] == ["first", "other", "moved"]
    first, other, moved = lines
    assert first == {"id": "first", "story": first["story"], "event": "new", "changed": []}
    assert other == {"id": "other", "story": None, "event": "none", "changed": []}
    assert moved["story"] == first["story"]
    assert moved["event"] == "update"
    assert moved["changed"] == ["start_date"]
    (story,) = stories
    assert story["sources"] == ["first", "moved"]
    assert story["facts"]["start_date"] == "2019-02-28"


async def test_assume_summit_files_what_the_detector_refused() -> None:
    items = read_items(json.dumps(line) for line in LINES)
    lines, _ = await replay(items, fake_extractor([]), assume_summit=True)
    assert all(line["story"] is not None for line in lines)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "line 1 is not JSON"),
        ('{"title": "x"}', 'needs an "id" and a "title"'),
        ('{"id": "a", "title": "x", "published": "soon"}', "published must be an ISO date"),
        ('{"id": "a", "title": "x"}\n{"id": "a", "title": "y"}', "appears twice"),
    ],
)
def test_bad_lines_are_refused_with_their_line_number(raw: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_items(raw.splitlines())
