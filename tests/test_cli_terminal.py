"""The terminal as a destination: stories, digest and upcoming from a real store, text and JSON;
and the start-up cost of the CLI (heavy libraries only in the commands that need them)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import Settings
from bot.storage.newsdesk import Repositories
from bot.storage.store import Store
from bot.stories.cluster import report_from_item
from bot.stories.sink import StorySink
from tests.fakes import FakeClock
from tests.stories.helpers import KIM, TRUMP, Newsroom, analysis

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("spacy", "discord", "slack_bolt", "slack_sdk", "aiohttp", "trafilatura", "sqlalchemy")


async def seed(url: str) -> None:
    """Two stories: one concluded in 2019, one ahead of us (dates relative to today)."""
    store = await Store.open(url)
    try:
        now = datetime.now(UTC) - timedelta(hours=1)
        room = Newsroom(store)
        stories = Repositories.over(store.engine).stories
        ahead = (now + timedelta(days=10)).date().isoformat()
        hanoi = await room.item(
            "yonhap.example",
            "Trump and Kim to meet in Hanoi",
            analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start=ahead, end=ahead),
            now - timedelta(days=1),
            summary="The two leaders will hold a second summit in Hanoi.",
        )
        singapore = await room.item(
            "wire.example",
            "Leaders met in Singapore",
            analysis(TRUMP, KIM, city="Singapore", start="2018-06-12", status="concluded"),
            now - timedelta(days=30),
        )
        for item, seen in ((hanoi, now), (singapore, now - timedelta(days=30))):
            await StorySink(stories, clock=FakeClock(seen)).add(report_from_item(item))
    finally:
        await store.close()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(Settings, "secrets_path", None)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'terminal.db'}"
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", url)
    asyncio.run(seed(url))
    return CliRunner()


def invoke(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_stories_list_search_show(cli: CliRunner) -> None:
    listed = invoke(cli, "stories", "list")
    assert "Trump and Kim to meet in Hanoi" in listed
    assert "Hanoi, Vietnam" in listed
    assert "Leaders met in Singapore" in listed
    found = invoke(cli, "stories", "search", "hanoi")
    assert "Hanoi" in found
    assert "Singapore" not in found
    story_id = json.loads(invoke(cli, "stories", "search", "hanoi", "--json"))[0]["id"]
    shown = invoke(cli, "stories", "show", str(story_id))
    assert shown.startswith(f"#{story_id} Trump and Kim to meet in Hanoi")
    assert "sources (1):" in shown
    assert "yonhap.example" in shown
    assert "second summit in Hanoi" in shown
    data = json.loads(invoke(cli, "stories", "show", str(story_id), "--json"))
    assert data["facts"]["location"]["city"] == "Hanoi"
    assert data["sources"][0]["outlet"] == "yonhap.example"


def test_an_unknown_story_is_one_line(cli: CliRunner) -> None:
    result = cli.invoke(app, ["stories", "show", "999"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ")


def test_digest_window(cli: CliRunner) -> None:
    recent = invoke(cli, "digest", "--since", "7d")
    assert "Trump and Kim to meet in Hanoi" in recent
    assert "Singapore" not in recent
    wide = json.loads(invoke(cli, "digest", "--since", "2000-01-01", "--json"))
    assert {story["title"] for story in wide["stories"]} == {
        "Trump and Kim to meet in Hanoi",
        "Leaders met in Singapore",
    }
    bad = cli.invoke(app, ["digest", "--since", "last week"])
    assert bad.exit_code == 2
    assert "--since must be like 3d" in bad.stderr


def test_upcoming_with_an_ics_file(cli: CliRunner, tmp_path: Path) -> None:
    ics = tmp_path / "summits.ics"
    text = invoke(cli, "upcoming", "--ics", str(ics))
    assert "Trump and Kim to meet in Hanoi" in text
    assert "Singapore" not in text
    calendar = ics.read_text(encoding="utf-8")
    assert "BEGIN:VCALENDAR" in calendar
    assert "Hanoi" in calendar
    data = json.loads(invoke(cli, "upcoming", "--json"))
    assert [story["title"] for story in data] == ["Trump and Kim to meet in Hanoi"]


def test_importing_the_cli_imports_no_heavy_library() -> None:
    code = f"import sys, bot.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["--help"], ()),
        (["--version"], ()),
        (["check-config"], ()),
        (["feeds", "list"], ()),
        (["feeds", "export"], ()),
    ],
)
async def test_quick_commands_import_only_what_they_use(
    tmp_path: Path, args: list[str], allowed: tuple[str, ...]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'quick.db'}"
    await (await Store.open(url)).close()
    code = (
        "import sys, runpy; sys.argv = ['newsbot', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules])"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "NEWSBOT_DATABASE_URL": url,
    }
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    loaded = result.stdout.rsplit("LOADED", 1)[-1].strip()
    assert set(json.loads(loaded.replace("'", '"'))) <= set(allowed), result.stdout + result.stderr
