"""Find direct quotes in a story and attribute each to a named speaker."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from spacy.tokens import Doc

from bot.nlp._text import segments


@dataclass(frozen=True)
class Quote:
    """A direct quote and the canonical name of whoever said it."""

    speaker: str
    text: str


_VERBS = (
    r"(?:said|says|say|told|tells|added|adds|tweeted|wrote|writes|declared|insisted|stressed"
    r"|noted|warned|explained|asked|replied|continued|argued|claimed|announced|remarked|urged"
    r"|vowed|recalled|responded|acknowledged|admitted|predicted|promised|suggested|joked"
    r"|conceded|cautioned|emphasi[sz]ed|posted|quipped)"
)
_TITLE_WORDS = frozenset(
    {
        "president", "prime", "minister", "chancellor", "king", "queen", "premier", "secretary",
        "mr", "mrs", "ms", "dr", "sir", "leader", "chairman", "general", "foreign", "state",
        "supreme", "vice", "deputy", "shadow", "spokesman", "spokeswoman", "ambassador", "the",
        "former", "u.s.", "us", "uk",
    }
)  # fmt: skip
_NAME = r"(?:[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|de|van|von|bin|al-\w+))*)"
_ADVERB = r"(?:(?:also|then|later|again|once|\w+ly)\s+){0,2}"
_AFTER = (
    re.compile(rf"^[\s,]*(?P<name>{_NAME})\s+{_ADVERB}{_VERBS}\b"),
    re.compile(rf"^[\s,]*{_VERBS}\s+(?P<name>{_NAME})"),
    re.compile(rf"^[\s,]*(?P<pronoun>he|she)\s+{_ADVERB}{_VERBS}\b"),
    re.compile(rf"^[\s,]*according to (?P<name>{_NAME})"),
)
_BEFORE = re.compile(
    rf"(?:(?P<name>{_NAME})|\b(?P<pronoun>[Hh]e|[Ss]he))\s+{_ADVERB}{_VERBS}"
    rf"(?:\s+(?!.*\b{_VERBS}\b)[^,:\"“”.]{{0,50}})?[,:]\s*$"
)
# A sentence opening with one of these puts its subject after the first comma.
_INTRO = re.compile(
    r"^(?:\w+ing|during|after|before|in|at|on|with|following|despite|while|as|when|earlier"
    r"|later|asked|meanwhile)\b[^,]*,",
    re.IGNORECASE,
)
_HONORIFIC = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|President|Chancellor|Premier|Prime Minister|King|Queen)\.?\s+"
    r"(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)"
)
_PRONOUNS = frozenset({"he", "she", "it", "they", "we", "i", "you", "this", "that", "but", "and"})
_MIN_WORDS = 4
_CONTINUATION_GAP = 80
_PERSONISH = frozenset({"PERSON", "ORG", "NORP", "GPE"})  # the small model often mislabels leaders


def find_quotes(doc: Doc, speakers: Sequence[str]) -> list[Quote]:
    """Direct quotes of four words or more whose speaker the attribution or context names."""
    text = doc.text
    names = _Names(doc, speakers)
    quotes: list[Quote] = []
    previous: tuple[int, str] | None = None
    for start, end, inner in _quoted_spans(text):
        body = " ".join(inner.split()).rstrip(" ,")  # the comma belongs to the attribution
        if len(body.split()) < _MIN_WORDS:
            continue
        speaker = _attribution(text, start, end, names)
        if speaker is None and previous and _continues(text[previous[0] : start]):
            speaker = previous[1]
        if speaker is None:
            continue
        quotes.append(Quote(speaker, body))
        previous = (end, speaker)
    return quotes


def _continues(gap: str) -> bool:
    """Whether a quote goes on from the previous one: nothing between, or a finished attribution."""
    rest = gap.strip()
    return len(rest) <= _CONTINUATION_GAP and (not rest or rest.endswith("."))


def _attribution(text: str, start: int, end: int, names: _Names) -> str | None:
    """The speaker named right after or right before the quote, pronouns resolved."""
    after = text[end : end + 100].split("\n", maxsplit=1)[0]
    # Only a quote left open by a comma, "?" or "!" runs on into an attribution after it.
    if text[start:end].rstrip('"” ').endswith((",", "?", "!", "-", "—")) or after.startswith(","):
        for pattern in _AFTER:
            m = pattern.match(after)
            if m:
                return _speaker(m, start, names)
    before = text[max(0, start - 150) : start].rsplit("\n", maxsplit=1)[-1]
    m = _BEFORE.search(before)
    return _speaker(m, start, names) if m else None


def _speaker(m: re.Match[str], quote_start: int, names: _Names) -> str | None:
    """The canonical speaker of an attribution match."""
    name = m.groupdict().get("name")
    if name is None or name.lower() in {"he", "she"}:
        return names.latest_before(quote_start)
    return names.canonical(name)


class _Names:
    """Person names of a story: canonical forms and where each is mentioned outside quotes."""

    def __init__(self, doc: Doc, speakers: Sequence[str]) -> None:
        """Index the given speakers and the doc's person entities by segment."""
        self._speakers = list(speakers)
        self._people = [e.text.strip() for e in doc.ents if e.label_ == "PERSON"]
        quoted = [(s, e) for s, e, _ in _quoted_spans(doc.text)]
        self._segments = segments(doc)
        starts = [seg.start for seg in self._segments]
        found: dict[int, str] = {}
        for ent in doc.ents:
            name = self.canonical(ent.text) if ent.label_ == "PERSON" else None
            name = name or (self._match_speaker(ent.text) if ent.label_ in _PERSONISH else None)
            if name:
                found[ent.start_char] = name
        for m in _HONORIFIC.finditer(doc.text):
            name = self.canonical(m["name"])
            if name:
                found.setdefault(m.start("name"), name)
        # The small model misses or mislabels many leaders' names; the given speakers are known.
        for speaker in self._speakers:
            for m in _mention_pattern(speaker).finditer(doc.text):
                found.setdefault(m.start(), speaker)
        self._mentions = [
            (at, bisect_right(starts, at), name)
            for at, name in sorted(found.items())
            if not any(s <= at < e for s, e in quoted)
        ]

    def canonical(self, raw: str) -> str | None:
        """A speaker from ``speakers`` if the name matches one, else the fullest person name."""
        tokens = _name_tokens(raw)
        if not tokens or tokens[0].lower() in _PRONOUNS:
            return None
        found = self._match_speaker(raw)
        if found:
            return found
        surname = tokens[-1]
        fuller = [p for p in self._people if surname in _name_tokens(p)]
        return max(fuller, key=len) if fuller else " ".join(tokens)

    def latest_before(self, pos: int) -> str | None:
        """For "he said": the subject of the latest sentence outside quotes that names anyone."""
        earlier = [(at, segment, name) for at, segment, name in self._mentions if at < pos]
        if not earlier:
            return None
        latest = earlier[-1][1]
        named = [(at, name) for at, segment, name in earlier if segment == latest]
        seg = self._segments[latest - 1]
        intro = _INTRO.match(seg.text)
        main_start = seg.start + intro.end() if intro else seg.start
        return next((name for at, name in named if at >= main_start), named[0][1])

    def _match_speaker(self, raw: str) -> str | None:
        """The given speaker whose full name, surname or family name matches ``raw``."""
        key = _key(raw)
        tokens = {t.lower() for t in _name_tokens(raw)}
        for speaker in self._speakers:
            if key and key == _key(speaker):
                return speaker
        for speaker in self._speakers:
            parts = [t.lower() for t in _name_tokens(speaker)]
            if parts and (parts[-1] in tokens or parts[0] in tokens):
                return speaker
        return None


def _mention_pattern(speaker: str) -> re.Pattern[str]:
    """Where a speaker is named by full name, family name or (for East Asian names) first name."""
    tokens = _name_tokens(speaker)
    forms = {speaker, *(tokens[:1] + tokens[-1:])}
    return re.compile(r"\b(?:" + "|".join(re.escape(f) for f in forms) + r")\b")


def _name_tokens(raw: str) -> list[str]:
    """The words of a name without titles and possessives."""
    words = re.findall(r"[A-Z][\w'’.-]*", raw.replace("’s", "").replace("'s", ""))
    return [w.strip(".") for w in words if w.lower().strip(".") not in _TITLE_WORDS]


def _key(raw: str) -> str:
    """A spelling-insensitive key: "Kim Jong-un" and "Kim Jong Un" meet."""
    return "".join(t.lower().replace("-", "") for t in _name_tokens(raw))


def _quoted_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, inner text) of quotes; an unclosed quote runs to the end of its paragraph."""
    spans: list[tuple[int, int, str]] = []
    for para in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        opened: int | None = None
        for i in range(para.start(), para.end()):
            ch = text[i]
            if opened is None and ch in '"“':
                opened = i
            elif opened is not None and ch in '"”':
                spans.append((opened, i + 1, text[opened + 1 : i]))
                opened = None
        if opened is not None:
            spans.append((opened, para.end(), text[opened + 1 : para.end()]))
    return spans
