"""Plain-text helpers every renderer shares: lead sentences and lists that fit a limit."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
# spaCy's English tokenizer keeps "U.S.", "Mr.", "Dr.", "St." whole, but not "No." before a number.
_NUMBER_ABBREVIATION = re.compile(r"\b(?:No|Nos|Nr|Art|Fig|Vol|pp?)\.$")


@functools.cache
def _splitter() -> Language:
    """spaCy's rule-based sentencizer over its abbreviation-aware English tokenizer."""
    import spacy  # noqa: PLC0415  (only renderers that need a sentence pay for it)

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def first_sentence(text: str) -> str:
    """The first sentence of a summary, whitespace collapsed ("U.S. President X…" stays whole)."""
    text = _WHITESPACE.sub(" ", text[:2000]).strip()
    if not text:
        return ""
    sentences = [s.text.strip() for s in _splitter()(text).sents]
    first = sentences[0]
    for nxt in sentences[1:]:
        if not (_NUMBER_ABBREVIATION.search(first) and nxt[:1].isdigit()):
            break
        first = f"{first} {nxt}"
    return first


def without_headline(title: str, text: str) -> str:
    """``text`` without the headline repeated as its first line (article pages often do that)."""
    want = _WORD.findall(title.lower())
    if not want:
        return text
    lines = text.lstrip().split("\n", 1)
    if _WORD.findall(lines[0].lower()) == want:
        return lines[1].lstrip() if len(lines) > 1 else ""
    return text


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
