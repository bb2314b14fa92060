"""The terminal Notifier: alerts and digests printed from the same data chat platforms get."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta

from bot.core.stories import Destination, Digest, Story, StoryEvent
from bot.platforms.console.terminal import Terminal, clean
from bot.stories.digest import digest_lines


class ConsoleNotifier:
    """Prints each alert or digest; a terminal cannot be read back to check what it printed,
    so the outbox holds each row's output (``held_output``) and lets it out as the row's
    record as sent commits: a crash never prints a row twice nor loses it.
    """

    platform = "console"
    in_flight = timedelta(0)  # a row is never left in ``sending``

    def __init__(self, terminal: Terminal | None = None, width: int = 100) -> None:
        self._terminal = terminal if terminal is not None else Terminal()
        self.held_output = self._terminal
        self._width = width

    async def ready(self) -> None:
        """The terminal is always ready."""

    async def send_alert(
        self, destination: Destination, event: StoryEvent, key: str, since: datetime | None = None
    ) -> str:
        """Print a new story, or what changed in an updated one."""
        label = "NEW SUMMIT STORY" if event.kind == "new" else "SUMMIT STORY UPDATE"
        lines = [self._rule(f"{label} #{event.story.id}")]
        for change in event.changes:
            lines.append(
                f"  changed {change.field}: {clean(change.old or '—')} → {clean(change.new or '—')}"
            )
        lines.extend(self._story(event.story))
        lines.extend(self._why(event.story))
        self._write(lines)
        return f"console:{key}"

    async def send_digest(
        self, destination: Destination, digest: Digest, key: str, since: datetime | None = None
    ) -> str:
        """Print a digest: per story its facts, one sentence, its sources and link."""
        lines = [self._rule(clean(digest.title))]
        if digest.note:
            lines.append(clean(digest.note))
        for story in digest.stories:
            lines.extend(self._story(story))
        self._write(lines)
        return f"console:{key}"

    async def notify_admins(self, destination: Destination, reason: str) -> None:
        """Tell the operator that a destination was disabled."""
        channel = clean(f"{destination.platform} channel {destination.channel_id}")
        self._write([f"! {channel} disabled: {clean(reason)}"])

    def _story(self, story: Story) -> list[str]:
        facts, sentence, sources = (clean(line) for line in digest_lines(story))
        lines = [f"• {clean(story.title)}", f"  {facts}"]
        lines += textwrap.wrap(sentence, self._width, initial_indent="  ", subsequent_indent="  ")
        lines.append(f"  {sources}")
        return lines

    def _why(self, story: Story) -> list[str]:
        """The extractor's strongest reasons, so a reader sees why this is a summit story."""
        return [
            "  why: " + textwrap.shorten(clean(reason), self._width - 8, placeholder=" …")
            for reason in story.reasons[:3]
        ]

    def _rule(self, text: str) -> str:
        header = f"── {text} "
        return header + "─" * max(self._width - len(header), 3)

    def _write(self, lines: list[str]) -> None:
        self._terminal.write("\n".join(lines) + "\n\n")
