"""Feed URL identity: every spelling of one feed is one key; hostile input is refused clearly."""

from __future__ import annotations

import pytest

from bot.core.errors import InvalidInput
from bot.core.feedurl import clean_url, display_host, identity

SAME_FEED = [
    "https://example.com/rss",
    "http://example.com/rss",
    "HTTPS://EXAMPLE.COM/rss",
    "https://example.com:443/rss",
    "http://example.com:80/rss/",
    "https://example.com/rss#latest",
    "https://example.com/rss?utm_source=x&utm_medium=email&fbclid=abc",
    "https://Example.com./rss",
    "https://example.com/a/../rss",
    "https://example.com/./rss",
]


@pytest.mark.parametrize("spelling", SAME_FEED)
def test_every_spelling_of_one_feed_has_one_identity(spelling: str) -> None:
    assert identity(spelling) == "example.com/rss"


def test_localhost_and_loopback_are_one_feed() -> None:
    keys = {
        identity(url)
        for url in (
            "http://localhost:8080/feed.xml",
            "http://127.0.0.1:8080/feed.xml",
            "http://LOCALHOST:8080/feed.xml/",
            "http://[::1]:8080/feed.xml",
        )
    }
    assert keys == {"127.0.0.1:8080/feed.xml"}


def test_what_changes_the_response_keeps_feeds_apart() -> None:
    assert identity("https://example.com/rss?cat=1") != identity("https://example.com/rss?cat=2")
    assert identity("https://example.com/rss") != identity("https://example.com/RSS")
    assert identity("https://example.com:8443/rss") != identity("https://example.com/rss")
    assert identity("https://news.example.com/rss") != identity("https://example.com/rss")
    assert identity("http://localhost:8080/a") != identity("http://localhost:8081/a")


def test_parameter_order_and_escape_case_do_not_matter() -> None:
    assert identity("https://x.org/f?b=2&a=1") == identity("https://x.org/f?a=1&b=2")
    assert identity("https://x.org/%7euser/f") == identity("https://x.org/~user/f")
    assert identity("https://x.org/caf%c3%a9") == identity("https://x.org/café")


def test_clean_url_keeps_what_the_server_sees() -> None:
    assert clean_url("HTTP://Example.COM:80/News/Feed/?b=2&utm_campaign=z&a=1#top") == (
        "http://example.com/News/Feed/?b=2&a=1"
    )
    assert clean_url("https://example.com") == "https://example.com/"
    assert clean_url("http://localhost:8080/f") == "http://localhost:8080/f"
    assert clean_url("https://bücher.de/feed") == "https://xn--bcher-kva.de/feed"
    assert clean_url(clean_url("https://a.example/x?q=1")) == "https://a.example/x?q=1"


@pytest.mark.parametrize(
    "hostile",
    [
        "",
        "   ",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://example.com/feed",
        "https://",
        "https:///rss",
        "https://exa mple.com/rss",
        "https://example.com/\x00rss",
        "https://example.com:99999/rss",
        "https://example.com:port/rss",
        "https://[::1/rss",
        "https://" + "a" * 70 + ".com/rss",
        "https://example.com/" + "x" * 3000,
        "https://xn--/rss",
    ],
)
def test_hostile_input_is_refused_with_a_sentence(hostile: str) -> None:
    with pytest.raises(InvalidInput, match="give the feed's full address"):
        identity(hostile)
    with pytest.raises(InvalidInput):
        clean_url(hostile)


def test_display_host_shows_ip_hosts_and_ports() -> None:
    assert display_host("http://127.0.0.1:8080/feed.xml") == "127.0.0.1:8080"
    assert display_host("http://[2001:db8::1]/feed") == "[2001:db8::1]"
    assert display_host("https://example.com/rss") == "example.com"
    assert display_host("not a url") == "unreadable address"
