"""The NewsDesk use cases over real repositories: happy paths and clear refusals."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from icalendar import Calendar

from bot.core.errors import InvalidInput, NotFound, PermissionDenied
from bot.core.ports import NewsDesk
from bot.core.stories import Destination, Filters
from bot.storage.store import Store
from tests.delivery.rig import Rig, channel
from tests.stories.helpers import KIM, TRUMP, analysis, day

HANOI = analysis(
    TRUMP,
    KIM,
    city="Hanoi",
    country="Vietnam",
    start="2019-02-27",
    end="2019-02-28",
    summary="Trump and Kim meet in Hanoi for a second summit.",
)
ASKER = channel("asker")  # the rig's feeds are the operator's: every channel sees them


@pytest.fixture
def rig(store: Store) -> Rig:
    return Rig(store)


async def hanoi(rig: Rig) -> int:
    await rig.publish(
        await rig.room.item("yonhap.example", "Trump, Kim in Hanoi", HANOI, rig.clock())
    )
    (story,) = await rig.desk.latest(ASKER, 1)
    return story.id


async def test_desk_is_a_newsdesk(rig: Rig) -> None:
    desk: NewsDesk = rig.desk
    assert desk is rig.desk


async def test_story_lookups(rig: Rig) -> None:
    story_id = await hanoi(rig)
    assert (await rig.desk.story(ASKER, story_id)).facts.city == "Hanoi"
    assert [s.id for s in await rig.desk.search(ASKER, "HANOI kim")] == [story_id]
    assert await rig.desk.search(ASKER, "Singapore") == []
    assert await rig.desk.search(ASKER, "100%_") == []
    assert await rig.desk.suggest_stories(ASKER, "hanoi") == [(story_id, "Trump, Kim in Hanoi")]
    assert await rig.desk.suggest_stories(ASKER, str(story_id)) == [
        (story_id, "Trump, Kim in Hanoi")
    ]
    with pytest.raises(NotFound):
        await rig.desk.story(ASKER, story_id + 100)
    for count in (0, 26):
        with pytest.raises(InvalidInput):
            await rig.desk.latest(ASKER, count)
    with pytest.raises(InvalidInput):
        await rig.desk.search(ASKER, "   ")


async def test_upcoming_and_calendar(rig: Rig) -> None:
    story_id = await hanoi(rig)
    await rig.publish(
        await rig.room.item(
            "a.example",
            "Singapore summit ends",
            analysis(TRUMP, KIM, city="Singapore", start="2018-06-12", status="concluded"),
            day("2018-06-12"),
        )
    )
    upcoming = await rig.desk.upcoming(ASKER)
    assert [s.id for s in upcoming] == [story_id]
    calendar = Calendar.from_ical(rig.desk.calendar(upcoming))
    (event,) = calendar.walk("VEVENT")
    assert str(event["summary"]) == "Trump, Kim in Hanoi"
    assert event.decoded("dtstart") == date(2019, 2, 27)
    assert event.decoded("dtend") == date(2019, 3, 1)
    assert str(event["location"]) == "Hanoi, Vietnam"
    assert str(event["status"]) == "TENTATIVE"
    assert str(event["uid"]) == f"story-{story_id}@newsbot"


async def test_feeds_go_through_the_injected_checker(rig: Rig) -> None:
    here = channel("news")
    feed = await rig.desk.add_feed(here, "  https://news.example/rss ")
    assert rig.added == [("https://news.example/rss", "discord:g1")]
    assert await rig.desk.suggest_feeds(here, "news.ex") == [(feed.id, "https://news.example/rss")]
    assert [f.id for f in await rig.desk.list_feeds(here)] == [feed.id]
    await rig.desk.remove_feed(here, feed.id)
    with pytest.raises(NotFound):
        await rig.desk.remove_feed(here, feed.id)
    with pytest.raises(InvalidInput):
        await rig.desk.add_feed(here, " ")


async def test_each_server_has_its_own_feeds_and_one_url_is_fetched_once(rig: Rig) -> None:
    first, second = Destination("discord", "c1", "g1"), Destination("slack", "C2", "T2")
    mine = await rig.desk.add_feed(first, "https://news.example/rss")
    theirs = await rig.desk.add_feed(second, "HTTP://News.Example:80/rss/?utm_source=x")
    assert theirs.id == mine.id  # one feeds row, two owners
    assert [f.owners for f in await rig.store.list_feeds()] == [("discord:g1", "slack:T2")]
    assert [f.owners for f in await rig.desk.list_feeds(first)] == [("discord:g1",)]
    other = await rig.desk.add_feed(second, "https://other.example/rss")
    assert [f.id for f in await rig.desk.list_feeds(first)] == [mine.id]
    assert await rig.desk.suggest_feeds(first, "") == [(mine.id, "https://news.example/rss")]
    with pytest.raises(NotFound):
        await rig.desk.remove_feed(first, other.id)
    with pytest.raises(InvalidInput, match="already watched"):
        await rig.desk.add_feed(first, "https://news.example/rss#again")
    await rig.desk.remove_feed(first, mine.id)
    assert [f.id for f in await rig.desk.list_feeds(second)] == [mine.id, other.id]
    assert await rig.desk.list_feeds(first) == []


async def test_operator_feeds_are_shared_and_only_the_operator_removes_them(rig: Rig) -> None:
    here = channel("news")
    shared = await rig.store.add_feed("https://wire.example/rss", rig.clock())
    (seen,) = await rig.desk.list_feeds(here)
    assert (seen.id, seen.owners) == (shared.id, ("operator",))
    assert await rig.desk.suggest_feeds(here, "") == []
    with pytest.raises(PermissionDenied, match="only the operator"):
        await rig.desk.remove_feed(here, shared.id)
    with pytest.raises(InvalidInput, match="by newsbot's operator"):
        await rig.desk.add_feed(here, "https://wire.example/rss")
    await rig.store.remove_feed(shared.id)
    assert await rig.desk.list_feeds(here) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda desk, dm: desk.list_feeds(dm),
        lambda desk, dm: desk.add_feed(dm, "https://news.example/rss"),
        lambda desk, dm: desk.remove_feed(dm, 1),
        lambda desk, dm: desk.subscribe(dm, "alerts"),
        lambda desk, dm: desk.subscription(dm),
        lambda desk, dm: desk.watch(dm, "Macron"),
        lambda desk, dm: desk.watches(dm),
    ],
)
async def test_a_dm_owns_no_settings(rig: Rig, call: Any) -> None:
    with pytest.raises(InvalidInput, match="not in a DM"):
        await call(rig.desk, Destination("discord", "dm-channel", None))


@pytest.mark.parametrize(
    "term", ["\u200b\u200b\u200b", "\u202e\u2066\u2069", " \u200d \ufeff ", "--"]
)
async def test_watch_terms_of_only_invisible_characters_are_refused(rig: Rig, term: str) -> None:
    with pytest.raises(InvalidInput, match="visible characters"):
        await rig.desk.watch(channel("news"), term)
    assert await rig.desk.watches(channel("news")) == []


async def test_watch_terms_lose_their_invisible_characters(rig: Rig) -> None:
    assert await rig.desk.watch(channel("news"), "Ma\u200bcron\u202e") == ["Macron"]
    assert await rig.desk.unwatch(channel("news"), "Mac\u200dron") == []


async def test_subscribe_checks_its_input(rig: Rig) -> None:
    where = channel("news")
    with pytest.raises(InvalidInput, match="time zone"):
        await rig.desk.subscribe(where, "digest", timezone="Mars/Olympus")
    with pytest.raises(InvalidInput, match="cron"):
        await rig.desk.subscribe(where, "digest", schedule="every morning")
    with pytest.raises(InvalidInput, match="mode"):
        await rig.desk.subscribe(where, "loud")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="score"):
        await rig.desk.subscribe(where, "alerts", filters=Filters(min_score=2))
    assert await rig.desk.subscription(where) is None
    saved = await rig.desk.subscribe(where, "both", timezone="Asia/Seoul")
    assert (saved.mode, saved.schedule, saved.timezone) == ("both", "0 8 * * *", "Asia/Seoul")
    assert await rig.desk.subscription(where) == saved
    await rig.desk.unsubscribe(where)
    assert await rig.desk.subscription(where) is None
    with pytest.raises(NotFound):
        await rig.desk.unsubscribe(where)


async def test_first_subscription_gets_a_short_digest_once(rig: Rig) -> None:
    story_id = await hanoi(rig)
    await rig.desk.subscribe(channel("news"), "alerts")
    await rig.desk.subscribe(channel("news"), "both")  # changing settings: no second welcome
    await rig.outbox.deliver_due()
    (welcome,) = rig.chat.channel("news")
    assert (welcome.kind, welcome.title, welcome.stories) == (
        "digest",
        "Summit stories right now",
        (story_id,),
    )
    await rig.desk.subscribe(channel("empty"), "alerts", filters=Filters(keywords=("G20",)))
    await rig.outbox.deliver_due()
    (empty,) = rig.chat.channel("empty")
    assert empty.stories == ()


async def test_digest_now_uses_the_channel_filters(rig: Rig) -> None:
    story_id = await hanoi(rig)
    assert [s.id for s in (await rig.desk.digest_now(channel("any"))).stories] == [story_id]
    await rig.desk.subscribe(channel("g20"), "alerts", filters=Filters(keywords=("G20",)))
    digest = await rig.desk.digest_now(channel("g20"))
    assert digest.stories == ()
    assert digest.note


async def test_watches(rig: Rig) -> None:
    where = channel("news")
    assert await rig.desk.watch(where, "  Kim   Jong-un ") == ["Kim Jong-un"]
    assert await rig.desk.watch(where, "kim jong-un") == ["Kim Jong-un"]
    assert await rig.desk.watch(where, "Hanoi") == ["Kim Jong-un", "Hanoi"]
    assert await rig.desk.watches(where) == ["Kim Jong-un", "Hanoi"]
    assert await rig.desk.unwatch(where, "KIM JONG-UN") == ["Hanoi"]
    with pytest.raises(NotFound):
        await rig.desk.unwatch(where, "Putin")
    with pytest.raises(InvalidInput):
        await rig.desk.watch(where, "x")
    for n in range(24):
        await rig.desk.watch(where, f"term {n}")
    with pytest.raises(InvalidInput, match="25"):
        await rig.desk.watch(where, "one too many")
