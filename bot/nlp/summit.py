"""The summit decision: evidence features read from the parsed story, scored by a learned model.

Rules and NER propose evidence with high recall (every sentence that speaks of a summit, of
leaders meeting, of a summit series, of look-alikes such as a chart "summit" or ministers'
talks); a logistic model trained on the labelled corpora (``newsbot train``) weighs it. Leader
counts come from titles in the text ("President X", "X, Israel's prime minister"), never from
the hand-written gazetteer, so no list of names can make a story a summit.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.core.errors import ConfigError
from bot.nlp import lexicon
from bot.nlp.components import HEAD
from bot.nlp.cues import Sentence

MODEL_PATH = Path(__file__).with_name("models") / "summit.json"
FORMAT = "newsbot-summit/1"
LEDE = 3
REASONS = 3
PHRASES = 2
_QUOTE_CHARS = 160
# "June 17-18, 2013 - The G8 summit is held…": a chronology that lists summits in passing.
_DATED_ENTRY = re.compile(
    r"^(?:(?:[A-Z][a-z]{2,8}\.? )?\d{1,2}(?:-\d{1,2})?, )?(?:[A-Z][a-z]{2,8} )?\d{4}\s*[-–—:]\s"
)
# Cue phrases looked for in the headline and in the lede, whole words, lower case.
CUES: dict[str, tuple[str, ...]] = {
    "summit": ("summit", "summits", "summitry"),
    "talks": ("talks", "held talks", "hold talks"),
    "meet": ("meet", "meets", "meeting", "met", "sit-down", "one-on-one"),
    "visit": ("visit", "visits", "visited", "visiting", "state visit", "trip", "tour"),
    "host": ("host", "hosts", "hosted", "hosting", "welcomes", "welcomed", "receives"),
    "arrive": ("arrives", "arrived", "lands", "landed", "heads to", "flies to", "travels to"),
    "counterpart": ("counterpart", "counterparts", "bilateral", "joint statement"),
    "leaders": ("leaders", "heads of state", "heads of government", "world leaders"),
    "future": ("will", "to meet", "to hold", "to host", "to visit", "set to", "plans", "ahead of"),
    "past": ("met", "held", "after", "agreed", "ended", "wrapped up", "concluded"),
    "white_house": ("white house", "oval office", "downing street", "elysee", "kremlin"),
    "forum": ("forum", "davos", "conference", "expo", "festival", "convention", "web summit"),
    "chart": ("chart", "charts", "box office", "album", "league", "table", "climb", "peak"),
    "minister": ("minister", "ministers", "foreign minister", "finance ministers", "envoy"),
    "phone": ("phone", "call", "called", "video call", "spoke by", "telephone"),
    "domestic": ("congress", "governors", "senate", "lawmakers", "mayors", "ceos", "business"),
    "deputy": ("vice president", "secretary of state", "deputy", "first lady", "spokesman"),
    "election": ("election", "campaign", "vote", "poll", "rally", "scandal", "trial"),
}
LOOKALIKES = ("mountain", "place", "conference", "sport", "ministers")
_LEADER = (
    r"(?:president|prime minister|premier|chancellor|king|queen|emperor|emir|leader|taoiseach)"
)
# Word patterns over a sentence's lower-cased words: a leader meeting, hosting or visiting another.
PATTERNS: dict[str, re.Pattern[str]] = {
    "meet_with_leader": re.compile(
        r" (?:meets?|met|meeting|talks|sit-down|summit|visit|visits|visited|bilateral) with "
        rf"(?:\S+ ){{0,4}}{_LEADER}s? "
    ),
    "leader_and_leader": re.compile(rf" {_LEADER} (?:\S+ ){{1,4}}and (?:\S+ ){{0,3}}{_LEADER} "),
    "leader_travels": re.compile(
        rf" {_LEADER} (?:\S+ ){{0,8}}(?:trip|travel|travels|visit|visits|heads|flies|arrives|"
        r"arrived|lands|landed|tour) "
    ),
    "leader_hosts": re.compile(
        rf" {_LEADER} (?:\S+ ){{0,6}}(?:hosts|hosted|host|welcomes|welcomed|receives|received) "
    ),
    "readout": re.compile(
        r" (?:readout|joint statement|joint declaration|joint press conference) "
    ),
    "will_meet": re.compile(
        r" (?:will|to|set to|plans to|expected to) (?:meet|hold|host|visit|attend|travel) "
    ),
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """The title's and body's sentences with their cues, and the article's publication day."""

    title: Sequence[Sentence]
    body: Sequence[Sentence]
    published: date | None = None

    @property
    def all(self) -> list[Sentence]:
        """Title sentences first, then the body."""
        return [*self.title, *self.body]


@dataclass(frozen=True, slots=True)
class Feature:
    """One feature value and the sentence it was read from (for the reasons)."""

    value: float
    sentence: str = ""


def titled_leaders(s: Sentence) -> int:
    """Heads of state or government in a sentence, counted by their titles in the text."""
    named = {e.text for e in s.ents if e.label_ == "PERSON" and e._.newsbot_title_kind == HEAD}
    return max(len(named), s.head_titles)


def persons(s: Sentence) -> int:
    """Distinct PERSON names in a sentence."""
    return len({e.text for e in s.ents if e.label_ == "PERSON"})


def leaders_meeting(s: Sentence) -> bool:
    """Two leaders (or "leaders" as a group) with a meeting word in one sentence, in person."""
    if "meeting" not in s.kinds or remote(s):
        return False
    n = titled_leaders(s)
    return "gathering" in s.kinds or n >= 2 or (n >= 1 and ("summit" in s.kinds or persons(s) >= 2))


# Who a head of government meets at home rather than abroad; and meetings not held in person.
DOMESTIC_PARTNERS = (
    "congressional", "congress", "lawmakers", "senators", "governors", "mayors", "ceos",
    "democrats", "republicans", "tribal", "business leaders", "union leaders", "labor leaders",
    "party leaders", "faith leaders", "community leaders", "state legislators", "cabinet",
)  # fmt: skip
REMOTE = ("virtual", "virtually", "videoconference", "video conference", "video link", "by video")
_HEAD_NOT_MINISTER = ("prime minister", "first minister", "chief minister", "prime ministers")


def countries(s: Sentence) -> set[str]:
    """Countries a sentence names (places and demonyms the gazetteer resolves)."""
    found = set()
    for e in s.ents:
        if e.label_ in {"GPE", "NORP"}:
            country = lexicon.country_of(e.text)
            if country:
                found.add(country)
    return found


def head_people(sents: Sequence[Sentence]) -> set[str]:
    """Distinct people named with a head-of-state or -government title (by surname)."""
    return {
        e.text.split()[-1].replace("’s", "").replace("'s", "").lower()
        for s in sents
        for e in s.ents
        if e.label_ == "PERSON" and e._.newsbot_title_kind == HEAD and e.text.split()
    }


def minister_word(s: Sentence) -> bool:
    """ "Minister(s)" not as part of a head of government's title."""
    low = s.low
    for title in _HEAD_NOT_MINISTER:
        low = low.replace(f" {title} ", " ")
    return any(f" {w} " in low for w in ("minister", "ministers", "envoy", "foreign minister"))


def foreign_meeting(s: Sentence) -> bool:
    """A leader meeting in a sentence that also names a country."""
    return "meeting" in s.kinds and titled_leaders(s) >= 1 and bool(countries(s))


def domestic_meeting(s: Sentence) -> bool:
    """A leader meeting people of their own country's politics or business."""
    return "meeting" in s.kinds and any(s.has(p) for p in DOMESTIC_PARTNERS)


def remote_meeting(s: Sentence) -> bool:
    """A meeting held by video or phone."""
    return "meeting" in s.kinds and (any(s.has(p) for p in REMOTE) or "phone" in s.kinds)


def remote(s: Sentence) -> bool:
    """Spoken by phone or met by video: not in person."""
    return "phone" in s.kinds or any(s.has(p) for p in REMOTE)


def _first(sents: Sequence[Sentence], test: Callable[[Sentence], bool]) -> Feature:
    hit = next((s for s in sents if test(s)), None)
    return Feature(1.0, hit.text) if hit is not None else Feature(0.0)


def _share(sents: Sequence[Sentence], test: Callable[[Sentence], bool], scale: int) -> Feature:
    hits = [s for s in sents if test(s)]
    return Feature(min(1.0, len(hits) / scale), hits[0].text) if hits else Feature(0.0)


def _cue(sents: Sequence[Sentence], phrases: tuple[str, ...]) -> Feature:
    return _first(sents, lambda s: any(s.has(p) for p in phrases))


def _matches(pattern: re.Pattern[str]) -> Callable[[Sentence], bool]:
    return lambda s: bool(pattern.search(s.low))


def features(ev: Evidence) -> dict[str, Feature]:
    """Every feature of one story, by name (a fixed set: absent evidence is a zero)."""
    title, lede, body = list(ev.title), list(ev.body[:LEDE]), list(ev.body)
    head = [*title, *lede]
    f: dict[str, Feature] = {}
    for where, sents in (("title", title), ("lede", lede), ("body", body)):
        f[f"summit_{where}"] = _share(
            sents, lambda s: "summit" in s.kinds, 3 if where == "body" else 1
        )
        f[f"leaders_meet_{where}"] = _first(sents, leaders_meeting)
        f[f"series_{where}"] = _first(sents, lambda s: "series" in s.kinds)
        f[f"gathering_{where}"] = _first(sents, lambda s: "gathering" in s.kinds)
        f[f"head_title_{where}"] = _first(sents, lambda s: titled_leaders(s) >= 1)
        f[f"two_leaders_{where}"] = _first(sents, lambda s: titled_leaders(s) >= 2)
        f[f"two_people_{where}"] = _first(sents, lambda s: persons(s) >= 2)
        f[f"meeting_{where}"] = _first(sents, lambda s: "meeting" in s.kinds)
        f[f"phone_{where}"] = _first(sents, remote)
        f[f"ministers_{where}"] = _first(sents, lambda s: "ministers_word" in s.kinds)
    for name, pattern in PATTERNS.items():
        says = _matches(pattern)
        f[f"{name}_title"] = _first(title, says)
        f[f"{name}_lede"] = _first(lede, says)
        f[f"{name}_body"] = _share(body, says, 3)
    for name, phrases in CUES.items():
        f[f"cue_{name}_title"] = _cue(title, phrases)
        f[f"cue_{name}_lede"] = _cue(lede, phrases)
    f["summit_many"] = _share(body, lambda s: "summit" in s.kinds, 6)
    f["leaders_meet_many"] = _share(body, leaders_meeting, 4)
    f["series_meeting"] = _first(ev.all, lambda s: "series" in s.kinds and "meeting" in s.kinds)
    f["absent"] = _first(ev.all, lambda s: "absent" in s.kinds)
    uses = [(s, u) for s in ev.all for u in s.summit_uses]
    for kind in LOOKALIKES:
        odd = [s for s, u in uses if u == kind]
        f[f"lookalike_{kind}"] = Feature(len(odd) / len(uses), odd[0].text) if odd else Feature(0)
    mentions = [s for s in body if "summit" in s.kinds or leaders_meeting(s)]
    prominent = any("summit" in s.kinds or leaders_meeting(s) for s in head)
    f["passing_mention"] = (
        Feature(1.0, mentions[0].text) if mentions and not prominent else Feature(0.0)
    )
    f["meeting_share"] = Feature(len(mentions) / max(1, len(body)))
    dated = [s for s in body if _DATED_ENTRY.match(s.text)]
    f["timeline"] = Feature(min(1.0, 3 * len(dated) / max(1, len(body))) if len(dated) >= 3 else 0)
    f["no_leader_anywhere"] = Feature(float(not any(titled_leaders(s) for s in ev.all)))
    f["ministers_no_leader"] = Feature(
        float(f["no_leader_anywhere"].value > 0 and any("ministers_word" in s.kinds for s in head))
    )
    f["long_story"] = Feature(min(1.0, math.log1p(len(body)) / math.log(60)))
    f["dated"] = Feature(float(ev.published is not None))
    _partners(f, ev, head, body)
    return f


def _partners(
    f: dict[str, Feature], ev: Evidence, head: list[Sentence], body: list[Sentence]
) -> None:
    """Whom the leader meets, and how: abroad or at home, in person or by video, heads or not."""
    for where, sents in (("head", head), ("body", body)):
        f[f"leaders_meet_{where}_any"] = _first(sents, leaders_meeting)
        f[f"foreign_meeting_{where}"] = _first(sents, foreign_meeting)
        f[f"two_countries_{where}"] = _first(
            sents, lambda s: "meeting" in s.kinds and len(countries(s)) >= 2
        )
        f[f"domestic_meeting_{where}"] = _first(sents, domestic_meeting)
        f[f"remote_meeting_{where}"] = _first(sents, remote_meeting)
        f[f"minister_only_{where}"] = _first(sents, minister_word)
    n = len(head_people(ev.all))
    f["head_people_2"] = Feature(float(n >= 2))
    f["head_people_3"] = Feature(float(n >= 3))
    f["head_people_head_2"] = Feature(float(len(head_people(head)) >= 2))


@dataclass(frozen=True)
class SummitModel:
    """Logistic regression over centred ``features``, with its decision threshold."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    meta: dict[str, Any]

    def contributions(self, found: dict[str, Feature]) -> list[tuple[str, float]]:
        """Each feature's signed effect on the log-odds, in ``names`` order."""
        return [
            (n, c * ((found[n].value if n in found else 0.0) - m) / s)
            for n, m, s, c in zip(self.names, self.mean, self.scale, self.coef, strict=True)
        ]

    def probability(self, found: dict[str, Feature]) -> float:
        """The model's probability that the story is about a summit."""
        z = self.intercept + sum(c for _, c in self.contributions(found))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form (the shipped file)."""
        return {
            "format": FORMAT,
            "names": list(self.names),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "threshold": self.threshold,
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SummitModel:
        """Read the form ``to_json`` writes; ConfigError when it is not one."""
        if data.get("format") != FORMAT:
            raise ConfigError(f"not a summit model (format {data.get('format')!r}, want {FORMAT})")
        names = tuple(str(n) for n in data["names"])
        mean, scale, coef = (tuple(float(x) for x in data[k]) for k in ("mean", "scale", "coef"))
        if not len(mean) == len(scale) == len(coef) == len(names):
            raise ConfigError("summit model is corrupt: column lengths differ")
        return cls(
            names,
            mean,
            scale,
            coef,
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            meta=dict(data.get("meta") or {}),
        )


def load_model(path: Path = MODEL_PATH) -> SummitModel:
    """The shipped (or given) model file; ConfigError says how to rebuild a missing one."""
    try:
        return SummitModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"cannot load summit model {path}: {exc}; rebuild: newsbot train"
        ) from exc


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict, its probability and the evidence behind it in words."""

    is_summit: bool
    score: float
    reasons: tuple[str, ...]


# What each feature means, for a reader; features without a phrase never become a reason.
_SAYS: dict[str, str] = {
    "summit_title": "the headline speaks of a summit",
    "summit_lede": "the lead speaks of a summit",
    "summit_body": "the story speaks of a summit",
    "summit_many": "the summit runs through the story",
    "leaders_meet_title": "the headline has leaders meeting",
    "leaders_meet_lede": "the lead has leaders meeting",
    "leaders_meet_body": "leaders meet in the story",
    "leaders_meet_many": "leaders meeting runs through the story",
    "series_title": "the headline names a summit series",
    "series_lede": "the lead names a summit series",
    "series_meeting": "a summit series meets",
    "gathering_title": "the headline has leaders gathering",
    "gathering_lede": "leaders gather",
    "two_leaders_title": "the headline names two leaders",
    "meet_with_leader_title": "the headline has a leader meeting another",
    "meet_with_leader_lede": "a leader meets another",
    "meet_with_leader_body": "a leader meets another",
    "leader_and_leader_title": "the headline names two leaders together",
    "leader_and_leader_lede": "two leaders appear together",
    "leader_travels_title": "the headline has a leader travelling",
    "leader_travels_lede": "a leader travels abroad",
    "leader_hosts_title": "the headline has a leader hosting",
    "leader_hosts_lede": "a leader hosts another",
    "readout_title": "the headline is a readout or joint statement",
    "readout_lede": "a readout or joint statement",
    "will_meet_title": "the headline announces a meeting",
    "will_meet_lede": "a meeting is announced",
    "two_leaders_lede": "the lead names two leaders",
    "cue_visit_title": "the headline speaks of a visit",
    "cue_talks_title": "the headline speaks of talks",
    "cue_meet_title": "the headline speaks of a meeting",
    "cue_host_title": "the headline has a leader hosting",
    "cue_counterpart_lede": "a leader meets a counterpart",
    "cue_white_house_lede": "the meeting is at a seat of government",
    "lookalike_mountain": "“summit” is used of a peak, not a meeting",
    "lookalike_place": "“Summit” is a place name",
    "lookalike_conference": "the “summit” is a conference or forum",
    "lookalike_sport": "the “summit” is of a chart or a league",
    "lookalike_ministers": "the meeting is of ministers",
    "cue_forum_title": "the headline names a forum or conference",
    "cue_forum_lede": "the lead names a forum or conference",
    "cue_chart_title": "the headline is about a chart or a sport",
    "cue_phone_title": "the leaders spoke by phone",
    "cue_phone_lede": "the leaders spoke by phone",
    "phone_title": "the leaders spoke by phone",
    "phone_lede": "the leaders spoke by phone",
    "cue_domestic_title": "the meeting is a domestic one",
    "cue_domestic_lede": "the meeting is a domestic one",
    "cue_deputy_title": "the meeting is of a deputy or an aide",
    "ministers_title": "the headline speaks of ministers",
    "ministers_no_leader": "only ministers meet",
    "passing_mention": "the summit is mentioned only in passing",
    "timeline": "the story is a chronology",
    "no_leader_anywhere": "no head of state or government is named with a title",
    "absent": "a leader stays away",
    "foreign_meeting_head": "a leader meets abroad or a foreign guest",
    "foreign_meeting_body": "a leader meets abroad or a foreign guest",
    "two_countries_head": "the meeting names two countries",
    "head_people_2": "two heads of state or government are named",
    "head_people_head_2": "the lead names two heads of state or government",
    "domestic_meeting_head": "the leader meets people at home",
    "domestic_meeting_body": "the leader meets people at home",
    "remote_meeting_head": "the meeting is by video or phone",
    "remote_meeting_body": "the meeting is by video or phone",
    "minister_only_head": "the lead speaks of ministers",
}


def decide(ev: Evidence, model: SummitModel, limit: int = REASONS) -> Decision:
    """Score the story and name, in words, the evidence that weighed most for the verdict."""
    found = features(ev)
    p = model.probability(found)
    verdict = p >= model.threshold
    ranked = sorted(
        (c, n) for n, c in model.contributions(found) if (c > 0) == verdict and n in _SAYS
    )
    if verdict:
        ranked.reverse()
    grouped: dict[str, list[str]] = {}
    for _, name in ranked:
        sentence = found[name].sentence if name in found else ""
        if found.get(name, Feature(0)).value <= 0:
            continue  # absent evidence is no reason a reader could check
        says = grouped.setdefault(sentence, [])
        if _SAYS[name] not in says and len(says) < PHRASES:
            says.append(_SAYS[name])
        if len(grouped) >= limit:
            break
    reasons = tuple(_reason(sentence, says) for sentence, says in grouped.items())
    return Decision(verdict, round(p, 3), reasons)


def _reason(sentence: str, says: list[str]) -> str:
    what = "; ".join(says)
    what = what[:1].upper() + what[1:]
    return f"{what}: “{_clip(sentence)}”" if sentence else what


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 1].rstrip() + "…"
