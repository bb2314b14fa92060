"""The one rule for links in chat messages (RELIABILITY C4)."""

from __future__ import annotations

import pytest

from bot.core.links import LINK_MAX, web_link


@pytest.mark.parametrize(
    "url",
    ["https://example.com/a?b=1", "http://news.example.org/x", " https://例え.jp/記事 "],
)
def test_web_links_pass(url: str) -> None:
    assert web_link(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "data:text/html,hi",
        "ftp://example.com/",
        "https://user:pw@example.com/",
        "https://exa mple.com/",
        "https://example.com/\x00",
        "https://localhost/",
        "https://example.com:99999/",
        "https://" + "a" * LINK_MAX + ".com/",
        'https://example.com/"onmouseover=x',
    ],
)
def test_anything_else_is_dropped(url: str | None) -> None:
    assert web_link(url) is None
