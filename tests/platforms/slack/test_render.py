"""Block Kit rendering and command-text parsing: pure functions, no Slack needed (C2-C5)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.errors import InvalidInput
from bot.core.stories import Destination, Digest, StoryEvent, Subscription
from bot.platforms.slack import inputs
from bot.platforms.slack.render import (
    Message,
    clean,
    escape,
    problems,
    render_alert,
    render_digest,
    render_error,
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
from tests.platforms.slack.checks import injection_problems, limit_problems
from tests.platforms.slack.desk import (
    INJECTION,
    NOW,
    hostile_story,
    huge_story,
    make_feed,
    make_story,
)

HERE = Destination("slack", "C1", "T1")


def everything(story_factory: object) -> list[Message]:
    """Every message newsbot can render around the stories a factory makes."""
    assert callable(story_factory)
    stories = [story_factory(n) for n in range(1, 4)]
    many = tuple(replace(story_factory(n), id=n) for n in range(200))
    story = stories[0]
    hostile_text = INJECTION * 30
    feed = make_feed(1, title=hostile_text, url="https://x.example/" + "a" * 1900)
    failing = make_feed(2, title=hostile_text, consecutive_failures=3, last_error=hostile_text)
    return [
        render_alert(StoryEvent("new", story)),
        render_alert(StoryEvent("update", story, story.changes[:3])),
        render_alert(StoryEvent("update", story)),
        render_story(story),
        render_story_list(f"*{clean(hostile_text, 100)}*", stories, "none"),
        render_upcoming(list(many)),
        *render_digest(Digest(hostile_text, many, NOW, note=hostile_text)),
        *render_digest(Digest(hostile_text, (), NOW)),
        render_feeds([feed, failing] * 100),
        render_subscription(
            Subscription(HERE, "both", "0 8 * * *", hostile_text, disabled_reason=hostile_text)
        ),
        render_watches([hostile_text] * 300),
        render_notice(hostile_text, "C0123"),
        render_error(hostile_text),
    ]


@pytest.mark.parametrize("factory", [make_story, hostile_story, huge_story])
def test_every_message_is_inert_and_within_limits(factory: object) -> None:
    for message in everything(factory):
        assert problems(message) == []
        payload = message.payload()
        assert limit_problems(payload) == []
        assert injection_problems(payload) == []


def test_injection_is_escaped_not_dropped() -> None:
    text = clean("<!channel> hi <@U1> <https://evil.example|https://bank.example> a&b", 500)
    assert text == (
        "&lt;!channel&gt; hi &lt;@U1&gt; &lt;https://evil.example|https://bank.example&gt; a&amp;b"
    )
    assert clean("ping @channel and @here", 100) == "ping @\u2060channel and @\u2060here"
    assert escape("&lt;") == "&amp;lt;"


def test_truncate_never_leaves_half_an_entity() -> None:
    assert truncate(escape("abc<def"), 6) == "abc…"
    assert truncate("x" * 10, 5) == "xxxx…"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?b=1&c=2", "https://example.com/a?b=1&amp;c=2"),
        ("https://example.com/a|b", "https://example.com/a%7Cb"),
        ("javascript:alert(1)", None),
        ("data:,x", None),
        ("", None),
        ("http://intranet/", None),
        ("https://user@example.com/", None),
        ("https://example.com/<!channel>", None),
        ("https://example.com/" + "a" * 3000, None),
    ],
)
def test_safe_url(url: str, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_a_hostile_title_never_becomes_a_link_label() -> None:
    message = render_alert(StoryEvent("new", hostile_story()))
    payload = str(message.payload())
    assert "|https://bank.example>" not in payload
    assert "&lt;!channel&gt;" in payload


def test_alert_text_fallback_names_the_story() -> None:
    message = render_alert(StoryEvent("new", make_story(5)))
    assert message.text == "New summit story: Leaders to meet in Geneva (story 5)"
    assert message.blocks[1]["type"] == "header"


# --- command text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("alerts", None, None)),
        ("digest", ("digest", None, None)),
        ("both daily 08:00 asia/seoul", ("both", "0 8 * * *", "Asia/Seoul")),
        ("digest weekdays 7:30", ("digest", "30 7 * * mon,tue,wed,thu,fri", None)),
        ("digest hourly UTC", ("digest", "0 * * * *", "UTC")),
        ("digest 0 8 * * 0,7", ("digest", "0 8 * * sun", None)),
        ("digest 0 8 * * */2", ("digest", "0 8 * * sun,tue,thu,sat", None)),
        (
            "digest 0 8 * * mon-fri Europe/Paris",
            ("digest", "0 8 * * mon,tue,wed,thu,fri", "Europe/Paris"),
        ),
    ],
)
def test_alerts_on_parsing(text: str, expected: tuple[str, str | None, str | None]) -> None:
    assert inputs.parse_alerts_on(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "alerts daily 08:00",
        "digest 25:00",
        "digest funday 08:00",
        "digest 0 8 * *",
        "digest x Mars/Base",
    ],
)
def test_alerts_on_refusals(text: str) -> None:
    with pytest.raises(InvalidInput):
        inputs.parse_alerts_on(text)


def test_feed_url_unwraps_slack_links() -> None:
    assert inputs.parse_feed_url("<https://a.example/rss?x=1&amp;y=2|a.example>") == (
        "https://a.example/rss?x=1&y=2"
    )
    with pytest.raises(InvalidInput):
        inputs.parse_feed_url("<mailto:x@y.example>")


def test_feed_text_keeps_no_mrkdwn_formatting_in_cards() -> None:
    story = replace(make_story(1), title="*URGENT* ~fake~ `code` _italic_ snake_case")
    message = render_alert(StoryEvent("new", story))
    texts = " ".join(str(block) for block in message.blocks)
    assert "∗URGENT∗ ∼fake∼ ˋcodeˋ ˍitalicˍ snake_case" in texts
    for marked in ("*URGENT*", "~fake~", "`code`", "_italic_"):
        assert marked not in texts


def test_an_empty_digest_says_no_stories_once() -> None:
    for digest in (
        Digest("Summit digest", (), NOW),
        Digest("Summit digest", (), NOW, note="None yet."),
    ):
        (message,) = render_digest(digest)
        shown = " ".join([message.text, *(str(block) for block in message.blocks)]).lower()
        assert "0 stories" not in shown
        said = "no summit stories" if digest.note is None else "none yet"
        assert shown.count(said) == 2  # once in the fallback text, once in the blocks
        assert len(message.blocks) == 2


def test_feeds_on_an_ip_host_show_the_host() -> None:
    message = render_feeds([make_feed(1, url="http://127.0.0.1:8080/feed.xml")])
    shown = str(message.blocks)
    assert "— 127.0.0.1:8080 —" in shown
    assert "invalid address" not in shown


def test_the_notice_names_its_channel() -> None:
    assert "stopped posting summit alerts in <#C0123>:" in render_notice("gone", "C0123").text
    assert "in channel weird" in render_notice("gone", "weird").text
