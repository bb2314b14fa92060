"""Command input parsing: pure functions and the Transformers that apply them before a handler runs.

A Transformer that refuses a value raises ``InvalidInput``; discord.py wraps it in a
``TransformerError`` and the tree's error handler shows its sentence to the user, ephemerally.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit
from zoneinfo import available_timezones

import discord
from discord import app_commands

from bot.core.errors import InvalidInput

AUTOCOMPLETE_MAX = 25
CHOICE_MAX = 100

_REF = re.compile(r"^\s*#?\s*(\d{1,18})\b")


def parse_ref(value: str, what: str) -> int:
    """A story or feed number from "42", "#42" or an autocomplete value."""
    match = _REF.match(value)
    if match is None:
        raise InvalidInput(
            f"Pick a {what} from the list, or type its number (e.g. 42); "
            f"{'/summit latest' if what == 'story' else '/feeds list'} shows the numbers."
        )
    return int(match.group(1))


def parse_feed_url(value: str) -> str:
    """A feed address: absolute http(s) with a host; the SSRF guard runs later, in the core."""
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        raise InvalidInput(
            "Give the feed's full address, starting with https:// (or http://), "
            "e.g. https://example.com/rss.xml."
        )
    if len(url) > 2000:
        raise InvalidInput("That address is too long for a feed (2,000 characters at most).")
    return url


COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Africa/Johannesburg",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Sydney",
)


@functools.cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(value: str) -> str:
    """A canonical IANA time zone name ("asia/seoul" → "Asia/Seoul"), checked with zoneinfo."""
    name = _zones().get(value.strip().lower())
    if name is None:
        shown = value.strip()[:60]
        raise InvalidInput(
            f"“{shown}” is not a time zone I know. Pick one from the list, "
            "e.g. UTC, Europe/Paris or Asia/Seoul."
        )
    return name


def timezone_choices(current: str) -> list[str]:
    """Time zone names containing what was typed, shortest first."""
    typed = current.strip().lower().replace(" ", "_")
    if not typed:
        return list(COMMON_ZONES)
    names = [name for key, name in _zones().items() if typed in key]
    names.sort(key=lambda name: (not name.lower().startswith(typed), len(name), name))
    return names[:AUTOCOMPLETE_MAX]


# --- schedules ---------------------------------------------------------------------------------

_SCHEDULE_HELP = (
    "Use “daily 08:00”, “weekdays 07:30”, “monday 09:00”, “hourly”, or five cron fields "
    "(minute hour day month weekday), e.g. “0 8 * * *”."
)
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
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
# (name, lowest, highest, names for the values from `lowest` on)
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, (*_DAYS, "sun")),
)


def parse_schedule(value: str) -> str:
    """A digest schedule as five cron fields; week days become names ("mon,tue"), never numbers.

    Cron numbers Sunday 0 (or 7) while APScheduler numbers Monday 0; names mean the same
    everywhere, so the core's scheduler cannot shift a digest by a day.
    """
    text = " ".join(value.strip().lower().split())
    if text in ("hourly", "every hour"):
        return "0 * * * *"
    friendly = _FRIENDLY.match(text)
    if friendly is not None:
        days = _FRIENDLY_DAYS.get(friendly.group("days") or "daily")
        hour, minute = int(friendly.group("h")), int(friendly.group("m"))
        if days is None or hour > 23 or minute > 59:
            raise InvalidInput(
                f"I cannot read the schedule “{value.strip()[:60]}”. {_SCHEDULE_HELP}"
            )
        return f"{minute} {hour} * * {days}"
    fields = text.split(" ")
    if len(fields) != 5:
        raise _unreadable(value)
    out = [_cron_field(field, spec) for field, spec in zip(fields, _CRON_FIELDS, strict=True)]
    out[4] = _weekday_names(fields[4])
    return " ".join(out)


def _cron_field(field: str, spec: tuple[str, int, int, tuple[str, ...]]) -> str:
    """Check one cron field ("*", "*/15", "1-5", "mon-fri", "1,15"); return it unchanged."""
    _expand(field, spec)
    return field


def _expand(field: str, spec: tuple[str, int, int, tuple[str, ...]]) -> set[int]:
    name, lowest, highest, _ = spec
    values: set[int] = set()
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or not 0 < int(step_text) <= highest:
                raise _bad_field(name, item)
            step = int(step_text)
        if base == "*":
            start, end = lowest, highest
        else:
            first, dash, last = base.partition("-")
            start = _cron_value(first, spec, item)
            end = _cron_value(last, spec, item) if dash else (highest if slash else start)
            if end < start:
                raise _bad_field(name, item)
        values.update(range(start, end + 1, step))
    return values


def _cron_value(text: str, spec: tuple[str, int, int, tuple[str, ...]], item: str) -> int:
    name, lowest, highest, names = spec
    if text in names:
        return names.index(text) + lowest
    if text.isdigit() and lowest <= int(text) <= highest:
        return int(text)
    raise _bad_field(name, item)


def _bad_field(name: str, item: str) -> InvalidInput:
    return InvalidInput(f"The {name} “{item[:30]}” in the schedule is not valid. {_SCHEDULE_HELP}")


def _unreadable(value: str) -> InvalidInput:
    return InvalidInput(f"I cannot read the schedule “{value.strip()[:60]}”. {_SCHEDULE_HELP}")


def _weekday_names(field: str) -> str:
    if field == "*":
        return "*"
    days = sorted({value % 7 for value in _expand(field, _CRON_FIELDS[4])})
    return ",".join(_DAYS[day] for day in days)


SCHEDULE_EXAMPLES = ("daily 08:00", "weekdays 07:30", "monday 09:00", "hourly", "0 8 * * *")


# --- transformers ------------------------------------------------------------------------------


class StoryRef(app_commands.Transformer):
    """A story number; autocomplete comes from the command (it needs the NewsDesk)."""

    async def transform(self, interaction: discord.Interaction[discord.Client], value: str) -> int:
        """Parse "42" or "#42"."""
        return parse_ref(str(value), "story")


class FeedRef(app_commands.Transformer):
    """A feed number; autocomplete comes from the command (it needs the NewsDesk)."""

    async def transform(self, interaction: discord.Interaction[discord.Client], value: str) -> int:
        """Parse "7" or "#7"."""
        return parse_ref(str(value), "feed")


class FeedUrl(app_commands.Transformer):
    """An absolute http(s) feed address."""

    @property
    def max_value(self) -> int:
        """Discord refuses longer strings before they reach us."""
        return 2000

    async def transform(self, interaction: discord.Interaction[discord.Client], value: str) -> str:
        """Check the scheme and host."""
        return parse_feed_url(str(value))


class TimeZone(app_commands.Transformer):
    """An IANA time zone, with autocomplete over every zone zoneinfo knows."""

    async def transform(self, interaction: discord.Interaction[discord.Client], value: str) -> str:
        """Canonicalise and check the name."""
        return parse_timezone(str(value))

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction[discord.Client], value: str
    ) -> list[app_commands.Choice[str]]:
        """Zones containing what was typed."""
        return [app_commands.Choice(name=name, value=name) for name in timezone_choices(value)]


class Schedule(app_commands.Transformer):
    """A digest schedule: friendly ("daily 08:00") or cron; suggestions as you type."""

    @property
    def max_value(self) -> int:
        """Long enough for any sensible cron line."""
        return 100

    async def transform(self, interaction: discord.Interaction[discord.Client], value: str) -> str:
        """Normalise to five cron fields."""
        return parse_schedule(str(value))

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction[discord.Client], value: str
    ) -> list[app_commands.Choice[str]]:
        """What was typed (when it parses) and a few examples."""
        typed = value.strip()
        options = [example for example in SCHEDULE_EXAMPLES if typed.lower() in example]
        if typed and typed not in options:
            try:
                parse_schedule(typed)
            except InvalidInput:
                pass
            else:
                options.insert(0, typed[:CHOICE_MAX])
        return [app_commands.Choice(name=option, value=option) for option in options]
