"""RELIABILITY F4: the platform scenarios at DEBUG leak no token into logs or replies.

A child pytest runs the Discord and Slack suites and the chat end-to-end test with every logger
at DEBUG through newsbot's own handler (``tests/ops/sweep_plugin.py``). discord.py then logs
webhook, interaction callback and follow-up URLs, the fakes answer some requests with errors,
and Slack posts go through the Web API: none of the test secrets may reach the log or a body
sent to a user.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.platforms.discord import fake as discord_fake
from tests.platforms.slack import fake as slack_fake

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ["tests/platforms", "tests/test_chat_e2e.py"]
PYTEST_FLAGS = ["-p", "no:cacheprovider", "-p", "tests.ops.sweep_plugin", "--log-level=DEBUG"]
SECRETS = {
    "Discord bot token": discord_fake.BOT_TOKEN,
    "Slack bot token": slack_fake.BOT_TOKEN,
    "Slack app token": slack_fake.APP_TOKEN,
    "Slack signing secret": slack_fake.SIGNING_SECRET,
}


@pytest.mark.slow
# A nested pytest over the platform suites: 50 s at load 4.5, over 120 s at load 12.
@pytest.mark.timeout(900)
def test_platform_scenarios_at_debug_log_and_reply_no_secret(tmp_path: Path) -> None:
    log = tmp_path / "debug.log"
    bodies = tmp_path / "bodies.jsonl"
    scenarios = [path for path in SCENARIOS if (ROOT / path).exists()]
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *PYTEST_FLAGS, *scenarios],
        cwd=ROOT,
        env={**os.environ, "NEWSBOT_SWEEP_LOG": str(log), "NEWSBOT_SWEEP_BODIES": str(bodies)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert child.returncode == 0, child.stdout[-4000:] + child.stderr[-2000:]
    logged = log.read_text(encoding="utf-8")
    sent = bodies.read_text(encoding="utf-8")

    # the dangerous lines really happened, and were redacted
    assert "DEBUG" in logged
    assert "discord.webhook" in logged or "/webhooks/" in logged, "no webhook traffic logged"
    assert "/interactions/" in logged, "no interaction callback logged"
    assert "<redacted>" in logged
    for name, secret in SECRETS.items():
        assert secret not in logged, f"{name} in the DEBUG log"
        assert secret not in sent, f"{name} in a body sent to a chat platform"
        assert secret not in child.stdout + child.stderr, f"{name} in pytest's output"
    assert discord_fake.INTERACTION_TOKEN_PREFIX not in logged, "an interaction token was logged"


def test_a_database_password_reaches_neither_log_nor_error(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: the connection is refused
    password = "S3cret-" + os.urandom(4).hex()
    url = f"postgresql+asyncpg://newsbot:{password}@127.0.0.1:{port}/newsbot"
    env = {**os.environ, "NEWSBOT_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    for command in (["feeds", "list"], ["check-config"]):
        result = subprocess.run(
            [sys.executable, "-m", "bot", "--log-level", "DEBUG", *command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert password not in result.stdout + result.stderr, command
