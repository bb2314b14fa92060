"""The terminal sink: the embedded default when no chat platform is configured."""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import Any, TextIO

from bot.core.models import FeedInfo, NewItem

# C0/C1 control characters (ANSI escapes included) must never reach the terminal from a feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Feed text made safe to print: no control characters or escape sequences."""
    return _CONTROL.sub("", text)


class ConsoleSink:
    """Prints one readable block per summit story (or per item with ``show_all``)."""

    def __init__(
        self, stream: TextIO | None = None, width: int | None = None, *, show_all: bool = False
    ) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._width = width or min(shutil.get_terminal_size((100, 20)).columns, 100)
        self._show_all = show_all

    async def publish(self, items: Sequence[NewItem]) -> None:
        """Print summit stories with their facts; other items only with ``show_all``.

        Items nobody analysed (the extractor is off) are all shown.
        """
        for item in items:
            if self._show_all or item.analysis is None or item.is_summit:
                self._stream.write(self.render(item))
        self._stream.flush()

    async def feed_disabled(self, feed: FeedInfo) -> None:
        """Tell the operator once that a feed was switched off, and how to turn it back on."""
        reason = clean(feed.disabled_reason or "")
        self._stream.write(
            f"! feed {feed.id} ({clean(feed.url)}) was disabled: {reason}\n"
            f"  re-enable it with: newsbot feeds enable {feed.id}\n\n"
        )
        self._stream.flush()

    def render(self, item: NewItem) -> str:
        """One block: source and time, title, link, a few lines of summary."""
        when = (item.published or item.first_seen).strftime("%Y-%m-%d %H:%M UTC")
        source = clean(item.feed_title or item.feed_url)
        header = f"── {source} · {when} "
        title = clean(item.title)
        if item.is_summit and item.analysis is not None:
            title = f"SUMMIT {float(item.analysis.get('score') or 0):.2f} · {title}"
        lines = [header + "─" * max(self._width - len(header), 3), title]
        if item.link:
            lines.append(clean(item.link))
        if item.is_summit and item.analysis is not None:
            lines.extend(self._facts(item.analysis))
        summary = clean(item.summary).strip()
        if item.is_summit and item.analysis is not None and item.analysis.get("summary"):
            summary = clean(str(item.analysis["summary"]))
        if summary:
            wrapped = textwrap.wrap(summary, width=self._width, max_lines=3, placeholder=" …")
            lines.extend(wrapped)
        return "\n".join(lines) + "\n\n"

    def _facts(self, analysis: dict[str, Any]) -> list[str]:
        """Who, where, when and status, agenda, quotes and the reasons, one line each."""
        who = " · ".join(
            clean(person["name"])
            + (f" ({clean(person['country'])})" if person.get("country") else "")
            for person in analysis.get("participants") or []
        )
        location = analysis.get("location") or {}
        where = ", ".join(
            clean(str(location[key])) for key in ("venue", "city", "country") if location.get(key)
        )
        start, end = analysis.get("start_date"), analysis.get("end_date")
        when = " to ".join(str(day) for day in dict.fromkeys((start, end)) if day)
        facts = [
            ("Who", who),
            ("Where", where),
            ("When", " · ".join(part for part in (when, analysis.get("status") or "") if part)),
            ("Agenda", ", ".join(clean(topic) for topic in analysis.get("agenda") or [])),
        ]
        lines = [f"  {label + ':':<8}{value}" for label, value in facts if value]
        for quote in (analysis.get("quotes") or [])[:2]:
            text = textwrap.shorten(clean(quote["text"]), width=self._width - 20, placeholder=" …")
            lines.append(f"  {'Quote:':<8}“{text}” — {clean(quote.get('speaker') or '?')}")
        for reason in (analysis.get("reasons") or [])[:3]:
            reason_text = textwrap.shorten(clean(reason), width=self._width - 10, placeholder=" …")
            lines.append(f"  {'Why:':<8}{reason_text}")
        return lines
