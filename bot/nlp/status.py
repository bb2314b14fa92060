"""Classify a summit story's state from cue phrases, tense and its dates against publication."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import Literal

from spacy.tokens import Doc

from bot.nlp._text import MEETING_WEIGHTS, Segment, Tense, clause_tense
from bot.nlp.dates import doc_segments, words

Status = Literal["upcoming", "ongoing", "concluded", "cancelled", "postponed"]

_CANCELLED = re.compile(
    r"\b(?:call(?:ed|s|ing)? off|cancel(?:l?ed|s|l?ing|lation)|scrap(?:ped|s|ping)?|axed"
    r"|will not (?:take place|go ahead)|won't (?:take place|go ahead))\b",
    re.IGNORECASE,
)
_POSTPONED = re.compile(
    r"\b(?:postpon(?:ed|es|ing|ement)|delayed|reschedul(?:ed|es|ing)|pushed back|put off)\b",
    re.IGNORECASE,
)
_MEETING = r"(?:summit|meeting|talks|visit)"
_MEETING_WORD = re.compile(rf"\b{_MEETING}s?\b", re.IGNORECASE)
_NEAR = 60  # characters: about the clause a cancellation cue is part of
# "at the recent summit", "at a June summit": a summit at some other time than now.
_NOT_NOW = (
    r"(?:recent|upcoming|next|last|previous|planned|proposed|future|january|february|march|april"
    r"|may|june|july|august|september|october|november|december)"
)
_STRONG: dict[Status, re.Pattern[str]] = {
    "upcoming": re.compile(
        r"\b(?:ahead of|will (?:meet|hold|host)|arriv(?:es|ed|ing) (?:in \w+(?: \w+)? )?for"
        r"|(?:is|are) scheduled to)\b",
        re.IGNORECASE,
    ),
    "concluded": re.compile(
        rf"\b(?:wrapped up|ended|concluded|held talks|after (?:the |a |their )?{_MEETING})\b",
        re.IGNORECASE,
    ),
}
# "at the summit" places more often than it dates, so it counts for less than a tense cue.
_AT_MEETING = re.compile(
    rf"\bat (?!(?:[\w-]+ )?{_NOT_NOW}\b)(?:the |a |this |their )?(?:[\w-]+ ){{0,2}}{_MEETING}\b",
    re.IGNORECASE,
)
_AT_WEIGHT = 0.5
_WEEKEND = re.compile(r"\bthis weekend\b", re.IGNORECASE)


_DONE_TODAY = re.compile(
    r"\b(?:met|held|hosted|welcomed|signed|agreed|discussed|wrapped up)\b[^.]{0,60}\btoday\b"
    r"|\btoday\b[^.]{0,40}\b(?:met|held|hosted|welcomed|signed|agreed)\b",
    re.IGNORECASE,
)


def _phrases(*alternatives: str) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of the cue phrases on word boundaries."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


_CUES: dict[Status, re.Pattern[str]] = {
    "upcoming": _phrases(
        r"will (?:meet|hold|host|attend|travel|visit|join|sit|discuss)",
        r"'ll meet",
        r"ahead of",
        r"arriv(?:es|ed|ing) (?:in \w+(?: \w+)? )?for",
        r"(?:is|are) (?:scheduled|due|set) to",
        r"(?:is|are) expected to (?:meet|hold|attend|discuss|sign)",
        r"upcoming",
        r"forthcoming",
        r"next week's",
        r"next (?:week|month)",
        r"to be held",
        r"preparations? for",
        r"plans? to (?:meet|hold|attend|visit)",
        r"later (?:this (?:week|month)|today|on \w+day)",
        r"in the run-up to",
    ),
    "ongoing": _phrases(
        r"(?:is|are) (?:meeting|holding|gathering|hosting|attending|gathered|taking part)",
        rf"during (?:the |a |their |his |her )?(?:[\w-]+ ){{0,2}}{_MEETING}",
        r"on the sidelines",
        r"live updates",
        r"kicked off",
        r"got under way",
        r"opened",
        rf"{_MEETING} (?:continue|continued|continues)",
        r"(?:second|first|final) day",
    ),
    "concluded": _phrases(
        r"held (?:talks|a summit|a meeting)",
        r"wrapped up",
        r"ended",
        r"concluded",
        rf"(?:after|following) (?:the |a |their )?(?:[\w-]+ )?{_MEETING}",
        r"returned from",
        r"arrived back",
        r"back from",
    ),
}


def classify_status(
    doc: Doc, published: date | None, start: date | None, end: date | None
) -> Status:
    """The summit's state: cancellations first, then dates against publication, then cues."""
    segs = doc_segments(doc)
    meeting_segs = [s for s in segs if _about_meeting(s)]
    for seg in meeting_segs[:4]:
        if _near_meeting(_CANCELLED, seg.text):
            return "cancelled"
        if _near_meeting(_POSTPONED, seg.text):
            return "postponed"
    if published is not None and start is not None:
        if start > published + timedelta(days=1):
            return "upcoming"
        if (end or start) < published:
            return "concluded"
        # The summit is on or about the publication day: the lead says which side of it we are.
        lead = " ".join(seg.text for seg in meeting_segs[:3])  # the title and lead sentences
        # A readout of the day: "met today", "Today, the President hosted ...".
        if _STRONG["concluded"].search(lead) or _DONE_TODAY.search(lead):
            return "concluded"
        if _STRONG["upcoming"].search(lead) or start > published:
            return "upcoming"
        return "ongoing"
    # "this weekend" in a story published on a Saturday or Sunday is now.
    weekend = published is not None and published.weekday() >= 5
    if weekend and any(_WEEKEND.search(seg.text) for seg in meeting_segs):
        return "ongoing"
    cued = _cue_scores(meeting_segs)
    best: Status = max(cued, key=lambda k: cued[k])
    return best if cued[best] > 0 else "ongoing"


def _near_meeting(pattern: re.Pattern[str], text: str) -> bool:
    """Whether a cue is said of a meeting: a meeting word close by, and not "long-delayed"."""
    for m in pattern.finditer(text):
        window = text[max(0, m.start() - _NEAR) : m.end() + _NEAR]
        if text[m.start() - 1 : m.start()] != "-" and _MEETING_WORD.search(window):
            return True
    return False


def _about_meeting(seg: Segment) -> bool:
    """Whether a segment mentions the meeting at all."""
    return any(w.lower in MEETING_WEIGHTS for w in words(seg.text))


def _cue_scores(segs: list[Segment]) -> dict[Status, float]:
    """Cue counts per state, weighted towards the lead and towards clauses naming the summit."""
    scores: dict[Status, float] = {"upcoming": 0.0, "ongoing": 0.0, "concluded": 0.0}
    for rank, seg in enumerate(segs):
        weight = 3.0 if rank == 0 else 2.0 if rank < 3 else 1.0
        if "summit" in seg.text.lower():
            weight *= 2.0
        for status, pattern in _CUES.items():
            scores[status] += weight * len(pattern.findall(seg.text))
        scores["ongoing"] += _AT_WEIGHT * weight * len(_AT_MEETING.findall(seg.text))
    return scores


STATUS_CLASSES: tuple[Status, ...] = ("upcoming", "ongoing", "concluded")
_MEETING_ANCHORS = frozenset(w for w, v in MEETING_WEIGHTS.items() if v >= 1.0)
_SOON = re.compile(
    r"\b(?:next (?:week|month)|later (?:this|today)|this (?:coming )?weekend|in the coming days"
    r"|tomorrow|tonight)\b",
    re.IGNORECASE,
)
_TITLE_FUTURE = re.compile(
    r"\b(?:to (?:meet|visit|host|hold|attend|travel)|will|heads? to|set to)\b", re.I
)
_TITLE_PRESENT = re.compile(r"\b(?:meets|arrives|holds|hosts|visits|welcomes|opens|gather)\b", re.I)
_TITLE_PAST = re.compile(
    r"\b(?:met|held|hosted|ended|ends|wraps|closes|agreed|signed|after)\b", re.I
)


def status_features(doc: Doc, title_doc: Doc | None, published: date | None) -> dict[str, float]:
    """Tense and cue evidence about the meeting's state, for a learned classifier."""
    segs = doc_segments(doc)
    meeting_segs = [s for s in segs if _about_meeting(s)]
    feats: dict[str, float] = {}
    for seg in meeting_segs[:4]:
        if _near_meeting(_CANCELLED, seg.text):
            feats["cancelled"] = 1.0
        elif _near_meeting(_POSTPONED, seg.text):
            feats["postponed"] = 1.0
    cued = _cue_scores(meeting_segs)
    total = sum(cued.values())
    for status, value in cued.items():
        feats[f"cue_{status}"] = math.log1p(value)
        feats[f"share_{status}"] = value / total if total else 0.0
    lead = " ".join(seg.text for seg in meeting_segs[:3])
    feats["strong_concluded"] = float(bool(_STRONG["concluded"].search(lead)))
    feats["strong_upcoming"] = float(bool(_STRONG["upcoming"].search(lead)))
    feats["soon"] = float(bool(_SOON.search(lead)))
    feats["done_today"] = float(bool(_DONE_TODAY.search(lead)))
    weekend = published is not None and published.weekday() >= 5
    feats["weekend_now"] = float(weekend and any(_WEEKEND.search(s.text) for s in meeting_segs))
    for tense in (Tense.PAST, Tense.PRESENT, Tense.FUTURE):
        feats[f"lead_{tense.value}"] = 0.0
    for seg in meeting_segs[:3]:
        ws = words(seg.text)
        for i, w in enumerate(ws):
            if w.lower in _MEETING_ANCHORS:
                tense = clause_tense(ws, i, i)
                if tense is not Tense.NONE:
                    feats[f"lead_{tense.value}"] += 1.0
    for tense in (Tense.PAST, Tense.PRESENT, Tense.FUTURE):
        feats[f"lead_{tense.value}"] = math.log1p(feats[f"lead_{tense.value}"])
    title = title_doc.text if title_doc is not None else ""
    feats["title_future"] = float(bool(_TITLE_FUTURE.search(title)))
    feats["title_present"] = float(bool(_TITLE_PRESENT.search(title)))
    feats["title_past"] = float(bool(_TITLE_PAST.search(title)))
    feats["no_date"] = float(published is None)
    feats["readout"] = float("readout" in title.lower())
    return feats
