"""The terminal sink: the embedded default when no chat platform is configured."""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import TextIO

from bot.core.models import FeedInfo, NewItem

# C0/C1 control characters (ANSI escapes included) must never reach the terminal from a feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Feed text made safe to print: no control characters or escape sequences."""
    return _CONTROL.sub("", text)


def write_block(stream: TextIO, block: str) -> None:
    """Write one block straight to the stream's file with one ``os.write``.

    Python's buffer would hold part of a block when the process is killed; a single write
    (atomic on a pipe up to 4 KB) leaves the block either out in full or not at all.
    Streams without a file (tests' StringIO) get an ordinary write.
    """
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        stream.write(block)
        stream.flush()
        return
    stream.flush()
    data = memoryview(block.encode(stream.encoding or "utf-8", errors="replace"))
    while data:
        data = data[os.write(descriptor, data) :]


class ConsoleSink:
    """Prints feed health notices, and with ``show_all`` every item that is not a summit story.

    Summit stories reach the terminal as story alerts and digests (``ConsoleNotifier``), so
    reports of the same summit from several outlets print once, with their merged facts.
    """

    def __init__(
        self, stream: TextIO | None = None, width: int | None = None, *, show_all: bool = False
    ) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._width = width or min(shutil.get_terminal_size((100, 20)).columns, 100)
        self._show_all = show_all

    async def publish(self, items: Sequence[NewItem]) -> None:
        """With ``show_all``, print each item the extractor did not judge a summit story."""
        if not self._show_all:
            return
        for item in items:
            if not item.is_summit:
                write_block(self._stream, self.render(item))

    async def feed_disabled(self, feed: FeedInfo) -> None:
        """Tell the operator once that a feed was switched off, and how to turn it back on."""
        reason = clean(feed.disabled_reason or "")
        write_block(
            self._stream,
            f"! feed {feed.id} ({clean(feed.url)}) was disabled: {reason}\n"
            f"  re-enable it with: newsbot feeds enable {feed.id}\n\n",
        )

    def render(self, item: NewItem) -> str:
        """One block: source and time, title, link, a few lines of summary."""
        when = (item.published or item.first_seen).strftime("%Y-%m-%d %H:%M UTC")
        source = clean(item.feed_title or item.feed_url)
        header = f"── {source} · {when} "
        lines = [header + "─" * max(self._width - len(header), 3), clean(item.title)]
        if item.link:
            lines.append(clean(item.link))
        summary = clean(item.summary).strip()
        if summary:
            wrapped = textwrap.wrap(summary, width=self._width, max_lines=3, placeholder=" …")
            lines.extend(wrapped)
        return "\n".join(lines) + "\n\n"
