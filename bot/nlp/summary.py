"""Summarise a story by its lead: news puts the essentials in the first sentence or two."""

from __future__ import annotations

import re

from spacy.tokens import Doc

from bot.nlp._text import segments

MAX_CHARS = 300
_MIN_WORDS = 6
# "London (CNN) ", "BEIJING (Reuters) - ", "(CNN) ": datelines say where, not what happened.
_DATELINE = re.compile(r"^(?:[A-Z][\w.,' -]{0,40}\s)?\((?:[A-Z][\w .]{1,20})\)\s*[-–—:]?\s*")
_WORD = re.compile(r"\w+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")


def summarise(title: str, doc: Doc) -> str:
    """One or two lead sentences that do not repeat the title, trimmed to about 300 chars."""
    title_words = set(_WORD.findall(title.lower()))
    picked: list[str] = []
    for segment in segments(doc):
        sentence = _DATELINE.sub("", segment.text).strip()
        sentence = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(sentence.split()))
        words = _WORD.findall(sentence.lower())
        if len(words) < _MIN_WORDS or sentence[-1:] not in ".!?\"”'’":
            continue  # headings, captions, bylines and the title's line
        if title_words and _overlap(words, title_words) >= 0.8:
            continue
        if picked and len(picked[0]) + 1 + len(sentence) > MAX_CHARS:
            break
        picked.append(sentence)
        if len(picked) == 2 or len(sentence) >= MAX_CHARS // 2:
            break
    return _trim(" ".join(picked))


def _overlap(words: list[str], title_words: set[str]) -> float:
    """Share of a sentence's words that the title already has."""
    return sum(w in title_words for w in words) / len(words)


def _trim(text: str) -> str:
    """Cut at a word boundary with an ellipsis if the text is over the limit."""
    if len(text) <= MAX_CHARS:
        return text
    cut = text[: MAX_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:-–— ")
    return cut + "…"
