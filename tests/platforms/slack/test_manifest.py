"""The app manifest lists exactly the commands the Bolt app answers, and the scopes it uses."""

from __future__ import annotations

import re
from pathlib import Path

from bot.platforms.slack.commands import USAGE

MANIFEST = Path(__file__).parents[3] / "config" / "slack-manifest.yaml"


def test_manifest_commands_match_the_app() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    commands = re.findall(r"^\s*- command: (/\w+)$", text, re.MULTILINE)
    assert sorted(commands) == sorted(USAGE)


def test_manifest_scopes_cover_what_newsbot_calls() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    scopes = set(re.findall(r"^\s*- ([a-z]+:[a-z]+|commands)\b", text, re.MULTILINE))
    needed = {
        "commands",
        "chat:write",
        "channels:history",
        "groups:history",
        "users:read",
        "usergroups:read",
        "files:write",
    }
    assert needed <= scopes
    assert "chat:write.public" not in text  # posting needs membership: reconcile reads history
    assert "socket_mode_enabled: true" in text
