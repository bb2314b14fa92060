"""Plain-text helpers every renderer shares: lead sentences and lists that fit a limit."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WHITESPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“‘(])")


def first_sentence(text: str) -> str:
    """The first sentence of a summary, whitespace collapsed."""
    text = _WHITESPACE.sub(" ", text[:2000]).strip()
    return _SENTENCE_END.split(text, maxsplit=1)[0] if text else ""


def join_within(items: Iterable[str], limit: int, more: str = "…and {n} more") -> str:
    """Lines joined until ``limit``; the rest summarised as "…and N more".

    One over-long line can still pass ``limit``: platforms cut the result with their own
    escaping-aware truncation.
    """
    chosen = list(items)
    out: list[str] = []
    used = 0
    for index, line in enumerate(chosen):
        left = len(chosen) - index - 1
        tail = len(more.format(n=left)) + 1 if left else 0
        if used + len(line) + 1 + tail > limit:
            out.append(more.format(n=len(chosen) - index))
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)
