"""Labelled corpora and the splits that keep evaluation honest.

Every learned part of the extractor is trained on one part of a split and scored on the other:
k folds grouped by meeting (two reports of one summit never straddle a fold), leave one source
out, and old → modern. A split's test part is never used for tuning.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Row = dict[str, Any]

# Source strings carry their dataset's provenance; the group is the outlet a reader would name.
_SOURCE_GROUPS = (
    ("CNN", "CNN"),
    ("BBC", "BBC"),
    ("Reuters", "Reuters"),
    ("Wikinews", "Wikinews"),
    ("White House", "White House"),
    ("Yonhap", "Korean news"),
    ("Korea Herald", "Korean news"),
    ("JoongAng", "Korean news"),
    ("KBS", "Korean news"),
)
SOURCE_GROUPS = tuple(dict.fromkeys(group for _, group in _SOURCE_GROUPS))
MODERN_FROM_YEAR = 2021
SCHEMES = ("kfold", "source", "era")


@dataclass(frozen=True)
class Split:
    """One train/test division of a list of rows, by row index."""

    name: str
    train: tuple[int, ...]
    test: tuple[int, ...]


def load_rows(paths: Iterable[Path]) -> list[Row]:
    """Every labelled row of the given JSON-lines files, in file order."""
    rows: list[Row] = []
    for path in paths:
        with path.open(encoding="utf-8") as lines:
            rows += [json.loads(line) for line in lines if line.strip()]
    return rows


def source_group(row: Row) -> str:
    """The outlet a row comes from (``"other"`` when its source names none we know)."""
    source = str(row.get("source") or "")
    return next((group for key, group in _SOURCE_GROUPS if key in source), "other")


def era(row: Row) -> str:
    """``"modern"`` from 2021 on, else ``"old"``; undated rows (BBC 2004–2005) are old."""
    published = str(row.get("published") or "")
    return "modern" if published[:4].isdigit() and int(published[:4]) >= MODERN_FROM_YEAR else "old"


def _group_key(index: int, row: Row) -> str:
    event = row.get("event")
    return f"event:{event}" if row.get("is_summit") and event else f"row:{index}"


def kfold(rows: Sequence[Row], k: int = 5, seed: int = 13) -> list[Split]:
    """``k`` folds, reports of one meeting kept together, summit items spread evenly (seeded)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        groups[_group_key(index, row)].append(index)
    order = sorted(groups.values(), key=lambda members: (-len(members), members[0]))
    random.Random(seed).shuffle(order)
    order.sort(key=len, reverse=True)
    folds: list[list[int]] = [[] for _ in range(k)]
    summits = [0] * k
    for members in order:
        weight = sum(bool(rows[i].get("is_summit")) for i in members)
        target = min(range(k), key=lambda f: (summits[f] + weight, len(folds[f])))
        folds[target] += members
        summits[target] += weight
    everyone = set(range(len(rows)))
    return [
        Split(f"fold {n + 1}/{k}", tuple(sorted(everyone - set(fold))), tuple(sorted(fold)))
        for n, fold in enumerate(folds)
    ]


def leave_one_source_out(rows: Sequence[Row]) -> list[Split]:
    """One split per outlet: train on every other outlet, test on this one."""
    by_group: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_group[source_group(row)].append(index)
    return [
        Split(
            f"without {group}",
            tuple(i for i in range(len(rows)) if source_group(rows[i]) != group),
            tuple(by_group[group]),
        )
        for group in (*SOURCE_GROUPS, "other")
        if by_group.get(group)
    ]


def old_to_modern(rows: Sequence[Row]) -> list[Split]:
    """Train on 2004–2020, test on 2021 onwards: does it generalise to leaders it never saw?"""
    old = tuple(i for i, row in enumerate(rows) if era(row) == "old")
    modern = tuple(i for i, row in enumerate(rows) if era(row) == "modern")
    return [Split("old → modern", old, modern)] if old and modern else []


def splits(rows: Sequence[Row], scheme: str, seed: int = 13) -> list[Split]:
    """The splits of one scheme: ``kfold``, ``source`` (leave one out) or ``era``."""
    if scheme == "kfold":
        return kfold(rows, seed=seed)
    if scheme == "source":
        return leave_one_source_out(rows)
    if scheme == "era":
        return old_to_modern(rows)
    raise ValueError(f"unknown split scheme {scheme!r}: choose one of {', '.join(SCHEMES)}")


def without_borderline(rows: Sequence[Row], indices: Iterable[int]) -> tuple[int, ...]:
    """The indices whose label no careful reader would dispute."""
    return tuple(i for i in indices if not rows[i].get("borderline"))
