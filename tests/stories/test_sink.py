"""Stories from real stored items on both backends: merge, history, events, idempotence."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import text

from bot.storage.newsdesk import Repositories, StoryWriter
from bot.storage.store import Store
from bot.stories.cluster import report_from_item
from bot.stories.sink import StorySink
from tests.fakes import FakeClock
from tests.stories.helpers import KIM, TRUMP, Newsroom, analysis, day


def make_sink(store: Store) -> tuple[StorySink, Repositories]:
    repos = Repositories.over(store.engine)
    return StorySink(repos.stories, clock=FakeClock(day("2019-02-27"))), repos


async def test_two_outlets_two_days_make_one_story_with_history(store: Store) -> None:
    sink, repos = make_sink(store)
    room = Newsroom(store)
    first = await room.item(
        "yonhap.example",
        "Trump, Kim to hold second summit in Hanoi",
        analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27", end="2019-02-28"),
        day("2019-02-25T09:00"),
    )
    second = await room.item(
        "apnews.example",
        "Kim arrives in Vietnam by armoured train",
        analysis({"name": "Kim Jong Un"}, {"name": "Trump"}, city="Hanoi", venue="Metropole"),
        day("2019-02-26T07:00"),
    )
    repeat = await room.item(
        "reuters.example",
        "North Korean leader in Hanoi for talks with Trump",
        analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", venue="Metropole"),
        day("2019-02-26T10:00"),
    )
    outcomes = [await sink.add(report_from_item(item)) for item in (first, second, repeat)]
    assert [kind for _, kind in outcomes] == ["new", "update", None]
    assert len({story_id for story_id, _ in outcomes}) == 1
    (story,) = await repos.stories.latest(10)
    assert story.title == "Trump, Kim to hold second summit in Hanoi"
    assert [s.outlet for s in story.sources] == [
        "yonhap.example",
        "apnews.example",
        "reuters.example",
    ]
    assert story.best_link == first.link
    assert story.facts.venue == "Metropole"
    assert story.facts.start_date == date(2019, 2, 27)
    assert [(c.field, c.old, c.new) for c in story.changes] == [("venue", None, "Metropole")]
    # The same item published again (a restart before it was marked announced) is a no-op.
    await sink.publish([first, second])
    assert len((await repos.stories.get(story.id)).sources) == 3


async def test_different_summits_of_the_same_leaders_are_two_stories(store: Store) -> None:
    sink, repos = make_sink(store)
    room = Newsroom(store)
    singapore = await room.item(
        "a.example",
        "Trump and Kim meet in Singapore",
        analysis(
            TRUMP,
            KIM,
            city="Singapore",
            country="Singapore",
            start="2018-06-12",
            status="concluded",
        ),
        day("2018-06-12"),
    )
    hanoi = await room.item(
        "a.example",
        "Trump and Kim meet again, this time in Hanoi",
        analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27"),
        day("2019-02-20"),
    )
    await sink.publish([singapore, hanoi])
    assert len(await repos.stories.latest(10)) == 2


async def test_non_summit_items_and_a_bad_item_are_skipped(store: Store) -> None:
    sink, repos = make_sink(store)
    room = Newsroom(store)
    other = await room.item(
        "a.example", "Summit County news", analysis(summit=False), day("2019-02-20")
    )
    good = await room.item("a.example", "Leaders meet", analysis(TRUMP, KIM), day("2019-02-20"))
    broken = replace(good, id=999_999)  # no such item: the database refuses it
    await sink.publish([other, broken, good])
    (story,) = await repos.stories.latest(10)
    assert story.title == "Leaders meet"


class Died(BaseException):
    """The process dying (kill -9) between filing a story and recording its event."""


async def test_a_crash_before_the_event_leaves_the_report_to_be_filed_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A story and its event commit together: a report filed without its event would be
    known at the next start and never announced."""
    sink, repos = make_sink(store)
    room = Newsroom(store)
    item = await room.item("a.example", "Leaders meet", analysis(TRUMP, KIM), day("2019-02-20"))

    async def die(*_: object) -> int:
        raise Died

    with monkeypatch.context() as patched:
        patched.setattr(StoryWriter, "add_event", die)
        with pytest.raises(Died):
            await sink.publish([item])
    assert await repos.stories.latest(10) == [], "the story went with its event"

    restarted, _ = make_sink(store)
    (filed,) = await restarted.file_items([item])
    assert filed is not None
    assert filed.kind == "new"
    assert await events(store) == [(filed.story_id, "new")]


async def test_one_bad_item_in_a_batch_costs_no_other_its_event(store: Store) -> None:
    sink, repos = make_sink(store)
    room = Newsroom(store)
    hanoi = await room.item(
        "a.example",
        "Trump and Kim meet in Hanoi",
        analysis(TRUMP, KIM, city="Hanoi"),
        day("2019-02-20"),
    )
    broken = replace(hanoi, id=999_999)  # no such item: the batch's transaction fails
    await sink.publish([broken, hanoi])
    (story,) = await repos.stories.latest(10)
    assert await events(store) == [(story.id, "new")]


async def events(store: Store) -> list[tuple[int, str]]:
    """Every story event, oldest first."""
    async with store.engine.connect() as connection:
        rows = await connection.execute(text("SELECT story_id, kind FROM story_events ORDER BY id"))
        return [(int(story_id), str(kind)) for story_id, kind in rows]
