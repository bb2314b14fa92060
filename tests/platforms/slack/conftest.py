"""Fixtures: a fake Slack on 127.0.0.1, a NewsDesk, and the real Bolt app serving HTTP mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.platforms.slack.app import SlackBot
from bot.settings import SlackSettings
from tests.platforms.slack.desk import FakeNewsDesk
from tests.platforms.slack.fake import (
    ADMIN,
    ADMIN_GROUP_HANDLE,
    BOT_TOKEN,
    CHANNEL_ID,
    SIGNING_SECRET,
    FakeSlack,
    command_body,
    running_fake_slack,
    signed_headers,
)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack Web API and response_url on a free loopback port."""
    async with running_fake_slack() as fake:
        yield fake


@pytest.fixture
def desk() -> FakeNewsDesk:
    """An in-memory NewsDesk with two stories and one feed."""
    return FakeNewsDesk()


@pytest.fixture
def slack_settings() -> SlackSettings:
    """HTTP mode: a bot token and a signing secret, no app token."""
    return SlackSettings(bot_token=SecretStr(BOT_TOKEN), signing_secret=SecretStr(SIGNING_SECRET))


@pytest.fixture
async def slack_bot(
    fake_slack: FakeSlack, desk: FakeNewsDesk, slack_settings: SlackSettings
) -> AsyncIterator[SlackBot]:
    """The real SlackBot serving HTTP mode on 127.0.0.1 through ``serve``."""
    bot = SlackBot(
        slack_settings,
        desk,
        admin_group=ADMIN_GROUP_HANDLE,
        http_host="127.0.0.1",
        http_port=0,
        base_url=fake_slack.base + "/api/",
    )
    stop = asyncio.Event()
    task = asyncio.create_task(bot.serve(stop))
    for _ in range(200):
        if bot.port:
            break
        await asyncio.sleep(0.005)
    assert bot.port, "the Slack HTTP endpoint did not start"
    yield bot
    stop.set()
    await asyncio.wait_for(task, 5)


@dataclass
class Answer:
    """What one slash command produced: the HTTP ack and what went to its response_url."""

    status: int
    ack: str
    headers: dict[str, str]
    responses: list[dict[str, Any]]

    @property
    def response(self) -> dict[str, Any]:
        (only,) = self.responses
        return only

    @property
    def text(self) -> str:
        """Every text of every response, joined (for asserting on wording)."""
        parts = []
        for response in self.responses:
            parts.append(str(response.get("text", "")))
            for block in response.get("blocks") or []:
                for key in ("text",):
                    if isinstance(block.get(key), dict):
                        parts.append(block[key]["text"])
                for item in (block.get("fields") or []) + (block.get("elements") or []):
                    parts.append(str(item.get("text", "")))
        return "\n".join(parts)


class Chat:
    """Types slash commands into the real Bolt app over signed HTTP."""

    def __init__(self, bot: SlackBot, fake: FakeSlack) -> None:
        self.bot = bot
        self.fake = fake
        self.url = f"http://127.0.0.1:{bot.port}/slack/events"

    async def post(self, body: str, headers: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url, data=body.encode(), headers=headers) as response,
        ):
            headers = {key.lower(): value for key, value in response.headers.items()}
            return response.status, await response.text(), headers

    async def __call__(
        self,
        command: str,
        text: str = "",
        *,
        user: str = ADMIN,
        channel: str = CHANNEL_ID,
        responses: int = 1,
    ) -> Answer:
        body, response_id = command_body(self.fake, command, text, user=user, channel=channel)
        status, ack, headers = await self.post(body, signed_headers(body))
        assert status == 200, ack
        await self.fake.wait_responses(response_id, responses)
        return Answer(status, ack, headers, self.fake.responses[response_id])


@pytest.fixture
def chat(slack_bot: SlackBot, fake_slack: FakeSlack) -> Chat:
    return Chat(slack_bot, fake_slack)
