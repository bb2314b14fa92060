"""Socket Mode end to end: the real ``SlackBot.serve`` against the fake Slack's websocket.

The app token is set, so ``serve`` asks ``apps.connections.open`` for a URL, connects to the
fake's websocket on 127.0.0.1, gets ``hello``, and answers the envelopes the fake pushes:
acked over the websocket within Slack's 3 seconds, answered on the command's response_url.
Every wait is bounded; nothing leaves the loopback interface.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from bot.platforms.slack.app import SlackBot
from bot.settings import SlackSettings
from tests.platforms.slack.desk import FakeNewsDesk
from tests.platforms.slack.fake import (
    APP_TOKEN,
    BOT_TOKEN,
    FakeSlack,
    command_envelope,
)

ACK_WITHIN = 3.0  # Slack's window for acknowledging an envelope
STOP_WITHIN = 5.0


@dataclass
class Serving:
    """The real SlackBot in Socket Mode, serving in a task until ``stop`` is set."""

    bot: SlackBot
    stop: asyncio.Event
    task: asyncio.Task[None]


@pytest.fixture
async def serving(fake_slack: FakeSlack, desk: FakeNewsDesk) -> AsyncIterator[Serving]:
    settings = SlackSettings(bot_token=SecretStr(BOT_TOKEN), app_token=SecretStr(APP_TOKEN))
    bot = SlackBot(settings, desk, base_url=fake_slack.base + "/api/")
    assert bot.socket_mode
    stop = asyncio.Event()
    task = asyncio.create_task(bot.serve(stop))
    try:
        await fake_slack.wait_socket()
    except TimeoutError:
        task.cancel()
        raise
    yield Serving(bot, stop, task)
    stop.set()
    await asyncio.wait_for(task, STOP_WITHIN)
    await fake_slack.wait_sockets_closed(timeout=STOP_WITHIN)


async def test_serve_connects_acks_and_answers_a_command_then_stops(
    serving: Serving, fake_slack: FakeSlack, desk: FakeNewsDesk
) -> None:
    # The URL came from apps.connections.open, asked with the app-level token.
    (opened,) = fake_slack.called("apps.connections.open")
    assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    assert fake_slack.tickets == set()  # the one ticket issued was used to connect
    assert len(fake_slack.open_sockets) == 1
    assert fake_slack.sent[0]["type"] == "hello"

    envelope, response_id = command_envelope(fake_slack, "/summit", "latest")
    started = time.monotonic()
    await fake_slack.deliver(envelope)
    acks = await fake_slack.wait_ack(envelope["envelope_id"], timeout=ACK_WITHIN)
    assert time.monotonic() - started < ACK_WITHIN
    # An empty ack: the answer goes to the response_url, not into the ack.
    assert acks == [{"envelope_id": envelope["envelope_id"]}]

    await fake_slack.wait_responses(response_id)
    (answer,) = fake_slack.responses[response_id]
    assert answer["response_type"] == "in_channel"
    text = str(answer)
    for story in desk.stories:
        assert story.title in text
    assert desk.called("latest") == [(5,)]
    # The client pinged on connecting (slack_sdk's own ping-pong) and the fake answered.
    assert any(ping.startswith(b"sdk-ping-pong:") for ping in fake_slack.pings)

    serving.stop.set()
    started = time.monotonic()
    await asyncio.wait_for(serving.task, STOP_WITHIN)
    assert serving.task.exception() is None
    await fake_slack.wait_sockets_closed(timeout=STOP_WITHIN)
    assert time.monotonic() - started < STOP_WITHIN
    assert len(fake_slack.called("apps.connections.open")) == 1  # no reconnect on the way out


async def test_a_retried_envelope_is_processed_once(
    serving: Serving, fake_slack: FakeSlack, desk: FakeNewsDesk
) -> None:
    envelope, response_id = command_envelope(fake_slack, "/feeds", "add https://example.com/rss")
    await fake_slack.deliver(envelope)
    await fake_slack.wait_ack(envelope["envelope_id"], timeout=ACK_WITHIN)
    await fake_slack.wait_responses(response_id)

    # Slack sends the same envelope again when it thinks the ack was lost.
    retry = {**envelope, "retry_attempt": 1, "retry_reason": "timeout"}
    await fake_slack.deliver(retry)
    acks = await fake_slack.wait_ack(envelope["envelope_id"], count=2, timeout=ACK_WITHIN)
    assert acks[1] == {"envelope_id": envelope["envelope_id"]}  # acked, so Slack stops retrying

    await asyncio.sleep(0.2)  # room for a wrongly repeated command to reach the desk
    assert desk.called("add_feed") == [("https://example.com/rss",)]
    assert len(fake_slack.responses[response_id]) == 1


async def test_no_token_reaches_the_log_in_socket_mode(
    fake_slack: FakeSlack, desk: FakeNewsDesk, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        settings = SlackSettings(bot_token=SecretStr(BOT_TOKEN), app_token=SecretStr(APP_TOKEN))
        bot = SlackBot(settings, desk, base_url=fake_slack.base + "/api/")
        stop = asyncio.Event()
        task = asyncio.create_task(bot.serve(stop))
        try:
            await fake_slack.wait_socket()
            envelope, response_id = command_envelope(fake_slack, "/summit", "latest 1")
            await fake_slack.deliver(envelope)
            await fake_slack.wait_ack(envelope["envelope_id"], timeout=ACK_WITHIN)
            await fake_slack.wait_responses(response_id)
        finally:
            stop.set()
            await asyncio.wait_for(task, STOP_WITHIN)
    await fake_slack.wait_sockets_closed(timeout=STOP_WITHIN)
    text = caplog.text + "".join(str(record.exc_text or "") for record in caplog.records)
    assert caplog.records
    for secret in (APP_TOKEN, BOT_TOKEN):
        assert secret not in text, secret
