"""The extractor end to end on short texts, the JSON contract, and the command functions."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from bot.nlp.commands import extract_jsonl, extract_text, parse_text_file, render_analysis
from bot.nlp.extract import Analysis, Article, Extractor, split_title, trim

CONTRACT = {
    "id", "is_summit", "score", "reasons", "participants", "location", "start_date", "end_date",
    "status", "agenda", "quotes", "summary",
}  # fmt: skip
SUMMIT_TITLE = "Berg and Dahl meet for summit in Oslo"
SUMMIT_TEXT = (
    "Ruritanian President Anna Berg and Freedonian Prime Minister Carl Dahl will meet in Oslo on "
    "Wednesday and Thursday for a summit on trade and sanctions.\n\n"
    'The two leaders will hold talks. "We want a deal," Berg said on Monday.'
)


@pytest.fixture(scope="session")
def extractor() -> Extractor:
    return Extractor(batch_size=4)


def test_summit_contract(extractor: Extractor) -> None:
    got = extractor.analyse_one(Article("a1", SUMMIT_TITLE, SUMMIT_TEXT, date(2024, 5, 6)))
    out = got.to_json()
    assert set(out) == CONTRACT
    assert set(out["location"]) == {"city", "country", "venue"}
    assert out["is_summit"] is True
    assert 0.5 <= out["score"] <= 1.0
    assert {p["name"] for p in out["participants"]} == {"Anna Berg", "Carl Dahl"}
    assert out["location"]["city"] == "Oslo"
    assert out["location"]["country"] == "Norway"
    assert out["start_date"] == "2024-05-08"
    assert out["end_date"] == "2024-05-09"
    assert out["status"] == "upcoming"
    assert json.loads(json.dumps(out)) == out


def test_non_summit_has_empty_facts(extractor: Extractor) -> None:
    got = extractor.analyse_one(
        Article("n1", "Cinema sales up", "Box office sales rose by 4% last year.", None)
    )
    out = got.to_json()
    assert out["is_summit"] is False
    assert out["reasons"]
    assert out["participants"] == []
    assert out["agenda"] == []
    assert out["quotes"] == []
    assert out["location"] == {"city": None, "country": None, "venue": None}
    assert out["start_date"] is None
    assert out["status"] is None
    assert out["summary"] is None


def test_batch_keeps_order(extractor: Extractor) -> None:
    items = [
        Article("x", "Budget", "Taxes rose.", None),
        Article("y", SUMMIT_TITLE, SUMMIT_TEXT, date(2024, 5, 6)),
        Article("z", "Weather", "Rain.", None),
    ]
    assert [a.id for a in extractor.analyse(items)] == ["x", "y", "z"]


def test_trim_keeps_lead_and_meeting_paragraphs() -> None:
    body = "\n\n".join(["Lead words here."] + ["Filler about weather only. " * 30] * 60)
    body += "\n\nThe summit opens on Monday."
    trimmed = trim(body)
    assert trimmed.startswith("Lead words here.")
    assert len(trimmed.split()) <= 1300
    assert "summit opens" in trimmed


def test_title_skips_page_chrome() -> None:
    assert split_title("Back To Top\n\nLeaders meet in Oslo\n\nBody text.") == (
        "Leaders meet in Oslo",
        "Body text.",
    )
    assert parse_text_file("\n\nTitle\nBody") == ("Title", "Body")


def test_extract_text_and_render(extractor: Extractor) -> None:
    got = extract_text(SUMMIT_TITLE, SUMMIT_TEXT, date(2024, 5, 6), extractor)
    assert isinstance(got, Analysis)
    text = render_analysis(got)
    assert text.startswith("SUMMIT")
    assert "Anna Berg" in text
    assert "Oslo" in text
    assert "why:" in text
    not_summit = extract_text("Rain", "It rained.", None, extractor)
    assert render_analysis(not_summit).startswith("not a summit story")


def test_extract_jsonl_never_aborts(tmp_path: Path, extractor: Extractor) -> None:
    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps(
            {"id": "a", "title": SUMMIT_TITLE, "text": SUMMIT_TEXT, "published": "2024-05-06"}
        ),
        "{not json",
        json.dumps({"id": "b", "title": "T", "text": 5}),
        json.dumps({"id": "c", "title": "T", "text": "x", "published": "yesterday"}),
        json.dumps({"title": "no id", "text": "x"}),
        json.dumps({"id": "d", "title": "Rain", "text": "It rained.", "extra": 1}),
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    seen: list[tuple[int, int]] = []
    n = extract_jsonl(src, out, extractor, lambda done, total: seen.append((done, total)))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert n == len(rows) == len(lines)
    assert rows[0]["id"] == "a"
    assert rows[0]["is_summit"] is True
    assert "error" in rows[1]
    assert rows[1]["id"] is None
    assert rows[2]["id"] == "b"
    assert "error" in rows[2]
    assert rows[3]["id"] == "c"
    assert "error" in rows[3]
    assert "error" in rows[4]
    assert rows[5]["id"] == "d"
    assert rows[5]["is_summit"] is False
    assert "error" not in rows[5]
    assert seen[-1] == (6, 6)


def test_extract_jsonl_to_a_stream(tmp_path: Path, extractor: Extractor) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "r", "title": "Rain", "text": "It rained."}) + "\n")
    sink = io.StringIO()
    assert extract_jsonl(src, None, extractor, out=sink) == 1
    assert json.loads(sink.getvalue())["id"] == "r"


def test_a_failing_fact_leaves_the_others(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(doc: object) -> list[str]:
        raise RuntimeError("boom")

    monkeypatch.setattr("bot.nlp.extract.find_agenda", broken)
    got = extractor.analyse_one(Article("f", SUMMIT_TITLE, SUMMIT_TEXT, date(2024, 5, 6)))
    assert got.is_summit
    assert got.agenda == ()
    assert got.participants
    assert "extracting agenda failed" in caplog.text
