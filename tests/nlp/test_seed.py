"""The seed story (Yonhap, Hanoi summit, published 2019-02-26) gives exactly the expected facts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.nlp.extract import Article, Extractor, split_title


def test_seed_story(shared_dir: Path) -> None:
    raw = (shared_dir / "corpus" / "seed-yonhap-hanoi.txt").read_text(encoding="utf-8")
    title, body = split_title(raw)
    assert title == "Kim Jong-un arrives in Vietnam for summit with Trump"
    got = Extractor().analyse_one(Article("seed", title, body, date(2019, 2, 26))).to_json()
    assert got["is_summit"] is True
    assert [(p["name"], p["country"]) for p in got["participants"]] == [
        ("Kim Jong-un", "North Korea"),
        ("Donald Trump", "United States"),
    ]
    assert (got["location"]["city"], got["location"]["country"]) == ("Hanoi", "Vietnam")
    assert (got["start_date"], got["end_date"]) == ("2019-02-27", "2019-02-28")
    assert got["status"] == "upcoming"
    assert {"denuclearization", "sanctions"} <= set(got["agenda"])
    assert len(got["quotes"]) == 2
    assert {q["speaker"] for q in got["quotes"]} == {"Donald Trump"}
    assert got["summary"]
