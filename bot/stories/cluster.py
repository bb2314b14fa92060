"""Which story an analysed summit report belongs to: same people, place and time, or same text.

Pure functions over plain records; storage hands in the candidate stories and keeps the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from bot.core.models import NewItem
from bot.core.stories import Quote, StoryFacts
from bot.core.text import first_sentence
from bot.stories.facts import facts_from_analysis, merge_facts, quotes_from_analysis, same_person
from bot.stories.similarity import signature, similarity


@dataclass(frozen=True, slots=True)
class Report:
    """One analysed summit item, as clustering and stories need it."""

    item_id: int
    title: str
    link: str | None
    outlet: str | None
    published: datetime
    facts: StoryFacts
    score: float
    summary: str = ""
    reasons: tuple[str, ...] = ()
    quotes: tuple[Quote, ...] = ()
    signature: bytes = b""


@dataclass(frozen=True, slots=True)
class StoryState:
    """A candidate story: its merged facts and its reports so far."""

    id: int
    facts: StoryFacts
    reports: tuple[Report, ...]

    @property
    def published_range(self) -> tuple[datetime, datetime]:
        """When its first and latest reports were published."""
        times = [report.published for report in self.reports]
        return min(times), max(times)


@dataclass(frozen=True, slots=True)
class ClusterPolicy:
    """How close two reports must be to tell of the same summit."""

    date_tolerance: timedelta = timedelta(days=3)
    publish_window: timedelta = timedelta(days=10)
    horizon: timedelta = timedelta(days=60)
    similar_text: float = 0.5
    duplicate_text: float = 0.8


@dataclass(frozen=True, slots=True)
class Match:
    """The story a report joins, how strongly, and why."""

    story_id: int
    score: float
    reasons: tuple[str, ...] = field(default=())


def outlet_of(item: NewItem) -> str | None:
    """The outlet's name: the feed title, else the link's host."""
    if item.feed_title:
        return item.feed_title
    host = urlsplit(item.link or item.feed_url).hostname
    return host.removeprefix("www.") if host else None


def lead_sentence(text: str, limit: int = 300) -> str:
    """The first sentence of ``text``, cut at ``limit`` characters."""
    sentence = first_sentence(text)
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def report_from_item(item: NewItem) -> Report:
    """The report of an analysed item (an item without analysis has no facts)."""
    analysis = item.analysis or {}
    summary = str(analysis.get("summary") or "") or item.summary
    return Report(
        item_id=item.id,
        title=item.title,
        link=item.link,
        outlet=outlet_of(item),
        published=item.published or item.first_seen,
        facts=facts_from_analysis(analysis),
        score=float(analysis.get("score") or 0.0),
        summary=lead_sentence(summary),
        reasons=tuple(str(reason) for reason in analysis.get("reasons") or []),
        quotes=quotes_from_analysis(analysis),
        signature=signature(f"{item.title} {item.summary}"),
    )


def story_facts(reports: tuple[Report, ...] | list[Report]) -> StoryFacts:
    """The merged facts of a set of reports (newest report per fact wins)."""
    return merge_facts([(r.published, r.facts) for r in sorted(reports, key=_order)])


def _order(report: Report) -> tuple[datetime, int]:
    return report.published, report.item_id


def _common_people(a: StoryFacts, b: StoryFacts) -> int:
    return sum(any(same_person(p.name, q.name) for q in b.participants) for p in a.participants)


def _people_fit(report: StoryFacts, story: StoryFacts, place_and_time: bool) -> str | None:
    """Why the participants fit (None when they say "another meeting")."""
    if not report.participants or not story.participants:
        return "participants unknown on one side"
    common = _common_people(report, story)
    smaller = min(len(report.participants), len(story.participants))
    union = len(report.participants) + len(story.participants) - common
    if common == smaller:
        return f"{common} participant(s) in common"
    if common and (common / union >= 0.5 or place_and_time):
        return f"{common} of {union} participants in common"
    return None


def _same(a: str | None, b: str | None) -> bool | None:
    if a is None or b is None:
        return None
    return a.casefold() == b.casefold()


def _dates_close(report: StoryFacts, story: StoryFacts, tolerance: timedelta) -> bool | None:
    if report.start_date is None or story.start_date is None:
        return None
    r_end = report.end_date or report.start_date
    s_end = story.end_date or story.start_date
    return report.start_date <= s_end + tolerance and story.start_date <= r_end + tolerance


def _still_ahead(story: StoryState, published: date) -> bool:
    """The story's meeting had not happened when the report was written (it may be moved)."""
    last_day = story.facts.end_date or story.facts.start_date
    return story.facts.status != "concluded" and last_day is not None and published <= last_day


def _published_close(report: Report, story: StoryState, window: timedelta) -> bool:
    first, last = story.published_range
    if story.facts.start_date is not None:
        last_day = story.facts.end_date or story.facts.start_date
        last = max(last, datetime.combine(last_day, datetime.min.time(), report.published.tzinfo))
    return first - window <= report.published <= last + window


def score_match(report: Report, story: StoryState, policy: ClusterPolicy) -> Match | None:
    """How well ``report`` fits ``story``, or None when it tells of another summit.

    Conflicting facts veto even near-duplicate text (generic headlines repeat every year):
    another country, other participants, or other dates once the meeting has taken place.
    """
    text = max((similarity(report.signature, r.signature) for r in story.reports), default=0.0)
    close_in_time = _published_close(report, story, policy.publish_window)
    facts, known = report.facts, story.facts
    country, city = _same(facts.country, known.country), _same(facts.city, known.city)
    dates = _dates_close(facts, known, policy.date_tolerance)
    if country is False:
        return None
    if dates is False and not (_still_ahead(story, report.published.date()) and city is not False):
        return None
    if dates is None and not close_in_time:
        return None
    people = _people_fit(facts, known, place_and_time=bool(city and dates))
    if people is None:
        return None
    reasons = [people]
    score = 0.0
    if facts.participants and known.participants:
        common = _common_people(facts, known)
        score += 2.0 * common / min(len(facts.participants), len(known.participants))
    if city:
        score += 1.0
        reasons.append(f"same city ({facts.city})")
    elif country:
        score += 0.5
        reasons.append(f"same country ({facts.country})")
    if dates:
        score += 1.0
        reasons.append("overlapping dates")
    elif dates is False:
        reasons.append("dates moved before the meeting")
    if text >= policy.duplicate_text:
        score += 2 * text
        reasons.insert(0, f"near-duplicate text ({text:.2f})")
    elif text >= policy.similar_text:
        score += text
        reasons.append(f"similar text ({text:.2f})")
    # Participants alone are too weak: the same leaders meet again elsewhere another time.
    evidence = bool(city) or bool(dates) or text >= policy.similar_text
    if not evidence and not (
        facts.participants and known.participants and close_in_time and city is None
    ):
        return None
    return Match(story.id, score, tuple(reasons))


def assign(
    report: Report, candidates: list[StoryState], policy: ClusterPolicy | None = None
) -> Match | None:
    """The best-fitting candidate story for ``report``, or None for a new story."""
    policy = policy or ClusterPolicy()
    matches = [
        match
        for story in candidates
        if story.reports and (match := score_match(report, story, policy)) is not None
    ]
    return max(matches, key=lambda match: (match.score, -match.story_id), default=None)


@dataclass(frozen=True, slots=True)
class StoryDraft:
    """What a story shows, derived from all its reports."""

    title: str
    summary: str
    facts: StoryFacts
    score: float
    reasons: tuple[str, ...]
    quotes: tuple[Quote, ...]
    search_text: str


def draft(reports: tuple[Report, ...] | list[Report], max_quotes: int = 10) -> StoryDraft:
    """The story's headline (the opening report's), newest summary, merged facts and quotes."""
    by_time = sorted(reports, key=_order)
    opening = min(reports, key=lambda report: report.item_id)
    strongest = max(reports, key=lambda report: (report.score, -report.item_id))
    facts = story_facts(by_time)
    summary = next((r.summary for r in reversed(by_time) if r.summary), "")
    quotes = tuple({q.text: q for r in by_time for q in r.quotes}.values())[:max_quotes]
    words = [opening.title, summary, *(r.title for r in by_time), *facts.agenda]
    words += [p.name for p in facts.participants]
    words += [part for part in (facts.city, facts.country, facts.venue) if part]
    return StoryDraft(
        title=opening.title,
        summary=summary,
        facts=facts,
        score=strongest.score,
        reasons=strongest.reasons,
        quotes=quotes,
        search_text=" ".join(" ".join(words).split()).casefold(),
    )
