"""Command input parsing: pure functions and the Transformers that apply them before a handler runs.

A Transformer that refuses a value raises ``InvalidInput``; discord.py wraps it in a
``TransformerError`` and the tree's error handler shows its sentence to the user, ephemerally.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import discord
from discord import app_commands

from bot.core.errors import InvalidInput
from bot.core.inputs import (
    COMMON_ZONES,
    SCHEDULE_EXAMPLES,
    parse_schedule,
    parse_timezone,
    timezone_names,
)

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


def timezone_choices(current: str) -> list[str]:
    """Time zone names containing what was typed, shortest first."""
    typed = current.strip().lower().replace(" ", "_")
    if not typed:
        return list(COMMON_ZONES)
    names = [name for key, name in timezone_names().items() if typed in key]
    names.sort(key=lambda name: (not name.lower().startswith(typed), len(name), name))
    return names[:AUTOCOMPLETE_MAX]


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
