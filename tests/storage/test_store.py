"""Store behaviour on SQLite and (when configured) PostgreSQL: the same suite on both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.errors import NotFound
from bot.core.models import ParsedItem, Validators
from bot.storage.store import DuplicateFeed, Store

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def item(key: str, link: str | None = None, title: str = "t") -> ParsedItem:
    return ParsedItem(key=key, link=link, title=title, summary="s", published=None)


async def test_migrations_are_idempotent(database_url: str) -> None:
    first = await Store.open(database_url)
    await first.add_feed("https://a.example/feed", NOW)
    await first.close()
    second = await Store.open(database_url)
    assert [feed.url for feed in await second.list_feeds()] == ["https://a.example/feed"]
    await second.close()


async def test_feed_crud(store: Store) -> None:
    feed = await store.add_feed("https://a.example/feed", NOW, title="A", interval_seconds=600)
    assert feed.interval_seconds == 600
    with pytest.raises(DuplicateFeed):
        await store.add_feed("https://a.example/feed", NOW)
    assert await store.feed_count() == 1
    assert (await store.get_feed(feed.id)).title == "A"
    await store.remove_feed(feed.id)
    with pytest.raises(NotFound):
        await store.remove_feed(feed.id)
    assert await store.list_feeds() == []


async def test_first_poll_records_without_announcing(store: Store) -> None:
    feed = await store.add_feed("https://a.example/feed", NOW)
    seeded = await store.store_items(feed.id, [item("g:1"), item("g:2")], NOW, announce_first=0)
    assert [new.pending for new in seeded] == [False, False]
    assert await store.item_count(feed.id) == 2
    fresh = await store.store_items(
        feed.id, [item("g:3"), item("g:1"), item("g:2")], NOW, announce_first=0
    )
    assert [(new.title, new.pending) for new in fresh] == [("t", True)]
    assert await store.item_count(feed.id) == 3


async def test_first_poll_can_announce_newest(store: Store) -> None:
    feed = await store.add_feed("https://a.example/feed", NOW)
    items = [item(f"g:{n}", title=f"t{n}") for n in range(5)]
    fresh = await store.store_items(feed.id, items, NOW, announce_first=2)
    assert [new.title for new in fresh if new.pending] == ["t0", "t1"]
    assert len(fresh) == 5


async def test_changed_guid_same_link_is_not_new(store: Store) -> None:
    feed = await store.add_feed("https://a.example/feed", NOW)
    await store.store_items(feed.id, [item("g:1", "https://a.example/1")], NOW, announce_first=0)
    again = [item("g:1-renamed", "https://a.example/1"), item("g:2", "https://a.example/2")]
    fresh = await store.store_items(feed.id, again, NOW, announce_first=0)
    assert [new.link for new in fresh] == ["https://a.example/2"]


async def test_duplicates_within_one_batch_are_stored_once(store: Store) -> None:
    feed = await store.add_feed("https://a.example/feed", NOW)
    await store.store_items(feed.id, [], NOW, announce_first=0)
    batch = [item("g:1", "https://a/1"), item("g:1", "https://a/x"), item("g:2", "https://a/1")]
    fresh = await store.store_items(feed.id, batch, NOW, announce_first=0)
    assert len(fresh) == 1
    assert await store.item_count(feed.id) == 1


async def test_same_item_in_two_feeds_is_new_in_each(store: Store) -> None:
    one = await store.add_feed("https://a.example/feed", NOW)
    two = await store.add_feed("https://b.example/feed", NOW)
    for feed in (one, two):
        await store.store_items(feed.id, [], NOW, announce_first=0)
        batch = [item("g:1", "https://x/1")]
        fresh = await store.store_items(feed.id, batch, NOW, announce_first=0)
        assert len(fresh) == 1


async def test_pending_until_marked_announced(store: Store) -> None:
    feed = await store.add_feed("https://a.example/feed", NOW, title="A")
    await store.store_items(feed.id, [], NOW, announce_first=0)
    fresh = await store.store_items(feed.id, [item("g:1")], NOW, announce_first=0)
    pending = await store.pending_items()
    assert [p.id for p in pending] == [fresh[0].id]
    assert pending[0].feed_title == "A"
    assert pending[0].first_seen == NOW
    await store.record_announced([p.id for p in pending])
    assert await store.pending_items() == []


async def test_failures_disable_once_and_enable_resets(store: Store) -> None:
    feed = await store.add_feed("https://a.example/feed", NOW)
    for n in range(1, 4):
        info = await store.record_failure(
            feed.id, now=NOW, error=f"boom {n}", next_poll_at=NOW, max_failures=3
        )
    assert info.consecutive_failures == 3
    assert info.disabled_reason is not None
    assert "3 consecutive failures" in info.disabled_reason
    assert "boom 3" in info.disabled_reason
    later = await store.record_failure(
        feed.id, now=NOW, error="boom 4", next_poll_at=NOW, max_failures=3
    )
    assert later.disabled_reason == info.disabled_reason
    assert await store.pollable_feeds(NOW, due_only=False) == []
    enabled = await store.enable_feed(feed.id, NOW)
    assert enabled.disabled_reason is None
    assert enabled.consecutive_failures == 0


async def test_success_resets_failures_and_keeps_validators(store: Store) -> None:
    feed = await store.add_feed("https://a.example/feed", NOW)
    await store.record_failure(feed.id, now=NOW, error="x", next_poll_at=NOW, max_failures=5)
    await store.record_success(
        feed.id,
        now=NOW,
        next_poll_at=NOW + timedelta(minutes=15),
        validators=Validators(etag='"v1"', last_modified="Wed, 25 Nov 2026 10:00:00 GMT"),
        title="Feed title",
        new_url="https://a.example/moved",
    )
    info = await store.get_feed(feed.id)
    assert (info.consecutive_failures, info.last_error, info.title) == (0, None, "Feed title")
    assert info.url == "https://a.example/moved"
    assert info.next_poll_at == NOW + timedelta(minutes=15)
    assert info.validators == Validators('"v1"', "Wed, 25 Nov 2026 10:00:00 GMT")


async def test_due_and_backoff_selection(store: Store) -> None:
    ok = await store.add_feed("https://a.example/ok", NOW)
    backing_off = await store.add_feed("https://a.example/bad", NOW)
    await store.record_success(
        ok.id, now=NOW, next_poll_at=NOW + timedelta(minutes=15), validators=Validators()
    )
    await store.record_failure(
        backing_off.id, now=NOW, error="x", next_poll_at=NOW + timedelta(hours=1), max_failures=9
    )
    assert await store.pollable_feeds(NOW, due_only=True) == []
    assert [f.id for f in await store.pollable_feeds(NOW, due_only=False)] == [ok.id]
    later = NOW + timedelta(hours=2)
    assert len(await store.pollable_feeds(later, due_only=True)) == 2


async def test_analyses_are_kept_and_come_back_with_pending_items(store: Store) -> None:
    feed = await store.add_feed("https://a.example/feed", NOW)
    await store.store_items(feed.id, [], NOW, announce_first=0)
    (fresh,) = await store.store_items(feed.id, [item("g:1")], NOW, announce_first=0)
    verdict = {"id": str(fresh.id), "is_summit": True, "score": 0.93, "reasons": ["r"]}
    await store.save_analyses([(fresh.id, verdict)], NOW)
    await store.save_analyses([(fresh.id, verdict | {"score": 0.95})], NOW)
    assert (await store.analysis_of(fresh.id) or {})["score"] == 0.95
    (pending,) = await store.pending_items()
    assert pending.is_summit
    assert pending.analysis == verdict | {"score": 0.95}


async def test_meta(store: Store) -> None:
    assert await store.get_meta("k") is None
    await store.set_meta("k", "1")
    await store.set_meta("k", "2")
    assert await store.get_meta("k") == "2"
