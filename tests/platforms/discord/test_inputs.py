"""Command input parsing: schedules, time zones, story and feed numbers, feed addresses."""

from __future__ import annotations

import pytest

from bot.core.errors import InvalidInput
from bot.platforms.discord.inputs import (
    parse_feed_url,
    parse_ref,
    parse_schedule,
    parse_timezone,
    timezone_choices,
)


@pytest.mark.parametrize(
    ("typed", "cron"),
    [
        ("daily 08:00", "0 8 * * *"),
        ("08:00", "0 8 * * *"),
        ("Weekdays 7:30", "30 7 * * mon,tue,wed,thu,fri"),
        ("weekends at 10.15", "15 10 * * sat,sun"),
        ("Monday 09:00", "0 9 * * mon"),
        ("fri 17h30", "30 17 * * fri"),
        ("hourly", "0 * * * *"),
        ("0 8 * * *", "0 8 * * *"),
        ("  0   8 * *  * ", "0 8 * * *"),
        ("*/15 6-22 * * *", "*/15 6-22 * * *"),
        ("0 8 1,15 jan-jun *", "0 8 1,15 jan-jun *"),
        # cron counts Sunday as 0 or 7; names mean the same to every scheduler
        ("0 8 * * 1-5", "0 8 * * mon,tue,wed,thu,fri"),
        ("0 8 * * 0", "0 8 * * sun"),
        ("0 8 * * 7", "0 8 * * sun"),
        ("0 8 * * 0-2", "0 8 * * sun,mon,tue"),
        ("0 8 * * mon-fri", "0 8 * * mon,tue,wed,thu,fri"),
        ("0 8 * * */2", "0 8 * * sun,tue,thu,sat"),
    ],
)
def test_schedules(typed: str, cron: str) -> None:
    assert parse_schedule(typed) == cron


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("every full moon", "I cannot read the schedule"),
        ("", "I cannot read the schedule"),
        ("0 8 * *", "I cannot read the schedule"),
        ("25:00", "I cannot read the schedule"),
        ("daily 08:61", "I cannot read the schedule"),
        ("someday 08:00", "I cannot read the schedule"),
        ("60 8 * * *", "The minute “60”"),
        ("0 24 * * *", "The hour “24”"),
        ("0 8 0 * *", "The day of month “0”"),
        ("0 8 * 13 *", "The month “13”"),
        ("0 8 * * 8", "The day of week “8”"),
        ("0 8 * * fri-mon", "The day of week “fri-mon”"),
        ("*/0 * * * *", "The minute “*/0”"),
        ("0 8 * * @everyone", "The day of week “@everyone”"),
    ],
)
def test_bad_schedules_say_what_to_type(typed: str, error: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_schedule(typed)
    assert str(raised.value).startswith(error)
    assert "e.g. “0 8 * * *”" in str(raised.value)


def test_timezones_are_canonical_iana_names() -> None:
    assert parse_timezone("asia/seoul") == "Asia/Seoul"
    assert parse_timezone(" UTC ") == "UTC"
    for bad in ("Mars/Base", "", "../../etc/passwd", "Asia/Seoul\x00"):
        with pytest.raises(InvalidInput, match="is not a time zone I know"):
            parse_timezone(bad)


def test_timezone_choices() -> None:
    assert timezone_choices("seoul") == ["Asia/Seoul"]
    assert timezone_choices("")[0] == "UTC"
    assert len(timezone_choices("a")) == 25
    assert timezone_choices("new york") == ["America/New_York"]


@pytest.mark.parametrize(("typed", "number"), [("42", 42), ("#42", 42), (" # 7 ", 7), ("12", 12)])
def test_refs(typed: str, number: int) -> None:
    assert parse_ref(typed, "story") == number


@pytest.mark.parametrize("typed", ["", "abc", "-1", "1" * 19])
def test_bad_refs(typed: str) -> None:
    with pytest.raises(InvalidInput, match="/summit latest shows the numbers"):
        parse_ref(typed, "story")


def test_feed_urls() -> None:
    assert parse_feed_url(" https://example.com/rss ") == "https://example.com/rss"
    for bad in ("example.com/rss", "file:///etc/passwd", "feed://x", "https://", "http://[::1"):
        with pytest.raises(InvalidInput, match="full address"):
            parse_feed_url(bad)
    with pytest.raises(InvalidInput, match="too long"):
        parse_feed_url("https://example.com/" + "a" * 2000)
