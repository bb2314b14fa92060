"""Slash-command text parsing: Slack sends one string; these turn it into checked values.

Every refusal is a ``BadInput`` (an ``InvalidInput``) whose sentence says what to type
instead. Slack escapes ``&``, ``<`` and ``>`` in command text and may wrap links as
``<url>`` or ``<url|label>``; ``unescape`` and ``parse_feed_url`` undo that.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from bot.core.errors import InvalidInput

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


@functools.cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def find_timezone(value: str) -> str | None:
    """The canonical IANA name for ``value`` ("asia/seoul" → "Asia/Seoul"), or None."""
    return _zones().get(value.strip().lower())


def parse_timezone(value: str) -> str:
    """A canonical IANA time zone name, checked with zoneinfo."""
    name = find_timezone(value)
    if name is None:
        raise BadInput(
            f"“{value.strip()[:60]}” is not a time zone I know: use an IANA name "
            "such as UTC, Europe/Paris or Asia/Seoul."
        )
    return name


# --- schedules ---------------------------------------------------------------------------------

SCHEDULE_HELP = (
    "Use “daily 08:00”, “weekdays 07:30”, “monday 09:00”, “hourly”, or five cron fields "
    "(minute hour day month weekday), e.g. “0 8 * * *”."
)
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FRIENDLY_DAYS = {
    **{day: day for day in _DAYS},
    "sunday": "sun",
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "weekdays": "mon,tue,wed,thu,fri",
    "weekends": "sat,sun",
    "daily": "*",
    "every day": "*",
}
_FRIENDLY = re.compile(r"^(?:(?P<days>[a-z ]+?)\s+(?:at\s+)?)?(?P<h>\d{1,2})[:.h](?P<m>\d{2})$")
_CRON_PART = re.compile(r"^[\d*,/\-a-z]+$")
_ZONE_LIKE = re.compile(r"^[A-Za-z][A-Za-z_+\-]*/[A-Za-z]")


def parse_schedule(value: str) -> str:
    """A digest schedule as five cron fields; week days become names ("mon,tue").

    Cron numbers Sunday 0 (or 7) while APScheduler numbers Monday 0; names mean the same
    everywhere, so a digest never moves by a day. The other fields are checked by the core.
    """
    text = " ".join(value.strip().lower().split())
    if text in ("hourly", "every hour"):
        return "0 * * * *"
    friendly = _FRIENDLY.match(text)
    if friendly is not None:
        days = _FRIENDLY_DAYS.get(friendly.group("days") or "daily")
        hour, minute = int(friendly.group("h")), int(friendly.group("m"))
        if days is None or hour > 23 or minute > 59:
            raise _unreadable(value)
        return f"{minute} {hour} * * {days}"
    fields = text.split(" ")
    if len(fields) != 5 or not all(_CRON_PART.match(field) for field in fields):
        raise _unreadable(value)
    fields[4] = _weekday_names(fields[4], value)
    return " ".join(fields)


def _weekday_names(field: str, value: str) -> str:
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        if slash and not (step_text.isdigit() and 0 < int(step_text) <= 7):
            raise _unreadable(value)
        step = int(step_text) if slash else 1
        if base == "*":
            start, end = 0, 6
        else:
            first, dash, last = base.partition("-")
            start = _day_number(first, value)
            end = _day_number(last, value) if dash else (6 if slash else start)
            if end < start:
                raise _unreadable(value)
        days.update(day % 7 for day in range(start, end + 1, step))
    return ",".join(_DAYS[day] for day in sorted(days))


def _day_number(text: str, value: str) -> int:
    if text in _DAYS:
        return _DAYS.index(text)
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    raise _unreadable(value)


def _unreadable(value: str) -> BadInput:
    return BadInput(f"I cannot read the schedule “{value.strip()[:60]}”. {SCHEDULE_HELP}")


def parse_alerts_on(text: str) -> tuple[str, str | None, str | None]:
    """ "[alerts|digest|both] [schedule] [timezone]" → (mode, schedule or None, zone or None)."""
    words = text.split()
    mode = "alerts"
    if words and words[0].lower() in ("alerts", "digest", "both"):
        mode = words.pop(0).lower()
    zone = None
    if words and (find_timezone(words[-1]) is not None or _ZONE_LIKE.match(words[-1])):
        zone = parse_timezone(words.pop())
    schedule = parse_schedule(" ".join(words)) if words else None
    if mode == "alerts" and (schedule or zone):
        raise BadInput(
            "A schedule and time zone apply only to digests: use `/alerts on digest …` "
            "or `/alerts on both …`."
        )
    return mode, schedule, zone
