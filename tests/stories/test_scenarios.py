"""Real corpus articles replayed through the real extractor and stories (read from ../shared).

Hanoi (CNN's preview placed in Singapore, then Yonhap), Manila (arrival, then the end of the
summit) and four G7 Biarritz reports: each is one story, later reports are updates, and every
update's changes agree with the facts the story shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.nlp.extract import Article, Extractor
from bot.stories.replay import read_items, replay

SCENARIOS = {
    "hanoi": ("cnnbrexit-225", "yonhap-hanoi"),
    "manila": ("reuters2017-679", "reuters2017-648"),
    "biarritz": ("cnnbrexit-14", "wikinews2019-89", "cnnbrexit-13", "cnnbrexit-11"),
}


# The learned summit model (issue 9, refit in 16d298b) scores CNN's opinion preview of Hanoi
# ("Trump and Kim: an opportunity for peace or high-stakes ego trip?") 0.38, under its 0.425
# threshold, so that report is not filed: a known miss, kept visible (strict: the mark fails
# once the extractor files it again). The model before it missed Wikinews' Biarritz report.
EXTRACTOR_MISSES = {
    "hanoi": "the learned summit model does not file CNN's 26 Feb 2019 opinion preview of Hanoi"
}


def scenario_params() -> list[Any]:
    """Each scenario, the ones the extractor is known to miss marked as expected failures."""
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=EXTRACTOR_MISSES[name]))
        if name in EXTRACTOR_MISSES
        else name
        for name in sorted(SCENARIOS)
    ]


def corpus_lines(shared: Path) -> list[str]:
    wanted = {i for ids in SCENARIOS.values() for i in ids}
    found: dict[str, str] = {}
    corpus = shared / "corpus"
    for path in [*sorted((corpus / "stream").glob("*.jsonl")), corpus / "dev" / "dev.jsonl"]:
        for raw in path.read_text(encoding="utf-8").splitlines():
            data = json.loads(raw)
            if data["id"] in wanted and data["id"] not in found:
                keep = ("id", "title", "text", "published", "source")
                found[data["id"]] = json.dumps({key: data.get(key) for key in keep})
    seed = (corpus / "seed-yonhap-hanoi.txt").read_text(encoding="utf-8").split("\n")
    found["yonhap-hanoi"] = json.dumps(
        {
            "id": "yonhap-hanoi",
            "title": seed[2],
            "text": "\n".join(seed[4:]),
            "published": "2019-02-26",
            "source": "Yonhap",
        }
    )
    assert set(found) == wanted | {"yonhap-hanoi"}
    return list(found.values())


@pytest.fixture(scope="module")
def replayed(shared_dir: Path) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    import asyncio

    extractor = Extractor()

    def analyse(articles: Any) -> list[dict[str, Any]]:
        return [a.to_json() for a in extractor.analyse([Article(*x) for x in articles])]

    lines, stories = asyncio.run(replay(read_items(corpus_lines(shared_dir)), analyse))
    return {line["id"]: line for line in lines}, stories


@pytest.mark.parametrize("name", scenario_params())
def test_each_scenario_is_one_story_with_updates(
    name: str, replayed: tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]
) -> None:
    lines, stories = replayed
    ids = SCENARIOS[name]
    story_ids = {lines[i]["story"] for i in ids}
    assert None not in story_ids, [lines[i] for i in ids]
    assert len(story_ids) == 1, [lines[i] for i in ids]
    opening = min(ids, key=lambda i: list(lines).index(i))
    assert lines[opening]["event"] == "new"
    assert all(lines[i]["event"] in ("update", "none") for i in ids if i != opening)
    assert any(lines[i]["event"] == "update" for i in ids)
    (story,) = [s for s in stories if s["story_id"] in story_ids]
    assert sorted(story["sources"]) == sorted(ids)


def test_every_change_agrees_with_the_facts_shown(
    replayed: tuple[dict[str, dict[str, Any]], list[dict[str, Any]]],
) -> None:
    _, stories = replayed
    for story in stories:
        facts = story["facts"]
        shown = {
            "participants": ", ".join(p["name"] for p in facts["participants"]) or None,
            **{key: facts["location"][key] for key in ("city", "country", "venue")},
            "start_date": facts["start_date"],
            "end_date": facts["end_date"],
            "status": facts["status"],
        }
        latest = {change["field"]: change["new"] for change in story["changes"]}
        for field, value in latest.items():
            assert value == shown[field], (story["title"], field)
        for change in story["changes"]:
            assert change["old"] != change["new"]
