"""Which story an analysed summit report belongs to, by weighed evidence (see evidence.py).

Pure functions over plain records; storage hands in the candidate stories and keeps the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.core.models import NewItem
from bot.core.stories import Quote, StoryFacts
from bot.core.text import first_sentence
from bot.stories.evidence import SERIES_PREFIX, Model, explain, features, shipped_model
from bot.stories.facts import facts_from_analysis, merge_facts, quotes_from_analysis
from bot.stories.similarity import lead, names, series, signature


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
    terms: frozenset[str] = frozenset()


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
    """How far back to look for a story, and the model that weighs the evidence."""

    horizon: timedelta = timedelta(days=60)
    model: Model = field(default_factory=shipped_model)


@dataclass(frozen=True, slots=True)
class Match:
    """The story a report joins, how likely, and the evidence that decided it."""

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
    text = f"{item.title}\n{lead(item.summary)}\n{summary}"
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
        terms=report_terms(text),
    )


def report_terms(text: str) -> frozenset[str]:
    """The names and summit series a report's text mentions, as stored beside it."""
    return names(text) | {SERIES_PREFIX + name for name in series(text)}


def story_facts(reports: tuple[Report, ...] | list[Report]) -> StoryFacts:
    """The merged facts of a set of reports (newest report per fact wins)."""
    return merge_facts([(r.published, r.facts) for r in sorted(reports, key=_order)])


def _order(report: Report) -> tuple[datetime, int]:
    return report.published, report.item_id


def closer_half(probabilities: list[float]) -> float:
    """The mean of the closer half of a report's pair scores with a story's reports.

    Single link lets one look-alike report chain two meetings together (a leader's tour);
    complete link lets one off-topic report split a meeting; the closer half does neither.
    """
    ranked = sorted(probabilities, reverse=True)
    half = ranked[: (len(ranked) + 1) // 2]
    return sum(half) / len(half)


def score_match(report: Report, story: StoryState, model: Model) -> Match:
    """How likely ``report`` tells of ``story``'s meeting, by closer-half average linkage."""
    scored = [
        (model.probability(v), v) for v in (features(report, r, model) for r in story.reports)
    ]
    _, values = max(scored, key=lambda pair: pair[0])
    linked = closer_half([p for p, _ in scored])
    return Match(story.id, linked, (f"p={linked:.2f}", *explain(model, values)))


def best_match(
    report: Report, candidates: list[StoryState], policy: ClusterPolicy | None = None
) -> Match | None:
    """The most likely candidate story for ``report``, however unlikely (None without any)."""
    policy = policy or ClusterPolicy()
    matches = [score_match(report, story, policy.model) for story in candidates if story.reports]
    return max(matches, key=lambda match: (match.score, -match.story_id), default=None)


def assign(
    report: Report, candidates: list[StoryState], policy: ClusterPolicy | None = None
) -> Match | None:
    """The most likely candidate story for ``report``, or None when none reaches the threshold."""
    policy = policy or ClusterPolicy()
    best = best_match(report, candidates, policy)
    return best if best is not None and best.score >= policy.model.threshold else None


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
