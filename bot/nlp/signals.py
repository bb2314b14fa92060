"""Named, inspectable signals of a summit story, each with the sentence it came from.

A signal's ``value`` lies in [0, 1]; its contribution to the score is ``weight * value``.
Weights are set by hand from what each cue means (see ``WEIGHTS``); positive weights argue for a
summit of leaders, negative ones for a look-alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.nlp.cues import Sentence
from bot.nlp.participants import Person

# Hand-set weights; the logistic bias makes a story with no evidence score ~0.05.
BIAS = -3.0
WEIGHTS: dict[str, float] = {
    # for
    "summit_in_title": 2.5,
    "summit_noun": 2.5,
    "summit_in_lede": 1.0,
    "heads_of_state": 1.0,
    "leaders_meet": 2.5,
    "host_city": 0.5,
    "summit_series": 1.0,
    "series_in_title": 1.5,
    "leaders_gathering": 1.0,
    # against
    "mountain": -4.0,
    "place_name": -4.0,
    "conference": -4.0,
    "sport": -3.0,
    "ministers_only": -4.5,
    "phone_call": -2.5,
    "passing_mention": -3.0,
    "timeline": -3.0,
}
# "June 17-18, 2013 - The G8 summit is held…": a chronology or fact sheet, not a report.
_DATED_ENTRY = re.compile(
    r"^(?:(?:[A-Z][a-z]{2,8}\.? )?\d{1,2}(?:-\d{1,2})?, )?(?:[A-Z][a-z]{2,8} )?\d{4}\s*[-–—:]\s"
)
LEDE_SENTENCES = 3


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of evidence: its name, weight, strength in [0, 1] and the sentence it came from."""

    name: str
    weight: float
    value: float
    sentence: str

    @property
    def contribution(self) -> float:
        """Signed effect on the log-odds of being a summit story."""
        return self.weight * self.value


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the signals look at: the title's and body's sentences, and the people in them."""

    title: Sequence[Sentence]
    body: Sequence[Sentence]
    people: Sequence[Person]
    city_sentence: str | None = None

    @property
    def all(self) -> list[Sentence]:
        """Title sentences first, then the body."""
        return [*self.title, *self.body]


def _first(sents: Sequence[Sentence], test: Callable[[Sentence], bool]) -> str:
    return next((s.text for s in sents if test(s)), "")


def _sig(name: str, value: float, sentence: str) -> Signal | None:
    if value <= 0:
        return None
    return Signal(name, WEIGHTS[name], min(1.0, value), sentence)


def summit_in_title(ev: Evidence) -> Signal | None:
    """The headline uses "summit" as a meeting."""
    hit = _first(ev.title, lambda s: "summit" in s.kinds)
    return _sig("summit_in_title", 1.0 if hit else 0.0, hit)


def summit_noun(ev: Evidence) -> Signal | None:
    """How many body sentences speak of a summit (as a meeting): 1 → 1/3, 3 or more → 1."""
    hits = [s for s in ev.body if "summit" in s.kinds]
    return _sig("summit_noun", len(hits) / 3, hits[0].text if hits else "")


def summit_in_lede(ev: Evidence) -> Signal | None:
    """The first sentences speak of a summit or of leaders meeting."""
    lede = ev.body[:LEDE_SENTENCES]
    hit = _first(lede, lambda s: "summit" in s.kinds or _leaders_meeting(ev, s))
    return _sig("summit_in_lede", 1.0 if hit else 0.0, hit)


def heads_of_state(ev: Evidence) -> Signal | None:
    """Two or more current heads of state or government, with titles, are named."""
    leaders = [p for p in ev.people if p.is_leader]
    if not leaders:
        return None
    sentence = " ".join(leaders[0].mentions[0].sent.text.split())
    return _sig("heads_of_state", 1.0 if len(leaders) >= 2 else 0.4, sentence)


def leaders_meet(ev: Evidence) -> Signal | None:
    """Leaders named together with a meeting word (met, talks, visit…): full in the headline or
    lede, else 1/2 for one sentence and 1/4 more for each further one."""
    hits = [s for s in ev.all if _leaders_meeting(ev, s)]
    prominent = any(s.in_title or s.index < LEDE_SENTENCES for s in hits)
    value = 1.0 if prominent else 0.5 + 0.25 * (len(hits) - 1) if hits else 0.0
    return _sig("leaders_meet", value, hits[0].text if hits else "")


def host_city(ev: Evidence) -> Signal | None:
    """The meeting is placed in a city."""
    return _sig("host_city", 1.0 if ev.city_sentence else 0.0, ev.city_sentence or "")


def summit_series(ev: Evidence) -> Signal | None:
    """A summit series (G7, G20, NATO, APEC, EU Council…) in a sentence about meeting."""
    hit = _first(ev.all, lambda s: "series" in s.kinds and bool(s.kinds & {"summit", "meeting"}))
    return _sig("summit_series", 1.0 if hit else 0.0, hit)


def series_in_title(ev: Evidence) -> Signal | None:
    """The headline names a summit series (G7, G20, NATO…)."""
    hit = _first(ev.title, lambda s: "series" in s.kinds)
    return _sig("series_in_title", 1.0 if hit else 0.0, hit)


def leaders_gathering(ev: Evidence) -> Signal | None:
    """ "world leaders", "EU leaders", "heads of state" meet."""
    hit = _first(ev.all, lambda s: "gathering" in s.kinds and bool(s.kinds & {"summit", "meeting"}))
    return _sig("leaders_gathering", 1.0 if hit else 0.0, hit)


def _lookalike(ev: Evidence, kind: str, name: str) -> Signal | None:
    uses = [(s, u) for s in ev.all for u in s.summit_uses]
    odd = [s for s, u in uses if u == kind]
    if not odd:
        return None
    return _sig(name, len(odd) / len(uses), odd[0].text)


def mountain(ev: Evidence) -> Signal | None:
    """Share of "summit" uses that are about mountains, peaks and climbers."""
    return _lookalike(ev, "mountain", "mountain")


def place_name(ev: Evidence) -> Signal | None:
    """Share of "summit" uses that are place names (Summit County, Summit, New Jersey)."""
    return _lookalike(ev, "place", "place_name")


def conference(ev: Evidence) -> Signal | None:
    """Share of "summit" uses that are industry conferences or expos ("Web Summit")."""
    return _lookalike(ev, "conference", "conference")


def sport(ev: Evidence) -> Signal | None:
    """ "Summit" of a table or league, or a sports story."""
    return _lookalike(ev, "sport", "sport")


def ministers_only(ev: Evidence) -> Signal | None:
    """The meeting is of ministers, and no head of state or government meets: full strength when
    the headline or lede says so, 0.6 when only the body does."""
    if any(p.is_leader for p in ev.people) and leaders_meet(ev) is not None:
        return None
    hits = [
        s
        for s in ev.all
        if "ministers_word" in s.kinds and s.kinds & {"summit", "meeting", "ministers", "series"}
    ]
    if not hits:
        return None
    prominent = any(s.in_title or s.index < LEDE_SENTENCES for s in hits)
    return _sig("ministers_only", 1.0 if prominent else 0.6, hits[0].text)


def phone_call(ev: Evidence) -> Signal | None:
    """Leaders talked by phone or video rather than in person."""
    phone = [s for s in ev.all if "phone" in s.kinds and _leaders_in(ev, s) >= 2]
    meeting = [s for s in ev.all if _leaders_meeting(ev, s)] + phone
    if not phone:
        return None
    return _sig("phone_call", len(phone) / len(meeting), phone[0].text)


def passing_mention(ev: Evidence) -> Signal | None:
    """The summit appears in one or two sentences deep in the story, not in the headline or lede."""
    summit = [s for s in ev.all if s.kinds & {"summit"}]
    meeting = [s for s in ev.all if _leaders_meeting(ev, s)]
    series = [
        s
        for s in ev.all
        if "series" in s.kinds
        and s.kinds & {"summit", "meeting", "gathering"}
        and "ministers_word" not in s.kinds
    ]
    prominent = [s for s in summit + meeting + series if s.in_title or s.index < LEDE_SENTENCES]
    if prominent or not (summit or meeting):
        return None
    share = (len(summit) + len(meeting)) / max(1, len(ev.body))
    if len(summit) + len(meeting) > 3 and share > 0.1:
        return None
    first = (summit or meeting)[0]
    return _sig("passing_mention", 1.0, first.text)


def timeline(ev: Evidence) -> Signal | None:
    """Many sentences open with a date ("2013 - …"): a chronology that lists summits in passing."""
    dated = [s for s in ev.body if _DATED_ENTRY.match(s.text)]
    if len(dated) < 3:
        return None
    share = len(dated) / max(1, len(ev.body))
    return _sig("timeline", 3 * share, dated[0].text)


def _leaders_in(ev: Evidence, s: Sentence) -> int:
    """Distinct leaders named in a sentence, or leader titles if there are more of those."""
    named = 0
    for person in ev.people:
        if person.is_leader and any(
            m.doc is s.span.doc and s.span.start <= m.start < s.span.end for m in person.mentions
        ):
            named += 1
    return max(named, s.head_titles)


def _leaders_meeting(ev: Evidence, s: Sentence) -> bool:
    """In person, two leaders (or "leaders" gathering) with a meeting word in one sentence."""
    if "meeting" not in s.kinds or "phone" in s.kinds:
        return False
    if "gathering" in s.kinds:
        return True
    n = _leaders_in(ev, s)
    return n >= 2 or (n == 1 and "summit" in s.kinds)


SIGNALS: tuple[Callable[[Evidence], Signal | None], ...] = (
    summit_in_title,
    summit_noun,
    summit_in_lede,
    heads_of_state,
    leaders_meet,
    host_city,
    summit_series,
    series_in_title,
    leaders_gathering,
    mountain,
    place_name,
    conference,
    sport,
    ministers_only,
    phone_call,
    passing_mention,
    timeline,
)


def compute(ev: Evidence) -> list[Signal]:
    """Every signal that fired, in the order of ``SIGNALS``."""
    return [sig for fn in SIGNALS if (sig := fn(ev)) is not None]
