"""Slash-command text parsing: Slack sends one string; these turn it into checked values.

Every refusal is a ``BadInput`` (an ``InvalidInput``) whose sentence says what to type
instead; schedules and time zones go through ``bot.core.inputs``, shared with Discord.
Slack escapes ``&``, ``<`` and ``>`` in command text and may wrap links as ``<url>`` or
``<url|label>``; ``unescape`` and ``parse_feed_url`` undo that.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.core.errors import InvalidInput
from bot.core.inputs import find_timezone, parse_schedule, parse_timezone

URL_MAX = 2000
TERM_MIN, TERM_MAX = 2, 100
QUERY_MIN, QUERY_MAX = 2, 100
COUNT_MAX = 10


class BadInput(InvalidInput):
    """The command text does not fit the command: answered with the command's usage."""


_REF = re.compile(r"^#?(\d{1,18})$")
_WRAPPED_LINK = re.compile(r"^<([^<>|]+)(?:\|[^<>]*)?>$")


def unescape(text: str) -> str:
    """Undo Slack's escaping of command text (``&amp;`` last, so ``&amp;lt;`` stays ``&lt;``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def split_command(text: str) -> tuple[str, str]:
    """ "add https://x" → ("add", "https://x"); the subcommand lower-cased."""
    head, _, rest = text.strip().partition(" ")
    return head.lower(), rest.strip()


def parse_ref(value: str, what: str) -> int:
    """A story or feed number from "42" or "#42"."""
    match = _REF.match(value.strip())
    if match is None:
        where = "/summit latest" if what == "story" else "/feeds list"
        raise BadInput(f"Give the {what}'s number, e.g. 42; {where} shows the numbers.")
    return int(match.group(1))


def parse_count(value: str, default: int = 5) -> int:
    """How many stories: 1 to 10."""
    if not value.strip():
        return default
    if not value.strip().isdigit() or not 1 <= int(value) <= COUNT_MAX:
        raise BadInput(f"Give a number of stories from 1 to {COUNT_MAX}, e.g. 5.")
    return int(value)


def parse_text(value: str, what: str, low: int, high: int) -> str:
    """A search query or watch term of ``low`` to ``high`` characters."""
    text = " ".join(unescape(value).split())
    if not low <= len(text) <= high:
        raise BadInput(f"Give a {what} of {low} to {high} characters.")
    return text


def parse_feed_url(value: str) -> str:
    """A feed address: absolute http(s) with a host; the SSRF guard runs later, in the core."""
    url = value.strip()
    wrapped = _WRAPPED_LINK.match(url)
    if wrapped is not None:
        url = wrapped.group(1)
    url = unescape(url).strip()
    if len(url) > URL_MAX:
        raise BadInput("That address is too long for a feed (2,000 characters at most).")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        scheme = parts.scheme.lower()
    except ValueError:
        host, scheme = None, ""
    if scheme not in ("http", "https") or not host or " " in url:
        raise BadInput(
            "Give the feed's full address, starting with https:// (or http://), "
            "e.g. https://example.com/rss.xml."
        )
    return url


_ZONE_LIKE = re.compile(r"^[A-Za-z][A-Za-z_+\-]*/[A-Za-z]")


def parse_alerts_on(text: str) -> tuple[str, str | None, str | None]:
    """ "[alerts|digest|both] [schedule] [timezone]" → (mode, schedule or None, zone or None)."""
    words = text.split()
    mode = "alerts"
    if words and words[0].lower() in ("alerts", "digest", "both"):
        mode = words.pop(0).lower()
    zone = None
    try:
        if words and (find_timezone(words[-1]) is not None or _ZONE_LIKE.match(words[-1])):
            zone = parse_timezone(words.pop())
        schedule = parse_schedule(" ".join(words)) if words else None
    except InvalidInput as exc:
        # The shared parsers say what is wrong; Slack answers with the command's usage too.
        raise BadInput(str(exc)) from None
    if mode == "alerts" and (schedule or zone):
        raise BadInput(
            "A schedule and time zone apply only to digests: use `/alerts on digest …` "
            "or `/alerts on both …`."
        )
    return mode, schedule, zone
