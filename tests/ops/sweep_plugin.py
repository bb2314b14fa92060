"""pytest plugin for the F4 sweep: DEBUG logs through newsbot's handler, fakes' bodies kept.

Loaded with ``-p tests.ops.sweep_plugin`` by ``test_redaction.py`` in a child pytest. It logs
everything at DEBUG through ``configure_logging`` (as ``newsbot run`` does, with the configured
secrets), and writes every request body the fake Discord and Slack received (what users see).
"""

from __future__ import annotations

import json
import logging
import os
from typing import IO, Any

import pytest

from bot.ops.logs import configure_logging
from tests.platforms.discord import fake as discord_fake
from tests.platforms.slack import fake as slack_fake

CONFIGURED = [discord_fake.BOT_TOKEN, slack_fake.BOT_TOKEN, slack_fake.APP_TOKEN]
CONFIGURED.append(slack_fake.SIGNING_SECRET)
_fakes: list[Any] = []
_streams: list[IO[str]] = []


def _remember(cls: type[Any]) -> None:
    original = cls.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _fakes.append(self)

    cls.__init__ = init


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get("NEWSBOT_SWEEP_LOG")
    if not path:
        return
    stream = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the whole session
    _streams.append(stream)
    configure_logging("DEBUG", secrets=CONFIGURED, stream=stream)
    _remember(discord_fake.FakeDiscord)
    _remember(slack_fake.FakeSlack)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # pytest resets the root level per test; the sweep wants everything.
    logging.getLogger().setLevel(logging.DEBUG)


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get("NEWSBOT_SWEEP_BODIES")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            for fake in _fakes:
                for call in fake.calls:
                    body = getattr(call, "body", None)
                    if body is None:
                        body = getattr(call, "params", None)
                    out.write(json.dumps(body, default=repr) + "\n")
    for stream in _streams:
        stream.flush()
