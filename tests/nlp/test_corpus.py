"""Splits never leak a meeting or a source across train and test."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlp.corpus import (
    era,
    kfold,
    leave_one_source_out,
    load_rows,
    old_to_modern,
    source_group,
    splits,
    without_borderline,
)


def _row(i: int, source: str, published: str | None, event: str | None = None) -> dict[str, object]:
    return {
        "id": f"r{i}",
        "source": source,
        "published": published,
        "is_summit": event is not None,
        "event": event,
        "borderline": i == 3,
    }


ROWS = [
    _row(0, "CNN (scrape)", "2018-06-12", "singapore-2018"),
    _row(1, "Reuters (ISOT)", "2018-06-11", "singapore-2018"),
    _row(2, "BBC News (2006)", None),
    _row(3, "The White House (briefing room)", "2023-05-01", "g7-2023"),
    _row(4, "Yonhap News Agency (via Naver)", "2025-10-29", "apec-2025"),
    _row(5, "The Korea Herald (via Naver)", "2025-10-30", "apec-2025"),
    _row(6, "Wikinews", "2019-08-24", "g7-2019"),
    _row(7, "CNN (scrape)", "2017-01-01"),
    _row(8, "CNN (scrape)", "2016-01-01"),
    _row(9, "Reuters (ISOT)", "2017-03-01"),
]


def test_source_groups_and_eras() -> None:
    assert [source_group(r) for r in ROWS[:7]] == [
        "CNN", "Reuters", "BBC", "White House", "Korean news", "Korean news", "Wikinews",
    ]  # fmt: skip
    assert source_group({"source": "Le Monde"}) == "other"
    assert [era(r) for r in ROWS[:5]] == ["old", "old", "old", "modern", "modern"]


def test_kfold_keeps_a_meeting_in_one_fold_and_covers_every_row() -> None:
    folds = kfold(ROWS, k=3)
    tested = sorted(i for split in folds for i in split.test)
    assert tested == list(range(len(ROWS)))
    for split in folds:
        assert not set(split.train) & set(split.test)
        for pair in ((0, 1), (4, 5)):
            assert (pair[0] in split.test) == (pair[1] in split.test)
    assert kfold(ROWS, k=3) == folds


def test_leave_one_source_out_never_trains_on_the_tested_outlet() -> None:
    for split in leave_one_source_out(ROWS):
        tested = {source_group(ROWS[i]) for i in split.test}
        assert len(tested) == 1
        assert tested.isdisjoint(source_group(ROWS[i]) for i in split.train)
    assert [s.name for s in leave_one_source_out(ROWS)][-1] == "without Korean news"


def test_old_to_modern_and_borderline() -> None:
    (split,) = old_to_modern(ROWS)
    assert set(split.test) == {3, 4, 5}
    assert without_borderline(ROWS, split.test) == (4, 5)
    with pytest.raises(ValueError, match="unknown split scheme"):
        splits(ROWS, "random")


def test_the_shared_corpus_splits_by_outlet_and_era(shared_dir: Path) -> None:
    corpus = shared_dir / "corpus"
    rows = load_rows(
        [
            corpus / "train" / "stream.jsonl",
            corpus / "train" / "modern.jsonl",
            corpus / "dev" / "dev.jsonl",
        ]
    )
    assert len(rows) == 599
    assert {s.name for s in splits(rows, "source")} == {
        "without CNN", "without BBC", "without Reuters", "without Wikinews",
        "without White House", "without Korean news",
    }  # fmt: skip
    assert len(old_to_modern(rows)[0].test) == 154
