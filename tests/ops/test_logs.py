"""Logging: readable or JSON lines, and no secret survives a handler (RELIABILITY F4)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.ops.logs import REDACTED, configure_logging, redact

BOT_TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0Mw.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"
WEBHOOK = "https://discord.com/api/webhooks/123456789012345678/" + "w" * 68
SLACK_HOOK = "https://hooks.slack.com/services/T0001/B0002/abcdefghijklmnopqrstuvwx"


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    filters = {handler: list(handler.filters) for handler in handlers}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler, kept in filters.items():
        handler.filters = kept
    root.setLevel(level)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"POST {WEBHOOK}?wait=1 has returned 200", "w" * 68),
        ("POST /interactions/1234567/aW50ZXJhY3Rpb246dG9rZW4/callback", "aW50ZXJhY3Rpb246dG9rZW4"),
        (f"delivering to {SLACK_HOOK}", "T0001/B0002/abcdefghijklmnopqrstuvwx"),
        ("auth.test with xoxb-1111-2222-AbCdEf and xapp-1-A0-99-ffee", "xoxb-1111-2222-AbCdEf"),
        ("socket mode xapp-1-A0-99-ffee", "xapp-1-A0-99-ffee"),
        (f"login with {BOT_TOKEN}", BOT_TOKEN),
        ("headers {'Authorization': 'Bearer abc.def-ghi'}", "abc.def-ghi"),
        ("cannot connect to postgresql+asyncpg://bot:pa55word@db:5432/newsbot", "pa55word"),
        ("settings signing_secret='8f14e45fceea167a5a36dedd4bea2543'", "8f14e45fceea"),
        ('{"token": "aW50ZXJhY3Rpb24"}', "aW50ZXJhY3Rpb24"),
    ],
)
def test_redact_removes_every_kind_of_secret(text: str, secret: str) -> None:
    clean = redact(text)
    assert secret not in clean
    assert REDACTED in clean


def test_redact_keeps_ordinary_text() -> None:
    text = "Basic information: the password authentication failed for user bot; 304 for feed 12"
    assert redact(text) == text


def test_readable_by_default_json_with_one_setting(restore_root: None) -> None:
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    logging.getLogger("bot.test").info("polled %d feed(s)", 3)
    assert out.getvalue().rstrip().endswith("INFO    bot.test: polled 3 feed(s)")

    out = io.StringIO()
    configure_logging("INFO", json=True, stream=out)
    try:
        raise ValueError(f"boom at {WEBHOOK}")
    except ValueError:
        logging.getLogger("bot.test").exception("send failed for %s", SLACK_HOOK)
    lines = out.getvalue().splitlines()
    record = json.loads(lines[0])
    assert record["level"] == "ERROR"
    assert record["logger"] == "bot.test"
    assert record["message"].startswith("send failed for https://hooks.slack.com/services/<red")
    assert (
        "ValueError: boom at https://discord.com/api/webhooks/123456789012345678/<red"
        in (record["exc"])
    )
    assert "w" * 68 not in out.getvalue()


def test_known_secrets_are_redacted_on_every_root_handler(restore_root: None) -> None:
    other = io.StringIO()
    foreign = logging.StreamHandler(other)
    logging.getLogger().addHandler(foreign)
    ours = io.StringIO()
    configure_logging("DEBUG", secrets=["plain-looking-secret-42"], stream=ours)
    configure_logging("DEBUG", secrets=["second-secret-99"], stream=ours)
    logging.getLogger("discord.http").debug("value plain-looking-secret-42 second-secret-99")
    for text in (other.getvalue(), ours.getvalue()):
        assert "secret-42" not in text
        assert "secret-99" not in text
        assert text.count(REDACTED) == 2
    mine = [h for h in logging.getLogger().handlers if getattr(h, "stream", None) is ours]
    assert len(mine) == 1
