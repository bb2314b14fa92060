"""Parsing of user input that every chat platform shares: digest schedules and time zones."""

from __future__ import annotations

import functools
import re
from zoneinfo import available_timezones

from bot.core.errors import InvalidInput

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
def timezone_names() -> dict[str, str]:
    """Every IANA time zone zoneinfo knows, keyed by its lower-case name."""
    return {name.lower(): name for name in available_timezones()}


def find_timezone(value: str) -> str | None:
    """The canonical IANA name for ``value`` ("asia/seoul" → "Asia/Seoul"), or None."""
    return timezone_names().get(value.strip().lower())


def parse_timezone(value: str) -> str:
    """A canonical IANA time zone name, checked with zoneinfo."""
    name = find_timezone(value)
    if name is None:
        raise InvalidInput(
            f"“{value.strip()[:60]}” is not a time zone I know: use an IANA name "
            "such as UTC, Europe/Paris or Asia/Seoul."
        )
    return name


SCHEDULE_HELP = (
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
                f"I cannot read the schedule “{value.strip()[:60]}”. {SCHEDULE_HELP}"
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
    return InvalidInput(f"The {name} “{item[:30]}” in the schedule is not valid. {SCHEDULE_HELP}")


def _unreadable(value: str) -> InvalidInput:
    return InvalidInput(f"I cannot read the schedule “{value.strip()[:60]}”. {SCHEDULE_HELP}")


def _weekday_names(field: str) -> str:
    if field == "*":
        return "*"
    days = sorted({value % 7 for value in _expand(field, _CRON_FIELDS[4])})
    return ",".join(_DAYS[day] for day in days)


SCHEDULE_EXAMPLES = ("daily 08:00", "weekdays 07:30", "monday 09:00", "hourly", "0 8 * * *")
