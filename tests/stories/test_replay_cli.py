"""`newsbot replay --jsonl IN [--out OUT]` in-process: the contract lines, then the stories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import Settings

ITEMS = [
    {
        "id": "later",
        "title": "Busan summit moved to Saturday",
        "text": "The summit between South Korean President Lee Jae-myung and Japanese Prime "
        "Minister Shigeru Ishiba will now be held in Busan on Saturday, officials said.",
        "published": "2026-11-24T19:00:00+00:00",
        "source": "Kyodo",
    },
    {
        "id": "first",
        "title": "Leaders of South Korea and Japan to hold summit in Busan",
        "text": "South Korean President Lee Jae-myung and Japanese Prime Minister Shigeru Ishiba "
        "will hold a summit in Busan on Friday, the presidential office said on Tuesday.",
        "published": "2026-11-24T09:00:00+00:00",
        "source": "Yonhap",
    },
    {"id": "cake", "title": "Best cake recipes", "text": "Flour and sugar.", "published": None},
]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(Settings, "secrets_path", None)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_replay_writes_one_line_per_item_then_the_stories(cli: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(item) + "\n" for item in ITEMS), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = cli.invoke(app, ["replay", "--jsonl", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 3 item(s) and 1 story(ies)" in result.output
    *lines, last = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["cake", "first", "later"], "undated first"
    cake, first, later = lines
    assert cake == {"id": "cake", "story": None, "event": "none", "changed": []}
    assert first["event"] == "new"
    assert later["story"] == first["story"]
    assert later["event"] == "update"
    assert "start_date" in later["changed"]
    (story,) = last["stories"]
    assert story["sources"] == ["first", "later"]
    assert story["facts"]["start_date"] == "2026-11-28"


def test_replay_refuses_a_bad_file_with_the_line(cli: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "title": "x"}\n{"title": "no id"}\n', encoding="utf-8")
    result = cli.invoke(app, ["replay", "--jsonl", str(source)])
    assert result.exit_code == 2
    assert "line 2" in result.output
