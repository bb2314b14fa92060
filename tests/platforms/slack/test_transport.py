"""HTTP mode through the real Bolt app: signatures (E4), retries (E2), the ack, log secrets (F4)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time

import aiohttp
import pytest
from pydantic import SecretStr

from bot.core.errors import ConfigError
from bot.ops.logs import redact
from bot.platforms.slack.app import OnceOnly, SlackBot, delivery_id
from bot.settings import SlackSettings
from tests.platforms.slack.conftest import Chat
from tests.platforms.slack.desk import FakeNewsDesk
from tests.platforms.slack.fake import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    Failure,
    FakeSlack,
    command_body,
    signed_headers,
)


async def test_a_bad_signature_is_refused(
    chat: Chat, fake_slack: FakeSlack, desk: FakeNewsDesk
) -> None:
    body, _ = command_body(fake_slack, "/summit", "latest")
    status, _, _ = await chat.post(body, signed_headers(body, secret="not-the-secret"))
    assert status == 401
    tampered = body.replace("latest", "search")
    status, _, _ = await chat.post(tampered, signed_headers(body))
    assert status == 401
    status, _, _ = await chat.post(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401
    await asyncio.sleep(0.05)
    assert desk.calls == []


async def test_a_replayed_timestamp_is_refused(
    chat: Chat, fake_slack: FakeSlack, desk: FakeNewsDesk
) -> None:
    body, _ = command_body(fake_slack, "/summit", "latest")
    old = int(time.time()) - 301
    status, _, _ = await chat.post(body, signed_headers(body, timestamp=old))
    assert status == 401
    future = int(time.time()) + 301
    status, _, _ = await chat.post(body, signed_headers(body, timestamp=future))
    assert status == 401
    await asyncio.sleep(0.05)
    assert desk.calls == []


async def test_a_retried_delivery_is_processed_once(
    chat: Chat, fake_slack: FakeSlack, desk: FakeNewsDesk
) -> None:
    body, response_id = command_body(fake_slack, "/feeds", "add https://example.com/rss")
    status, _, _ = await chat.post(body, signed_headers(body))
    assert status == 200
    await fake_slack.wait_responses(response_id)
    retry = {
        **signed_headers(body),
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    status, text, headers = await chat.post(body, retry)
    assert (status, text) == (200, "")
    assert headers.get("x-slack-no-retry") == "1"
    await asyncio.sleep(0.1)
    assert desk.called("add_feed") == [("https://example.com/rss",)]
    assert len(fake_slack.responses[response_id]) == 1


async def test_ack_comes_before_slow_work(
    chat: Chat, fake_slack: FakeSlack, desk: FakeNewsDesk
) -> None:
    desk.gate = asyncio.Event()
    body, response_id = command_body(fake_slack, "/summit", "latest 1")
    started = time.monotonic()
    status, _, _ = await chat.post(body, signed_headers(body))
    assert status == 200
    assert time.monotonic() - started < 1.0
    assert fake_slack.responses.get(response_id) is None  # the core is still working
    desk.gate.set()
    await fake_slack.wait_responses(response_id)


async def test_no_secret_reaches_the_log(
    chat: Chat, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail("users.info", Failure(status=500, error="internal_error"))
    with caplog.at_level(logging.DEBUG):
        await chat("/summit", "latest")
        await chat("/feeds", "add https://example.com/rss")
        body, _ = command_body(fake_slack, "/summit", "latest")
        await chat.post(body, signed_headers(body, secret="wrong"))
    text = caplog.text + "".join(str(record.exc_text or "") for record in caplog.records)
    assert caplog.records
    for secret in (BOT_TOKEN, SIGNING_SECRET):
        assert secret not in text, secret


def test_redact_removes_tokens_and_secret_urls() -> None:
    text = f"token={BOT_TOKEN} app={APP_TOKEN} url=https://hooks.slack.com/commands/T1/2/abc"
    assert redact(text) == (
        "token=<redacted> app=<redacted> url=https://hooks.slack.com/commands/<redacted>"
    )
    body = "text=x&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F2%2Fabc&t=1"
    assert redact(body) == (
        "text=x&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F<redacted>&t=1"
    )
    assert redact("secret=abc", ["abc"]) == "secret=<redacted>"


def test_once_only_forgets_after_its_window() -> None:
    now = [0.0]
    once = OnceOnly(ttl=10, clock=lambda: now[0])
    assert once.first("a")
    assert not once.first("a")
    now[0] = 11
    assert once.first("a")
    assert delivery_id({"event_id": "Ev1", "trigger_id": "t"}) == "event_id:Ev1"
    assert delivery_id({"command": "/x"}) is None


def test_transport_follows_the_settings(desk: FakeNewsDesk) -> None:
    socket = SlackBot(
        SlackSettings(bot_token=SecretStr(BOT_TOKEN), app_token=SecretStr(APP_TOKEN)), desk
    )
    assert socket.socket_mode
    http = SlackBot(
        SlackSettings(bot_token=SecretStr(BOT_TOKEN), signing_secret=SecretStr(SIGNING_SECRET)),
        desk,
    )
    assert not http.socket_mode
    with pytest.raises(ConfigError, match="signing_secret"):
        SlackBot(SlackSettings(bot_token=SecretStr(BOT_TOKEN)), desk)
    with pytest.raises(ConfigError, match="bot_token"):
        SlackBot(SlackSettings(), desk)


def _signature(body: bytes, timestamp: str) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


def _malformed(body: str) -> dict[str, tuple[bytes, dict[str, str], int]]:
    good = signed_headers(body)
    now = str(int(time.time()))
    junk = b"\xff\xfe not utf-8"
    return {
        "timestamp abc": (body.encode(), {**good, "X-Slack-Request-Timestamp": "abc"}, 401),
        "no timestamp": (body.encode(), {"X-Slack-Signature": good["X-Slack-Signature"]}, 401),
        "non-ASCII signature": (
            body.encode(),
            {**good, "X-Slack-Signature": "v0=é" + "0" * 63},
            401,
        ),
        "invalid UTF-8, unsigned": (junk, good, 400),
        "invalid UTF-8, signed": (
            junk,
            {**good, "X-Slack-Request-Timestamp": now, "X-Slack-Signature": _signature(junk, now)},
            400,
        ),
        "JSON content type, form body": (
            body.encode(),
            {**good, "Content-Type": "application/json"},
            400,
        ),
        "JSON content type, bad signature": (
            b"{not json",
            {**good, "Content-Type": "application/json"},
            401,
        ),
    }


async def test_malformed_requests_get_400_or_401_and_one_warning_each(
    chat: Chat, fake_slack: FakeSlack, desk: FakeNewsDesk, caplog: pytest.LogCaptureFixture
) -> None:
    body, _ = command_body(fake_slack, "/summit", "latest")
    for name, (data, headers, expected) in _malformed(body).items():
        caplog.clear()
        with caplog.at_level(logging.INFO):
            async with (
                aiohttp.ClientSession() as http,
                http.post(chat.url, data=data, headers=headers) as response,
            ):
                assert response.status == expected, name
        noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert [r.levelname for r in noisy] == ["WARNING"], (name, noisy)
        assert noisy[0].getMessage().startswith("refused a Slack request"), name
        assert not any(r.exc_info for r in caplog.records), name
    await asyncio.sleep(0.05)
    assert desk.calls == []
    status, _, _ = await chat.post(body, signed_headers(body))
    assert status == 200
