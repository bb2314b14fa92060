"""Shared text helpers for the fact extractors: clause segments, words and tense cues.

The extractors run without a tagger or parser, so tense and relevance come from cue words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from spacy.tokens import Doc

_BLANK_LINE = re.compile(r"\n\s*\n")
# Page furniture that scrapers keep: video teasers, "Read More" links, navigation.
_CHROME = re.compile(
    r"JUST WATCHED|MUST WATCH|Replay More Videos|^Read More$|^Back [Tt]o [Tt]op$|^Advertisement$"
    r"|^Share this|^Follow us|^Sign up|^Click here|^Image copyright|^Getty Images$",
    re.MULTILINE,
)
_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?|\d+")


@dataclass(frozen=True, slots=True)
class Segment:
    """A sentence, further cut at blank lines because the statistical senter misses paragraphs."""

    text: str
    start: int
    index: int


@dataclass(frozen=True, slots=True)
class Word:
    """A word of a segment with its lower-cased form and character span inside the segment."""

    lower: str
    start: int
    end: int


class Tense(Enum):
    """The time a clause refers to, relative to its publication."""

    PAST = "past"
    PRESENT = "present"
    FUTURE = "future"
    NONE = "none"


def segments(doc: Doc) -> list[Segment]:
    """Split a doc into sentence-like segments with their document offsets."""
    out: list[Segment] = []
    for sent in doc.sents:
        pos = 0
        for part in _BLANK_LINE.split(sent.text):
            at = sent.text.find(part, pos)
            pos = at + len(part)
            stripped = part.strip()
            if stripped and not _CHROME.search(stripped):
                lead = len(part) - len(part.lstrip())
                out.append(Segment(stripped, sent.start_char + at + lead, len(out)))
    return out


def words(text: str) -> list[Word]:
    """Words and numbers of a text, lower-cased, with their spans."""
    return [
        Word(m.group().lower().replace("’", "'"), m.start(), m.end()) for m in _WORD.finditer(text)
    ]


# Scores of meeting words: how strongly a clause containing them is about the summit itself.
MEETING_WEIGHTS: dict[str, float] = {
    "summit": 3.0,
    "summits": 3.0,
    "talks": 2.0,
    "meeting": 2.0,
    "meetings": 2.0,
    "meet": 2.0,
    "meets": 2.0,
    "met": 2.0,
    "visit": 1.0,
    "negotiations": 1.0,
    "gathering": 1.0,
    "bilateral": 1.0,
    "leaders": 0.75,
    "conference": 0.5,
}

_FUTURE = frozenset(
    {
        "will", "'ll", "shall", "scheduled", "due", "expected", "slated", "set", "planned", "plans",
        "planning", "upcoming", "ahead", "would", "forthcoming", "next",
    }
)  # fmt: skip
_PAST = frozenset(
    {
        "was", "were", "had", "did", "said", "told", "met", "held", "took", "left", "went", "came",
        "made", "gave", "spoke", "flew", "began", "ended", "wrapped", "ago", "earlier", "last",
        "saw", "won", "lost", "got", "sent", "thought", "knew", "became", "brought", "struck",
        "agreed", "shook", "wrote", "ran", "sat",
    }
)  # fmt: skip
_BE_PRESENT = frozenset({"is", "are", "am", "'s", "'re"})
_PASSIVE_AUX = frozenset({"be"})
_NOT_PAST_ED = frozenset(
    {
        "need", "speed", "indeed", "red", "bed", "feed", "seed", "proceed", "exceed", "succeed",
        "hundred", "united", "based", "related", "limited", "armed", "advanced", "detailed",
        "concerned", "embattled", "tired", "shed", "breed", "greed", "weed", "deed", "heed",
    }
)  # fmt: skip
_MEETING_INFINITIVES = frozenset(
    {"meet", "hold", "host", "attend", "visit", "begin", "start", "open", "travel", "join", "sign"}
)


def tense_of(ws: list[Word], i: int) -> Tense:
    """Tense cue of word ``i`` alone; callers look for the nearest cued word."""
    w = ws[i].lower
    prev = ws[i - 1].lower if i > 0 else ""
    if w in _FUTURE or (w == "to" and i + 1 < len(ws) and ws[i + 1].lower in _MEETING_INFINITIVES):
        return Tense.FUTURE
    if w.endswith("ing") and prev in _BE_PRESENT:
        return Tense.PRESENT
    participle = w in _PAST or (w.endswith("ed") and len(w) > 3 and w not in _NOT_PAST_ED)
    if participle and prev in _PASSIVE_AUX:
        # "will (now) be held", "to be held": a passive after a modal or "to" is still ahead.
        return Tense.FUTURE
    if w in _PAST:
        return Tense.PAST
    if participle:
        return Tense.PRESENT if prev in _BE_PRESENT else Tense.PAST
    return Tense.NONE


# Attribution after a date ("... on Friday, the office said") tells when it was reported,
# not when the event happens, so these verbs are not tense cues to the right of a date.
_REPORTING = frozenset({"said", "says", "told", "tells", "added", "stated", "reported"})


def clause_tense(ws: list[Word], first: int, last: int) -> Tense:
    """Tense of the clause around words ``first..last``: the nearest cue, preferring the left."""
    for dist in range(1, 14):
        for i in (first - dist, last + dist):
            if not 0 <= i < len(ws) or (i > last and ws[i].lower in _REPORTING):
                continue
            tense = tense_of(ws, i)
            if tense is not Tense.NONE:
                return tense
    return Tense.NONE
