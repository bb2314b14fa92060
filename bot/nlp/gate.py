"""A cheap keyword automaton deciding which articles are worth running spaCy on.

It scans the title and the whole body (a title+lede gate loses about half of the summit stories,
whose keyword often comes further down) and passes an article when it names a meeting of leaders:
"summit" or a summit series anywhere, or a meeting word together with a leader's title.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import ahocorasick

# A story passes on one of these alone.
STRONG = (
    "summit", "summits", "summitry", "g7", "g-7", "g8", "g-8", "g20", "g-20", "group of seven",
    "group of 20", "apec", "asean", "brics", "chogm", "african union", "arab league",
    "european council", "general assembly", "oval office", "state visit",
)  # fmt: skip
# ... or on one of these together with a leader's title.
MEETING = (
    "talks", "meet", "meets", "met", "meeting", "meetings", "visit", "visits", "visited",
    "visiting", "hosted", "hosts", "hosting", "counterpart", "counterparts", "news conference",
    "press conference", "joint statement", "handshake", "shook hands", "bilateral",
    "trip", "travel", "signed", "alongside", "eu leaders", "world leaders", "heads of state",
    "heads of government", "nato leaders",
)  # fmt: skip
TITLES = (
    "president", "presidents", "prime minister", "prime ministers", "premier", "chancellor",
    "king", "queen", "emir", "sultan", "supreme leader", "leader", "leaders", "taoiseach",
)  # fmt: skip

# A meeting word counts only this close (in characters) to a title: the same sentence, roughly.
WINDOW = 150
# Below the lede, a story must pair meeting words with titles this many times (in distinct places).
LEDE_CHARS = 600
PAIRS = 2

_KINDS = {"strong": STRONG, "meeting": MEETING, "title": TITLES}


@dataclass(frozen=True, slots=True)
class GateResult:
    """Whether an article passes, and the keywords that decided it."""

    passed: bool
    keywords: tuple[str, ...]


@functools.cache
def _automaton() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for kind, words in _KINDS.items():
        for word in words:
            kinds = automaton.get(word, (word, frozenset()))[1]
            automaton.add_word(word, (word, kinds | {kind}))
    automaton.make_automaton()
    return automaton


def _is_boundary(text: str, i: int) -> bool:
    return i < 0 or i >= len(text) or not text[i].isalnum()


def check(title: str, text: str) -> GateResult:
    """Scan title and body once; pass on a strong keyword, or a meeting word plus a title."""
    haystack = f"{title}\n{text}".lower()
    meeting: list[tuple[int, str]] = []
    titles: list[tuple[int, str]] = []
    pairs: set[int] = set()
    lede = len(title) + LEDE_CHARS
    for end, (word, kinds) in _automaton().iter(haystack):
        start = end - len(word) + 1
        if not (_is_boundary(haystack, start - 1) and _is_boundary(haystack, end + 1)):
            continue
        if "strong" in kinds:
            return GateResult(True, (word,))
        if "meeting" in kinds:
            meeting.append((start, word))
        if "title" in kinds:
            titles.append((start, word))
        for at, other in titles if "meeting" in kinds else meeting if "title" in kinds else ():
            if 0 < abs(start - at) <= WINDOW:
                pairs.add(min(start, at) // WINDOW)
                # One pair in the headline or lede is enough; deeper down it takes several.
                if min(start, at) < lede or len(pairs) >= PAIRS:
                    return GateResult(True, tuple(sorted({word, other})))
    return GateResult(False, ())


def passes(title: str, text: str) -> bool:
    """True when the article may be about a summit and should reach spaCy."""
    return check(title, text).passed
