"""Resolve a summit's absolute start and end dates from an article and its publication date."""

from __future__ import annotations

import functools
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from spacy.tokens import Doc

from bot.nlp._text import MEETING_WEIGHTS, Segment, Tense, Word, clause_tense, segments
from bot.nlp._text import words as _split_words

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
# Month and weekday names must be capitalised: "may" and "march" are also common words.
_MONTH = r"(?:" + "|".join(sorted((m.capitalize() for m in _MONTHS), key=len, reverse=True)) + r")"
_WEEKDAY = r"(?:" + "|".join(d.capitalize() for d in _WEEKDAYS) + r")"
_ORD = r"(?:st|nd|rd|th)?"
_TO = r"\s*(?:-|–|—|\bto\b|\band\b|\buntil\b|\bthrough\b|\bthru\b)\s*"
_YEAR = r"(?:,?\s+(?P<year>(?:19|20)\d{2})\b)?"
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "2": 2, "3": 3, "4": 4, "5": 5}

_TRAVEL = frozenset(
    {
        "arrive", "arrives", "arrived", "arriving", "land", "lands", "landed", "fly", "flies",
        "flew", "flying", "depart", "departs", "departed", "left", "leave", "leaves", "heading",
        "headed", "travel", "travels", "traveled", "travelled", "touched", "dinner", "gala",
    }
)  # fmt: skip
_TITLES = frozenset({"president", "premier", "chancellor", "king", "minister", "leader"})
# A date this close to a meeting word is taken as the meeting's; a lead date needs less.
_ATTACHED = 3
_NEARBY = 10
_LEAD = 3
_CLAUSE_BREAKS = frozenset({"said", "says", "told", "tells", "added", "but", "while", "although"})
# Words that name the meeting itself; "gathering" also gathers evidence, support, pace.
_ANCHORS = {w: v for w, v in MEETING_WEIGHTS.items() if v >= 1.0 and w != "gathering"}
_SECOND_DAY = re.compile(r"\b(?:second day|day two)\b", re.IGNORECASE)
_ENDED = re.compile(
    r"\b(?:wrapped up|ended|concluded|closed|after (?:the|their) (?:meeting|talks))\b"
)
_OPENS = re.compile(
    r"\b(?:begins?|began|opens?|opened|starts?|started|kicks? off|kicked off)\b", re.IGNORECASE
)
_DURATION = re.compile(r"\b(two|three|four|five|[2-5])-day\b", re.IGNORECASE)


# Dates, status and the learned readers all walk one body's segments: cut them once per doc.
_last = threading.local()


def doc_segments(doc: Doc) -> list[Segment]:
    """``segments(doc)``, remembered for the last doc this thread asked about."""
    seen = getattr(_last, "seen", None)
    if seen is None or seen[0] is not doc:
        seen = (doc, segments(doc))
        _last.seen = seen
    return seen[1]


@functools.lru_cache(maxsize=2048)
def _cached_words(text: str) -> tuple[Word, ...]:
    return tuple(_split_words(text))


def words(text: str) -> list[Word]:
    """Words of a segment (cached: each segment is read by several fact readers)."""
    return list(_cached_words(text))


@dataclass(frozen=True, slots=True)
class _Span:
    """A date expression resolved to absolute dates, with how it was resolved."""

    start: date
    end: date | None
    skewed: bool = False


@dataclass(frozen=True, slots=True)
class _Context:
    """What a date expression is resolved against: publication, clause tense, late writing."""

    published: date | None
    tense: Tense
    late: bool = False


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A resolved date expression placed in its segment, ready to be scored."""

    span: _Span
    segment: Segment
    first: int
    last: int


def resolve_dates(doc: Doc, published: date | None) -> tuple[date | None, date | None]:
    """The summit's start and end dates, preferring dates in clauses about the meeting itself."""
    best: tuple[float, _Candidate] | None = None
    lead: _Candidate | None = None
    segs = doc_segments(doc)
    late = published is not None and _written_late(segs, published)
    for segment in segs:
        ws = words(segment.text)
        two_leaders = sum(w.lower in _TITLES for w in ws) >= 2
        for candidate in _candidates(segment, ws, published, late):
            weight, dist, nearby = _nearest_meeting_word(candidate, ws)
            if dist <= _ATTACHED:
                score = _attachment(candidate, ws, weight, dist)
                if best is None or score > best[0]:
                    best = (score, candidate)
            elif lead is None and segment.index <= _LEAD and (nearby <= _NEARBY or two_leaders):
                lead = candidate
    chosen = best[1] if best else lead
    if chosen is None:
        return None, None
    start = chosen.span.start
    if chosen.span.end is None and _SECOND_DAY.search(chosen.segment.text):
        start -= timedelta(days=1)
    return start, _end(chosen, words(chosen.segment.text))


def _nearest_meeting_word(c: _Candidate, ws: list[Word]) -> tuple[float, int, int]:
    """The closest meeting word within the date's clause: weight and words between; and overall."""
    weight, attached, nearby = 0.0, len(ws) + 1, len(ws) + 1
    for j, w in enumerate(ws):
        w_weight = _ANCHORS.get(w.lower, 0.0)
        if not w_weight:
            continue
        between = ws[j + 1 : c.first] if j < c.first else ws[c.last + 1 : j]
        nearby = min(nearby, len(between))
        if any(b.lower in _CLAUSE_BREAKS for b in between):
            continue
        if len(between) < attached or (len(between) == attached and w_weight > weight):
            weight, attached = w_weight, len(between)
    return weight, attached, nearby


def _attachment(c: _Candidate, ws: list[Word], weight: float, dist: int) -> float:
    """How surely a date next to a meeting word is the summit's own date."""
    score = weight / (1.0 + dist)
    if any(w.lower in _TRAVEL for w in ws[max(0, c.first - 5) : c.first]):
        score *= 0.5
    if c.span.end is not None and c.span.end != c.span.start:
        score *= 1.5
    if c.span.skewed:
        score *= 0.7
    return score


def _end(c: _Candidate, ws: list[Word]) -> date | None:
    """End date: the range's end, a stated duration, or the start of a one-off meeting."""
    if c.span.end is not None:
        return c.span.end
    duration = _DURATION.search(c.segment.text)
    if duration:
        return c.span.start + timedelta(days=_NUMBERS[duration.group(1).lower()] - 1)
    if _SECOND_DAY.search(c.segment.text) or _OPENS.search(c.segment.text):
        return None
    near = ws[max(0, c.first - 2) : c.last + 3]
    if any(w.lower in {"summit", "meeting"} for w in near) or _ENDED.search(c.segment.text):
        return c.span.start
    return None


def _written_late(segs: list[Segment], published: date) -> bool:
    """Whether the story tells of its publication weekday in the past tense, as done.

    Then it was written after that day's events where they happened (a dateline ahead of the
    publisher's clock), and a past "Friday" in a Thursday story is the next day, not last week.
    """
    name = _WEEKDAYS[published.weekday()].capitalize()
    for seg in segs:
        ws = words(seg.text)
        if any(
            seg.text[w.start : w.end] == name and clause_tense(ws, i, i) is Tense.PAST
            for i, w in enumerate(ws)
        ):
            return True
    return False


def _candidates(
    segment: Segment, ws: list[Word], published: date | None, late: bool = False
) -> list[_Candidate]:
    """Every date expression of a segment that resolves to an absolute date."""
    taken: list[tuple[int, int]] = []
    out: list[_Candidate] = []
    for pattern, resolve in _PATTERNS:
        for m in pattern.finditer(segment.text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            first = next((i for i, w in enumerate(ws) if w.end > m.start()), len(ws) - 1)
            last = max(first, max((i for i, w in enumerate(ws) if w.start < m.end()), default=0))
            span = resolve(m, _Context(published, clause_tense(ws, first, last), late))
            if span is not None:
                out.append(_Candidate(span, segment, first, last))
    return out


def _with_year(month: int, day: int, year: str | None, published: date | None) -> date | None:
    """An explicit date; without a year, the one nearest the publication date."""
    years = (
        [int(year)]
        if year
        else ([published.year - 1, published.year, published.year + 1] if published else [])
    )
    options = []
    for y in years:
        try:
            options.append(date(y, month, day))
        except ValueError:
            continue
    if not options:
        return None
    if published is None:
        return options[0]
    return min(options, key=lambda d: abs((d - published).days))


def _iso(m: re.Match[str], _ctx: _Context) -> _Span | None:
    """An ISO date such as "2019-02-27", as datelines and feeds give it."""
    try:
        return _Span(date(int(m["year"]), int(m["mm"]), int(m["d1"])), None)
    except ValueError:
        return None


def _month_range(m: re.Match[str], ctx: _Context) -> _Span | None:
    """A range led by the month, like "Feb 27-28" or "February 28 to March 1"."""
    start = _with_year(_MONTHS[m["m1"].lower()], int(m["d1"]), m["year"], ctx.published)
    month2 = _MONTHS[m["m2"].lower()] if m["m2"] else _MONTHS[m["m1"].lower()]
    end = _with_year(month2, int(m["d2"]), m["year"], ctx.published)
    if start is None or end is None or not 0 <= (end - start).days <= 14:
        return None
    return _Span(start, end)


def _day_range(m: re.Match[str], ctx: _Context) -> _Span | None:
    """A range led by the day, like "27-28 February" or "28 February to 1 March"."""
    month2 = _MONTHS[m["m2"].lower()]
    month1 = _MONTHS[m["m1"].lower()] if m["m1"] else month2
    start = _with_year(month1, int(m["d1"]), m["year"], ctx.published)
    end = _with_year(month2, int(m["d2"]), m["year"], ctx.published)
    if start is None or end is None or not 0 <= (end - start).days <= 14:
        return None
    return _Span(start, end)


def _month_day(m: re.Match[str], ctx: _Context) -> _Span | None:
    """A single day such as "Feb. 27", "27 February 2019" or "the 27th of February"."""
    day = _with_year(_MONTHS[m["m1"].lower()], int(m["d1"]), m["year"], ctx.published)
    return _Span(day, None) if day else None


def _weekday(
    name: str, modifier: str | None, published: date, ctx: _Context
) -> tuple[date, bool] | None:
    """The date of a weekday name given its modifier or the clause tense; flags timezone skew."""
    target = _WEEKDAYS.index(name.lower())
    mod = (modifier or "").lower()
    if mod == "last":
        window = range(-7, 0)
    elif mod in {"next", "coming"}:
        window = range(1, 8)
    elif mod == "this":
        window = range(-3, 4)
    elif ctx.tense is Tense.PAST:
        window = range(-5, 2) if ctx.late else range(-6, 1)
    elif ctx.tense in {Tense.FUTURE, Tense.PRESENT}:
        window = range(7)
    else:
        window = range(-3, 4)
    for offset in window:
        day = published + timedelta(days=offset)
        if day.weekday() == target:
            return day, ctx.tense is Tense.PAST and offset > 0 and not mod
    return None


def _weekday_span(m: re.Match[str], ctx: _Context) -> _Span | None:
    """Weekday names: "on Wednesday", "last Friday", "Wednesday and Thursday"."""
    if ctx.published is None:
        return None
    first = _weekday(m["w1"], m["mod"], ctx.published, ctx)
    if first is None:
        return None
    start, skewed = first
    if not m["w2"]:
        return _Span(start, None, skewed)
    gap = (_WEEKDAYS.index(m["w2"].lower()) - start.weekday()) % 7
    return _Span(start, start + timedelta(days=gap), skewed)


def _relative(m: re.Match[str], ctx: _Context) -> _Span | None:
    """Days named relative to publication: "today", "tomorrow", "over the next two days"."""
    published = ctx.published
    if published is None:
        return None
    word = m["rel"].lower()
    if word.startswith(("today", "tonight", "this")):
        return _Span(published, None)
    if word == "tomorrow":
        return _Span(published + timedelta(days=1), None)
    if word == "yesterday":
        return _Span(published - timedelta(days=1), None)
    days = _NUMBERS[m["n"].lower()]
    return _Span(published + timedelta(days=1), published + timedelta(days=days))


_Resolver = Callable[[re.Match[str], _Context], _Span | None]
_PATTERNS: list[tuple[re.Pattern[str], _Resolver]] = [
    (
        re.compile(r"\b(?P<year>\d{4})-(?P<mm>\d{2})-(?P<d1>\d{2})\b"),
        _iso,
    ),
    (
        re.compile(
            rf"\b(?P<m1>{_MONTH})\.?\s+(?P<d1>\d{{1,2}}){_ORD}{_TO}(?:(?P<m2>{_MONTH})\.?\s+)?"
            rf"(?P<d2>\d{{1,2}}){_ORD}\b{_YEAR}"
        ),
        _month_range,
    ),
    (
        re.compile(
            rf"\b(?P<d1>\d{{1,2}}){_ORD}(?:\s+(?P<m1>{_MONTH})\.?)?{_TO}(?P<d2>\d{{1,2}}){_ORD}"
            rf"\s+(?:of\s+)?(?P<m2>{_MONTH})\b\.?{_YEAR}"
        ),
        _day_range,
    ),
    (
        re.compile(
            rf"\b(?:{_WEEKDAY},?\s+)?(?P<m1>{_MONTH})\.?\s+(?P<d1>\d{{1,2}}){_ORD}\b(?!:){_YEAR}"
        ),
        _month_day,
    ),
    (
        re.compile(
            rf"\b(?:{_WEEKDAY},?\s+)?(?:the\s+)?(?P<d1>\d{{1,2}}){_ORD}\s+(?:of\s+)?"
            rf"(?P<m1>{_MONTH})\b\.?{_YEAR}"
        ),
        _month_day,
    ),
    (
        re.compile(
            rf"\b(?:(?P<mod>last|next|this|coming|[Ll]ast|[Nn]ext|[Tt]his)\s+)?"
            rf"(?P<w1>{_WEEKDAY})(?:\s*(?:and|to|-|–|through|until)\s*(?P<w2>{_WEEKDAY}))?\b"
        ),
        _weekday_span,
    ),
    (
        re.compile(
            r"\b(?P<rel>today|tonight|tomorrow|yesterday|this (?:morning|afternoon|evening)"
            r"|(?:over |in )?the (?:next|coming) (?P<n>two|three|four|five|[2-5]) days)\b",
            re.IGNORECASE,
        ),
        _relative,
    ),
]


@dataclass(frozen=True)
class DateCandidate:
    """A start date the story may give the meeting, with its evidence summed over mentions."""

    start: date
    end: date | None
    segment: str
    features: dict[str, float]


_EARLIER = frozenset({"last", "previous", "earlier", "first", "ago", "since", "former"})
_RANGE_END = frozenset({"summit", "meeting", "talks", "visit", "conference", "gathering"})


def date_candidates(doc: Doc, published: date | None) -> list[DateCandidate]:
    """Every date the story resolves, grouped by start day, best-evidenced mention first."""
    segs = doc_segments(doc)
    late = published is not None and _written_late(segs, published)
    by_day: dict[date, tuple[float, _Candidate, dict[str, float]]] = {}
    counts: dict[date, int] = {}
    for segment in segs:
        ws = words(segment.text)
        leaders_ = sum(w.lower in _TITLES for w in ws)
        for c in _candidates(segment, ws, published, late):
            weight, dist, nearby = _nearest_meeting_word(c, ws)
            feats = _date_features(
                c,
                ws,
                weight=weight,
                dist=dist,
                nearby=nearby,
                leaders_=leaders_,
                published=published,
            )
            score = _attachment(c, ws, weight, dist) if dist <= _ATTACHED else 0.0
            counts[c.span.start] = counts.get(c.span.start, 0) + 1
            kept = by_day.get(c.span.start)
            if kept is None or score > kept[0]:
                merged = (
                    feats
                    if kept is None
                    else {k: max(v, kept[2].get(k, 0.0)) for k, v in feats.items()}
                )
                by_day[c.span.start] = (score, c, merged)
            else:
                for k, v in feats.items():
                    kept[2][k] = max(v, kept[2].get(k, 0.0))
    out = []
    for day, (_, c, feats) in by_day.items():
        feats["mentions"] = math.log1p(counts[day])
        out.append(DateCandidate(_start_of(c), c.span.end, c.segment.text, feats))
    best = max((c.features["attach"] for c in out), default=0.0)
    for cand in out:
        cand.features["best_attach"] = float(best > 0 and cand.features["attach"] == best)
        cand.features["alone"] = float(len(out) == 1)
    return out


def _start_of(c: _Candidate) -> date:
    if c.span.end is None and _SECOND_DAY.search(c.segment.text):
        return c.span.start - timedelta(days=1)
    return c.span.start


def _date_features(
    c: _Candidate,
    ws: list[Word],
    *,
    weight: float,
    dist: int,
    nearby: int,
    leaders_: int,
    published: date | None,
) -> dict[str, float]:
    before = {w.lower for w in ws[max(0, c.first - 6) : c.first]}
    around = {w.lower for w in ws[max(0, c.first - 8) : c.last + 8]}
    days = (c.span.start - published).days if published else 0
    text = c.segment.text[ws[c.first].start : ws[c.last].end] if ws else ""
    return {
        "attach": _attachment(c, ws, weight, dist) if dist <= _ATTACHED else 0.0,
        "attached": float(dist <= _ATTACHED),
        "near": float(nearby <= _NEARBY),
        "anchor_weight": weight if dist <= _NEARBY else 0.0,
        "dist": min(dist, 20) / 20,
        "travel": float(bool(before & _TRAVEL)),
        "earlier": float(bool(around & _EARLIER)),
        "range": float(c.span.end is not None and c.span.end != c.span.start),
        "skewed": float(c.span.skewed),
        "lead": float(c.segment.index <= _LEAD),
        "first_segment": float(c.segment.index == 0),
        "position": math.log1p(c.segment.index),
        "leaders": min(leaders_, 3) / 3,
        "weekday": float(
            (text[:1].isalpha() and text.split()[0].lower().strip(",") in _WEEKDAYS)
            or any(w.lower in _WEEKDAYS for w in ws[c.first : c.last + 1])
        ),
        "relative_word": float(
            any(
                w.lower in {"today", "tomorrow", "yesterday", "tonight"}
                for w in ws[c.first : c.last + 1]
            )
        ),
        "has_year": float(
            any(len(w.lower) == 4 and w.lower.isdigit() for w in ws[c.first : c.last + 1])
        ),
        "future": float(days > 0),
        "past": float(days < 0),
        "today": float(days == 0),
        "far": float(abs(days) > 14),
        "very_far": float(abs(days) > 60),
        "days": max(-14.0, min(14.0, float(days))) / 14,
    }


def end_of(c: DateCandidate) -> date | None:
    """The end day: the range's end, a stated duration, else one day unless it is said to open."""
    if c.end is not None:
        return c.end
    duration = _DURATION.search(c.segment)
    if duration:
        return c.start + timedelta(days=_NUMBERS[duration.group(1).lower()] - 1)
    if _OPENS.search(c.segment) or _SECOND_DAY.search(c.segment):
        return None
    return c.start
