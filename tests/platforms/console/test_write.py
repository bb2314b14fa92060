"""Terminal blocks go out whole: one ``os.write`` each, nothing left in Python's buffer."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.models import NewItem
from bot.platforms.console.sink import ConsoleSink
from bot.platforms.console.terminal import Terminal

WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def item(number: int, title: str) -> NewItem:
    return NewItem(
        id=number,
        feed_id=1,
        feed_url="https://wire.example/feed",
        feed_title="Wire",
        title=title,
        link=f"https://wire.example/{number}",
        summary="Ministers met at the town hall. " * 12,
        published=WHEN,
        first_seen=WHEN,
        pending=True,
    )


async def test_each_block_is_one_write_and_already_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.txt"
    writes: list[bytes] = []
    real_write = os.write

    def counting(descriptor: int, data: bytes) -> int:
        writes.append(bytes(data))
        return real_write(descriptor, data)

    monkeypatch.setattr(os, "write", counting)
    with path.open("w", encoding="utf-8") as stream:  # block-buffered, like a piped stdout
        sink = ConsoleSink(Terminal(stream), width=60, show_all=True)
        await sink.publish([item(1, "Council approves budget"), item(2, "Bridge reopens")])
        on_disk = path.read_text(encoding="utf-8")  # before the stream is closed or flushed
    assert len(writes) == 2
    assert [w.decode() for w in writes] == [
        sink.render(item(1, "Council approves budget")),
        sink.render(item(2, "Bridge reopens")),
    ]
    assert on_disk == "".join(w.decode() for w in writes)


def test_a_partial_write_is_finished(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A pipe may take part of a large block; the rest follows, nothing is dropped."""
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data)[:7]))
    path = tmp_path / "out.txt"
    with path.open("w", encoding="utf-8") as stream:
        Terminal(stream).write("── a block of text longer than seven bytes\n\n")
    assert path.read_text(encoding="utf-8") == "── a block of text longer than seven bytes\n\n"
