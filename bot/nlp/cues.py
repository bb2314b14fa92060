"""Sentence-level cues shared by detection, participants and location.

Each sentence of the title and body gets the cue kinds it carries; every use of "summit" is
classified as a meeting of leaders or as a look-alike (mountain, place name, conference, sport,
ministers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.tokens import Doc, Span

from bot.nlp import lexicon
from bot.nlp.components import HEAD, SERIES, TITLES

SUMMIT_WORDS = frozenset({"summit", "summits", "summitry"})
MEETING_VERBS = frozenset(
    {
        "meet", "meets", "met", "meeting", "meetings", "talks", "hosted", "hosts", "host",
        "hosting", "visit", "visits", "visited", "visiting", "bilateral", "sit-down",
        "counterpart", "counterparts", "welcomed", "welcomes", "received", "handshake",
        "gathering", "gathered", "gather", "summit", "summits", "attend", "attended", "attends",
        "attending", "tête-à-tête", "tete-a-tete", "trip", "arrived", "arrives", "landed",
        "touched", "guests", "guest",
    }
)  # fmt: skip
MEETING_PHRASES = (
    "news conference", "press conference", "joint statement", "joint declaration",
    "shook hands", "state visit", "held talks", "hold talks", "one-on-one",
)  # fmt: skip
# Leaders of states as a group; "leaders of Congress" or "party leaders" are not.
GATHERING_PHRASES = (
    "world leaders", "eu leaders", "european leaders", "heads of state", "heads of government",
    "regional leaders", "asian leaders", "african leaders", "arab leaders", "g7 leaders",
    "g8 leaders", "g20 leaders", "nato leaders", "asean leaders", "apec leaders", "two leaders",
    "both leaders", "fellow leaders", "leaders from across", "national leaders", "state leaders",
)  # fmt: skip

ABSENCE_PHRASES = (
    "skip", "skips", "skipped", "skipping", "without attending", "snub", "snubbed", "snubs",
    "boycott", "boycotted", "boycotts", "stayed away", "stay away", "pulled out", "absent",
    "will not attend", "won't attend", "did not attend", "didn't attend", "not attending",
)  # fmt: skip


@dataclass
class Sentence:
    """One sentence (or headline) with its cue kinds."""

    span: Span
    index: int
    in_title: bool
    low: str
    kinds: set[str] = field(default_factory=set)
    head_titles: int = 0
    ents: list[Span] = field(default_factory=list)
    summit_uses: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The sentence text on one line."""
        return " ".join(self.span.text.split())

    def has(self, phrase: str) -> bool:
        """Whole-word, case-insensitive containment."""
        return f" {phrase} " in self.low


def sentences(doc: Doc, *, in_title: bool = False) -> list[Sentence]:
    """Sentences of ``doc``, also cut at blank lines, each with its cues."""
    out: list[Sentence] = []
    # Span.ents rebuilds the document's entities on every call; read them once.
    ents = list(doc.ents)
    for sent in doc.sents:
        start = sent.start
        for i in range(sent.start, sent.end + 1):
            at_break = i == sent.end or (doc[i].is_space and doc[i].text.count("\n") >= 1)
            if at_break:
                if i > start and any(not t.is_space for t in doc[start:i]):
                    made = _make(doc[start:i], len(out), in_title)
                    made.ents = [e for e in ents if start <= e.start < i]
                    out.append(made)
                start = i + 1
    return out


def _make(span: Span, index: int, in_title: bool) -> Sentence:
    words = [t.lower_.replace("’", "'") for t in span if not t.is_space]
    low = " " + " ".join(words) + " "
    s = Sentence(span, index, in_title, low)
    doc = span.doc
    series = doc.spans.get(SERIES, [])
    if any(span.start <= x.start < span.end for x in series):
        s.kinds.add("series")
    titles = doc.spans.get(TITLES, [])
    s.head_titles = sum(t.label_ == HEAD and span.start <= t.start < span.end for t in titles)
    if s.head_titles:
        s.kinds.add("head_title")
    for tok in span:
        if tok.lower_ in SUMMIT_WORDS:
            s.summit_uses.append(_summit_use(s, tok.i))
    if any(u == "meeting" for u in s.summit_uses):
        s.kinds.add("summit")
    s.kinds.update(u for u in s.summit_uses if u != "meeting")
    if any(w in MEETING_VERBS for w in words) or any(s.has(p) for p in MEETING_PHRASES):
        s.kinds.add("meeting")
    if any(s.has(p) for p in GATHERING_PHRASES):
        s.kinds.add("gathering")
    if any(s.has(p) for p in lexicon.PHONE_WORDS):
        s.kinds.add("phone")
    if any(s.has(p) for p in ABSENCE_PHRASES):
        s.kinds.add("absent")
    if any(s.has(p) for p in lexicon.MINISTER_MEETING_WORDS):
        s.kinds.add("ministers_word")
    return s


def _summit_use(s: Sentence, i: int) -> str:
    """What one occurrence of "summit" in a sentence refers to."""
    doc = s.span.doc
    tok = doc[i]
    nxt = doc[i + 1] if i + 1 < len(doc) else None
    prev = [doc[k].lower_ for k in range(max(s.span.start, i - 3), i)]
    if (
        nxt is not None
        and tok.is_title
        and not _all_title(s)
        and nxt.lower_ in lexicon.PLACE_SUFFIXES
    ):
        return "place"
    if tok.is_title and tok.ent_type_ == "GPE":
        return "place"
    if (
        nxt is not None
        and tok.is_title
        and nxt.text == ","
        and i + 2 < len(doc)
        and doc[i + 2].ent_type_ == "GPE"
        and prev[-1:] != ["the"]
    ):
        return "place"
    words = set(s.low.split())
    after = doc[i + 2].lower_ if i + 2 < len(doc) else ""
    if words & lexicon.MOUNTAIN_WORDS or after in {"mount", "mt", "everest"}:
        return "mountain"
    if prev and prev[-1] in lexicon.CONFERENCE_MODIFIERS:
        return "conference"
    has_leaders = "head_title" in s.kinds or "series" in s.kinds or " leaders " in s.low
    if not has_leaders and len(words & lexicon.CONFERENCE_WORDS) >= 1:
        return "conference"
    if words & lexicon.NON_LEADER_GROUPS and "head_title" not in s.kinds:
        return "conference"
    if not has_leaders and words & lexicon.SPORT_WORDS:
        return "sport"
    if any(s.has(p) for p in lexicon.MINISTER_MEETING_WORDS) and not has_leaders:
        return "ministers"
    return "meeting"


def _all_title(s: Sentence) -> bool:
    """Headlines in title case make every word look like a name."""
    alpha = [t for t in s.span if t.is_alpha and len(t) > 3]
    return bool(alpha) and sum(t.is_title for t in alpha) / len(alpha) > 0.8
