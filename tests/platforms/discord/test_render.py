"""Rendering: hostile feed text is inert, every payload fits Discord's limits, facts read well."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from bot.core.stories import (
    Destination,
    Digest,
    FactChange,
    Filters,
    StoryEvent,
    StoryFacts,
    Subscription,
)
from bot.platforms.discord.render import (
    Rendered,
    clean,
    domain,
    problems,
    render_alert,
    render_digest,
    render_feeds,
    render_notice,
    render_story,
    render_story_list,
    render_subscription,
    render_upcoming,
    render_watches,
    safe_url,
    truncate,
)
from bot.stories.facts import when_text as when
from tests.platforms.discord.checks import injection_problems, limit_problems
from tests.platforms.discord.desk import (
    INJECTION,
    NOW,
    hostile_story,
    huge_story,
    make_feed,
    make_story,
)


def payload(message: Rendered) -> dict[str, Any]:
    """The JSON discord.py would send for this message."""
    return {
        "content": message.content,
        "embeds": [embed.to_dict() for embed in message.embeds],
    }


def every_rendering(story_factory: Any) -> list[Rendered]:
    stories = [story_factory(n) for n in range(1, 4)]
    update = StoryEvent("update", stories[0], stories[0].changes)
    return [
        render_alert(StoryEvent("new", stories[0])),
        render_alert(update),
        render_story(stories[0]),
        render_story_list("heading", stories, "none"),
        render_upcoming(stories),
        *render_digest(Digest(INJECTION, tuple(stories), NOW, note=INJECTION)),
        render_feeds(
            [
                make_feed(n, title=INJECTION, last_error=INJECTION, consecutive_failures=n)
                for n in (1, 2)
            ]
        ),
        render_subscription(
            Subscription(
                Destination("discord", "1", "2"),
                "both",
                INJECTION,
                INJECTION,
                Filters(participants=(INJECTION,), keywords=(INJECTION,)),
                disabled_reason=INJECTION,
            )
        ),
        render_watches([INJECTION, INJECTION]),
        Rendered(content=render_notice(INJECTION, 3000)),
    ]


def test_hostile_feed_text_is_inert_everywhere() -> None:
    for message in every_rendering(hostile_story):
        body = payload(message)
        assert injection_problems(body) == [], body
        assert limit_problems(body) == []


def test_hostile_links_are_dropped_not_sent() -> None:
    """javascript:, data:, empty, intranet and 3,000-char links never become embed URLs (C4)."""
    message = render_alert(StoryEvent("new", hostile_story()))
    embed = message.embeds[0].to_dict()
    assert "url" not in embed
    assert embed["footer"]["text"].startswith("5 sources")


def test_masked_link_and_mentions_are_escaped_literally() -> None:
    text = clean(INJECTION, 2000)
    assert "\\[https://bank.example\\](https://evil.example)" in text
    assert "\\[click\\](javascript:alert(1))" in text
    assert "@\u200beveryone @\u200bhere" in text
    assert "<\u200b@\u200b&123456789012345678> <\u200b@\u200b123456789012345678>" in text
    assert "\\|\\|spoiler\\|\\| \\`\\`\\`code\\`\\`\\`" in text
    assert clean("# HUGE", 50) == "\\# HUGE"
    assert clean("-# tiny", 50) == "\\-# tiny"
    assert clean("1. list", 50) == "1\\. list"


def test_second_masked_link_is_escaped_too() -> None:
    """discord.py's escape_markdown escapes only the first "[" of a line: ours escapes all."""
    text = clean("[a](https://evil.example) x [https://bank.example](https://evil.example)", 200)
    assert (
        text == "\\[a\\](https://evil.example) x \\[https://bank.example\\](https://evil.example)"
    )


def test_bare_urls_stay_clickable() -> None:
    assert clean("see https://x.example/a_b_c, then *b*", 100) == (
        "see https://x.example/a_b_c, then \\*b\\*"
    )


@pytest.mark.parametrize(
    "message",
    every_rendering(huge_story),
    ids=lambda m: (m.content or "embed")[:20],
)
def test_huge_stories_fit_every_limit(message: Rendered) -> None:
    assert problems(message) == []
    assert limit_problems(payload(message)) == []


def test_long_digest_is_split_into_messages_within_limits_and_says_what_is_left() -> None:
    stories = tuple(huge_story(n) for n in range(200))
    pages = render_digest(Digest("Daily summit digest", stories, NOW))
    assert 1 < len(pages) <= 3
    for page in pages:
        assert problems(page) == []
        assert limit_problems(payload(page)) == []
        assert 1 <= len(page.embeds) <= 10
    shown = sum(len(page.embeds) for page in pages)
    assert f"+{200 - shown} more" in (pages[-1].content or "")


def test_short_digest_is_one_message_with_one_card_per_story() -> None:
    stories = (make_story(1), make_story(2))
    (page,) = render_digest(Digest("Morning digest", stories, NOW))
    assert (page.content or "").startswith("**Morning digest** · 2 stories")
    card = page.embeds[0].to_dict()
    assert card["title"] == "#1 · Leaders to meet in Geneva (story 1)"
    assert card["url"] == "https://www.reuters.com/a"
    facts, sentence, sources = card["description"].split("\n")
    assert facts == (
        "Xi Jinping (President, China); Joe Biden (President, United States) · "
        "Villa La Grange, Geneva, Switzerland · 12–13 Dec 2026 · Upcoming"
    )
    assert sentence == "The two leaders will meet in Geneva next month."
    assert (
        sources
        == "2 sources: [reuters.com](https://www.reuters.com/a) · [apnews.com](https://apnews.com/b)"
    )


def test_empty_digest_says_so() -> None:
    (page,) = render_digest(Digest("Digest", (), NOW))
    assert page.embeds == ()
    assert "No summit stories" in (page.content or "")


def test_alert_has_linked_title_fact_fields_and_source_footer() -> None:
    message = render_alert(StoryEvent("new", make_story()))
    embed = message.embeds[0].to_dict()
    assert message.content == "**New summit story**"
    assert embed["title"] == "Leaders to meet in Geneva (story 1)"
    assert embed["url"] == "https://www.reuters.com/a"
    fields = {item["name"]: item["value"] for item in embed["fields"]}
    assert fields == {
        "Who": "Xi Jinping (President, China); Joe Biden (President, United States)",
        "Where": "Villa La Grange, Geneva, Switzerland",
        "When": "12–13 Dec 2026",
        "Status": "Upcoming",
    }
    assert embed["footer"]["text"] == "2 sources · reuters.com, apnews.com"


def test_update_alert_says_what_changed() -> None:
    story = make_story()
    changes = (
        FactChange(NOW, "start_date", "2026-12-12", "2026-12-14"),
        FactChange(NOW, "status", "upcoming", "postponed"),
    )
    message = render_alert(StoryEvent("update", story, changes))
    embed = message.embeds[0].to_dict()
    assert message.content == "**Summit story updated**: start date, status changed"
    assert embed["title"].startswith("Update: Leaders to meet")
    assert "**Start date**: 2026-12-12 → 2026-12-14" in embed["description"]
    assert "**Status**: upcoming → postponed" in embed["description"]


def test_unknown_facts_are_shown_as_not_known() -> None:
    story = make_story(facts=StoryFacts())
    fields = {
        f["name"]: f["value"]
        for f in render_alert(StoryEvent("new", story)).embeds[0].to_dict()["fields"]
    }
    assert set(fields.values()) == {"not known yet"}


def test_story_details_show_sources_changes_and_reasons() -> None:
    embed = render_story(make_story()).embeds[0].to_dict()
    fields = {item["name"]: item["value"] for item in embed["fields"]}
    assert fields["Sources (2)"].startswith("[reuters.com](https://www.reuters.com/a) — Leaders")
    assert "**Venue** announced: Villa La Grange" in fields["Changes"]
    assert "• two heads of state" in fields["Why it is a summit (score 0.93)"]
    assert embed["footer"]["text"].startswith("Story #1 · first seen 26 Nov 2026 12:00 UTC")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.reuters.com/a", "https://www.reuters.com/a"),
        ("http://example.com/x(1)", "http://example.com/x%281%29"),
        ("javascript:alert(1)", None),
        ("data:,x", None),
        ("", None),
        (None, None),
        ("ftp://example.com/", None),
        ("http://intranet/", None),
        ("https://user:pw@example.com/", None),
        ("https://example.com/a b", None),
        ("https://example.com/" + "a" * 3000, None),
        ("https://exa mple.com/", None),
        ("https://[::1]/", None),
        ("https://example.com:99999/", None),
    ],
)
def test_only_http_links_with_a_real_host_are_kept(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_domain_is_the_host_without_www() -> None:
    assert domain("https://www.bbc.co.uk/news") == "bbc.co.uk"
    assert domain("javascript:alert(1)") is None


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        (date(2026, 5, 12), None, "12 May 2026"),
        (date(2026, 5, 12), date(2026, 5, 13), "12–13 May 2026"),
        (date(2026, 4, 30), date(2026, 5, 2), "30 Apr – 2 May 2026"),
        (date(2026, 12, 30), date(2027, 1, 2), "30 Dec 2026 – 2 Jan 2027"),
        (None, None, ""),
    ],
)
def test_when(start: date | None, end: date | None, text: str) -> None:
    assert when(StoryFacts(start_date=start, end_date=end)) == text


def test_truncate_cuts_by_code_point_and_never_leaves_a_dangling_escape() -> None:
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("ab\\_cd", 4) == "ab…"
    assert len(truncate("😀" * 300, 256)) == 256


def test_empty_lists_render_helpful_sentences() -> None:
    assert render_story_list("h", [], "No summit stories yet.").content == "No summit stories yet."
    assert "No upcoming summits" in (render_upcoming([]).content or "")
    assert "/feeds add" in (render_feeds([]).content or "")
    assert "/alerts on" in (render_subscription(None).content or "")
    assert "/watch add" in (render_watches([]).content or "")


def test_story_with_many_facts_keeps_within_25_fields() -> None:
    story = replace(huge_story(), changes=(), quotes=())
    assert len(render_story(story).embeds[0].fields) <= 25


def test_an_empty_digest_says_no_stories_once() -> None:
    (message,) = render_digest(Digest("Summit digest", (), NOW))
    assert message.content == "**Summit digest**\nNo summit stories this time."
    (message,) = render_digest(Digest("Summit digest", (), NOW, note="None yet."))
    assert message.content == "**Summit digest**\nNone yet."


def test_feeds_on_an_ip_host_show_the_host() -> None:
    rendered = render_feeds([make_feed(1, url="http://127.0.0.1:8080/feed.xml")])
    description = rendered.embeds[0].description or ""
    assert "127.0.0.1:8080" in description
    assert "invalid address" not in description


def test_the_notice_names_its_channel() -> None:
    assert "stopped posting summit alerts in <#3000>:" in render_notice("gone", 3000)
