"""The terminal sink: the embedded default when no chat platform is configured."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from bot.core.models import FeedInfo, NewItem
from bot.platforms.console.terminal import Terminal, clean


class ConsoleSink:
    """Prints feed health notices, and with ``show_all`` every item that is not a summit story.

    Summit stories reach the terminal as story alerts and digests (``ConsoleNotifier``), so
    reports of the same summit from several outlets print once, with their merged facts.
    """

    def __init__(
        self, terminal: Terminal | None = None, width: int | None = None, *, show_all: bool = False
    ) -> None:
        self._terminal = terminal if terminal is not None else Terminal()
        self._width = width or min(shutil.get_terminal_size((100, 20)).columns, 100)
        self._show_all = show_all

    async def publish(self, items: Sequence[NewItem]) -> None:
        """With ``show_all``, print each item the extractor did not judge a summit story."""
        if not self._show_all:
            return
        for item in items:
            if not item.is_summit:
                self._terminal.write(self.render(item))

    async def feed_disabled(self, feed: FeedInfo) -> None:
        """Tell the operator once that a feed was switched off, and how to turn it back on."""
        reason = clean(feed.disabled_reason or "")
        self._terminal.write(
            f"! feed {feed.id} ({clean(feed.url)}) was disabled: {reason}\n"
            f"  re-enable it with: newsbot feeds enable {feed.id}\n\n",
        )

    def holding(self) -> AbstractContextManager[Callable[[], None]]:
        """Hold what ``publish`` prints until the caller lets it out (see HeldOutput)."""
        return self._terminal.holding()

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
