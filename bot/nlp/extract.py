"""The summit extractor: gate → spaCy (batched, on trimmed text) → detection → facts."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from spacy.tokens import Doc

from bot.core.text import without_headline
from bot.nlp import cues, gate, lexicon
from bot.nlp.agenda import find_agenda
from bot.nlp.dates import resolve_dates
from bot.nlp.location import Location, find_location
from bot.nlp.participants import Participant, Person, participants, people, possessive_leaders
from bot.nlp.pipeline import DEFAULT_MODEL, load_pipeline
from bot.nlp.quotes import Quote, find_quotes
from bot.nlp.status import classify_status
from bot.nlp.summary import summarise
from bot.nlp.summit import Evidence, SummitModel, decide, load_model

log = logging.getLogger(__name__)
T = TypeVar("T")

# The facts sit in the lead and in paragraphs about the meeting; spaCy's cost grows with length.
LEAD_WORDS = 400
MAX_WORDS = 800
_PARAGRAPH = re.compile(r"\n\s*\n|\n")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’']))\s+(?=[\"“‘A-Z0-9])")
# Page furniture inside article text: video teasers, share and subscribe prompts.
_CHROME = re.compile(
    r"JUST WATCHED|MUST WATCH|Replay More Videos|Hide Caption|"
    r"^\s*(Read more|Click here|Sign up|Follow us|Share this|Related:|Advertisement)\b",
    re.IGNORECASE,
)
# Paragraphs worth spaCy's time after the lead: first those about the meeting, then the rest
# that carry quotes or agenda words.
_STRONG_CUE = re.compile(
    r"\b(summit\w*|talks|meet|meets|met|meeting|visit\w*|leaders|g-?\d+|nato|apec|asean|"
    r"counterparts?|hosts?|hosted)\b",
    re.IGNORECASE,
)
_WEAK_CUE = re.compile(
    r"\b(leader|president|prime minister|premier|chancellor|agenda|sanctions|trade|deal|"
    r"agreement|said|says)\b",
    re.IGNORECASE,
)


@dataclass
class Article:
    """One article to analyse."""

    id: str
    title: str
    text: str
    published: date | None = None


@dataclass(frozen=True)
class Analysis:
    """What the extractor found in one article; ``to_json`` is the public contract."""

    id: str
    is_summit: bool
    score: float
    reasons: tuple[str, ...] = ()
    participants: tuple[Participant, ...] = ()
    location: Location = field(default_factory=Location)
    start_date: date | None = None
    end_date: date | None = None
    status: str | None = None
    agenda: tuple[str, ...] = ()
    quotes: tuple[Quote, ...] = ()
    summary: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The contract: ``{"id", "is_summit", "score", "reasons", "participants", ...}``."""
        return {
            "id": self.id,
            "is_summit": self.is_summit,
            "score": self.score,
            "reasons": list(self.reasons),
            "participants": [p.to_json() for p in self.participants],
            "location": self.location.to_json(),
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "status": self.status,
            "agenda": list(self.agenda),
            "quotes": [{"speaker": q.speaker, "text": q.text} for q in self.quotes],
            "summary": self.summary,
        }


GATE_REASON = "gate: no summit keyword (summit, a summit series, or a meeting word near a title)"


def trim(text: str, lead_words: int = LEAD_WORDS, max_words: int = MAX_WORDS) -> str:
    """The lead, then paragraphs about the meeting, then others with quotes or agenda words.

    At most ``max_words`` (a paragraph that does not fit is skipped); original order is kept.
    """
    chunks = list(_chunks(text))
    sizes = [len(c.split()) for c in chunks]
    chosen: set[int] = set()
    used = 0
    for i, n in enumerate(sizes):
        if used >= lead_words:
            break
        if used + n <= max_words or not chosen:
            chosen.add(i)
            used += n
    for cue in (_STRONG_CUE, _WEAK_CUE):
        for i, chunk in enumerate(chunks):
            if i not in chosen and used + sizes[i] <= max_words and cue.search(chunk):
                chosen.add(i)
                used += sizes[i]
    return "\n\n".join(chunks[i] for i in sorted(chosen))


def _chunks(text: str) -> Iterator[str]:
    for raw in _PARAGRAPH.split(text):
        para = raw.strip()
        if not para or _CHROME.search(para):
            continue
        if len(para.split()) <= 150:
            yield para
            continue
        # Wire copy often comes as one block; cut it into sentence-sized pieces.
        yield from (s for s in _SENTENCE_END.split(para) if s.strip())


def prepare(article: Article) -> tuple[str, str]:
    """The two texts spaCy reads for an article: its title, and its trimmed body without the
    headline repeated at its top (a page's text often starts with it)."""
    return article.title, trim(without_headline(article.title, article.text))


class Extractor:
    """Analyses articles with one shared spaCy pipeline and the shipped summit model.

    Synchronous and CPU-bound: run it off the event loop, from one worker thread at a time.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        batch_size: int = 32,
        summit_model: SummitModel | None = None,
    ) -> None:
        self.nlp = load_pipeline(model)
        self.batch_size = batch_size
        self.summit_model = summit_model or load_model()
        lexicon.warm()

    def analyse_one(self, article: Article) -> Analysis:
        """Analyse one article."""
        return self.analyse([article])[0]

    def analyse(self, articles: Sequence[Article]) -> list[Analysis]:
        """Gate every article, run spaCy in batches on those that pass, and read their facts."""
        results: list[Analysis | None] = [None] * len(articles)
        todo: list[int] = []
        for i, article in enumerate(articles):
            if gate.passes(article.title, article.text):
                todo.append(i)
            else:
                results[i] = Analysis(article.id, False, 0.0, (GATE_REASON,))
        texts: list[str] = []
        for i in todo:
            texts += prepare(articles[i])
        docs = list(self.nlp.pipe(texts, batch_size=self.batch_size))
        for k, i in enumerate(todo):
            title_doc, body = docs[2 * k], docs[2 * k + 1]
            results[i] = analyse_docs(articles[i], title_doc, body, self.summit_model)
        return [r for r in results if r is not None]


def analyse_docs(article: Article, title_doc: Doc, doc: Doc, model: SummitModel) -> Analysis:
    """The summit decision and the facts of one article from its processed title and body."""
    ev = evidence(article, title_doc, doc)
    found = decide(ev, model)
    reasons = found.reasons
    if not found.is_summit:
        return Analysis(article.id, False, found.score, reasons)
    ctx = fact_context(article, title_doc, doc, ev)
    persons, all_sents, where = list(ctx.people), ctx.all, ctx.location
    nobody: list[Participant] = []
    leaders = _fact(
        article, "participants", nobody, participants, persons, all_sents, where.city, where.country
    )
    no_dates: tuple[date | None, date | None] = (None, None)
    start, end = _fact(article, "dates", no_dates, resolve_dates, doc, article.published)
    status = _fact(article, "status", None, classify_status, doc, article.published, start, end)
    named = {x.name for x in leaders}
    speakers = [p.name for p in leaders] + [p.name for p in persons if p.name not in named]
    return Analysis(
        id=article.id,
        is_summit=True,
        score=found.score,
        reasons=reasons,
        participants=tuple(leaders),
        location=where,
        start_date=start,
        end_date=end,
        status=status,
        agenda=tuple(_fact(article, "agenda", [], find_agenda, doc)),
        quotes=tuple(_fact(article, "quotes", [], find_quotes, doc, speakers)),
        summary=_fact(article, "summary", "", summarise, article.title, doc) or None,
    )


def _fact(article: Article, name: str, empty: T, read: Callable[..., T], *args: Any) -> T:
    """One fact; a failing extractor leaves that fact empty instead of losing the article."""
    try:
        return read(*args)
    except Exception:  # one bad fact must not cost the verdict and the other facts
        log.exception("extracting %s failed for article %r", name, article.id)
        return empty


@dataclass(frozen=True)
class FactContext:
    """What the fact readers share: every sentence, the people named and the meeting's place."""

    all: list[cues.Sentence]
    people: list[Person]
    location: Location


def fact_context(article: Article, title_doc: Doc, doc: Doc, ev: Evidence) -> FactContext:
    """The people and place of a story whose sentences ``ev`` holds."""
    persons = people(doc, title_doc, article.published)
    possessive_leaders(persons)
    return FactContext(ev.all, persons, find_location(ev.all, article.text))


def evidence(article: Article, title_doc: Doc, doc: Doc) -> Evidence:
    """The title's and body's sentences with their cues: what the summit model reads."""
    title_doc.user_data["newsbot_is_title"] = True
    return Evidence(
        cues.sentences(title_doc, in_title=True), cues.sentences(doc), article.published
    )


def split_title(raw: str) -> tuple[str, str]:
    """A text file's title (its first non-empty line that is not page furniture) and body."""
    lines = raw.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if (
            not stripped
            or lexicon.CHROME_LINE.match(stripped)
            or not any(c.isalpha() for c in stripped)
        ):
            continue
        return stripped, "\n".join(lines[i + 1 :]).strip()
    return "", ""
