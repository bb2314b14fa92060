"""Our spaCy components: leader titles, summit series, venues, and fixes for the NER's mistakes.

Registered as ``newsbot_lexicon`` and ``newsbot_entity_fixes``; results live in span groups
(``doc.spans["newsbot_titles"]``, ``doc.spans["newsbot_series"]``), in ``Span._`` attributes of
PERSON entities (``newsbot_title``, ``newsbot_title_kind``, ``newsbot_country``) and in the
``Doc._.newsbot_series`` / ``Doc._.newsbot_leaders`` getters.
"""

from __future__ import annotations

from collections.abc import Iterable

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from bot.nlp import lexicon

TITLES = "newsbot_titles"
SERIES = "newsbot_series"
HEAD = "HEAD"
OTHER = "OTHER"
_NAMEY = {"PERSON", "ORG", "GPE", "NORP", "LOC", "PRODUCT", "WORK_OF_ART", "FAC", "EVENT"}
_PLACE_LABELS = {"GPE", "NORP", "LOC"}
_CITY_PREPOSITIONS = {"in", "to", "at", "from", "into"}
_NOT_NAMES = {
    "the",
    "a",
    "an",
    "this",
    "that",
    "his",
    "her",
    "their",
    "its",
    "in",
    "at",
    "on",
    "to",
}

for _name in ("newsbot_title", "newsbot_title_kind", "newsbot_country"):
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=None)


def _series_of(doc: Doc) -> list[str]:
    return sorted({s.label_ for s in doc.spans.get(SERIES, [])})


def _titled_leaders(doc: Doc) -> list[Span]:
    return [e for e in doc.ents if e.label_ == "PERSON" and e._.newsbot_title_kind == HEAD]


if not Doc.has_extension("newsbot_series"):
    Doc.set_extension("newsbot_series", getter=_series_of)
if not Doc.has_extension("newsbot_leaders"):
    Doc.set_extension("newsbot_leaders", getter=_titled_leaders)


class LexiconComponent:
    """Marks leader titles and summit series in span groups and venues as FAC entities."""

    def __init__(self, nlp: Language, name: str, venues: bool) -> None:
        self.name = name
        self.venues = venues
        self.titles = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.titles.add(HEAD, [nlp.make_doc(t) for t in sorted(lexicon.HEAD_TITLES)])
        self.titles.add(OTHER, [nlp.make_doc(t) for t in sorted(lexicon.OTHER_TITLES)])
        self.series = PhraseMatcher(nlp.vocab, attr="LOWER")
        for phrase, canonical in lexicon.SUMMIT_SERIES.items():
            self.series.add(canonical, [nlp.make_doc(phrase)])
        self.venue_matcher = Matcher(nlp.vocab)
        heads = sorted(h for h in lexicon.VENUE_HEADS if " " not in h)
        proper = {"IS_TITLE": True, "LOWER": {"NOT_IN": sorted(_NOT_NAMES)}}
        self.venue_matcher.add(
            "FAC",
            [
                [proper, {"IS_TITLE": True, "OP": "*"}, {"LOWER": {"IN": heads}}],
                [{"LOWER": {"IN": heads}, "IS_TITLE": True}, {"LOWER": "of"}, proper],
                [
                    proper,
                    {"IS_TITLE": True, "OP": "*"},
                    {"LOWER": {"IN": ["convention", "conference", "congress", "international"]}},
                    {"LOWER": {"IN": ["center", "centre"]}},
                ],
            ],
        )

    def __call__(self, doc: Doc) -> Doc:
        titles: list[Span] = []
        for match_id, start, end in self.titles(doc):
            titles.append(Span(doc, start, end, label=self._title_kind(doc, start, match_id)))
        doc.spans[TITLES] = filter_spans(titles)
        doc.spans[SERIES] = filter_spans(
            [Span(doc, s, e, label=m) for m, s, e in self.series(doc) if _standalone(doc, s, e)]
        )
        if self.venues:
            _set_venues(doc, [Span(doc, s, e, label="FAC") for _, s, e in self.venue_matcher(doc)])
        return doc

    def _title_kind(self, doc: Doc, start: int, match_id: int) -> str:
        kind = doc.vocab.strings[match_id]
        if kind != HEAD:
            return kind
        before = doc[start - 1] if start > 0 else None
        if before is not None and before.lower_ in lexicon.FORMER_WORDS:
            return OTHER
        if before is not None and before.lower_ in lexicon.NON_STATE_QUALIFIERS:
            return OTHER
        text = doc[start].lower_
        if text == "chancellor" and before is not None:
            # Britain's chancellor runs the treasury; Germany's and Austria's run the government.
            qualifier = lexicon.country_of(before.text) or ""
            if qualifier == "United Kingdom":
                return OTHER
        after = doc[start + 1] if start + 1 < len(doc) else None
        if (
            text == "premier"
            and after is not None
            and after.is_title
            and after.ent_type_ != "PERSON"
        ):
            return OTHER  # "Premier League", "Premier Inn"
        if text in {"leader", "chairman", "king", "queen", "president", "premier"}:
            # "leader" and "chairman" are offices of parties and boards unless a state qualifies
            # them ("North Korean leader"); lower-case "president" after an ORG is a company's.
            if before is None:
                return HEAD if text not in {"leader", "chairman"} else OTHER
            if before.ent_type_ in _PLACE_LABELS or before.lower_ in {"'s", "’s"}:
                return HEAD
            if before.ent_type_ == "ORG" and text in {"president", "chairman", "leader"}:
                return OTHER
            if text in {"leader", "chairman"}:
                return OTHER
        return HEAD


def _standalone(doc: Doc, start: int, end: int) -> bool:
    """A series acronym inside a longer word-like token run (e.g. a URL) does not count."""
    return not (end < len(doc) and doc[end].text in {"-", "/"} and doc[start].is_upper is False)


def _set_venues(doc: Doc, venues: Iterable[Span]) -> None:
    people = [e for e in doc.ents if e.label_ == "PERSON"]
    found = filter_spans(
        [v for v in venues if not any(p.start < v.end and v.start < p.end for p in people)]
    )
    if not found:
        return
    kept = [e for e in doc.ents if not any(e.start < v.end and v.start < e.end for v in found)]
    doc.ents = filter_spans([*kept, *found])


class EntityFixes:
    """Repairs the small model's habits on news: leader names tagged ORG/GPE, trailing blanks.

    A span is relabelled PERSON when it repeats a surname or given name of a PERSON found elsewhere
    in the document, or directly follows a leader title ("President Trump"); the title and the
    country qualifying it are attached to every PERSON entity.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        titles = {t.end: t for t in doc.spans[TITLES]} if TITLES in doc.spans else {}
        ents = [t for e in doc.ents if (t := _trim(e)) is not None]
        person_parts: set[str] = set()
        for e in ents:
            if e.label_ == "PERSON" and len(e) > 1:
                words = [t.text for t in e if t.is_alpha or "-" in t.text]
                if words:
                    person_parts.add(words[-1])
                    person_parts.add(words[0])
        fixed: list[Span] = []
        for e in ents:
            label = e.label_
            text = e.text
            after_title = e.start in titles and label != "FAC" and e[0].is_title
            repeats_name = len(e) == 1 and text in person_parts and lexicon.country_of(text) is None
            if label in _NAMEY and label != "PERSON" and (after_title or repeats_name):
                label = "PERSON"
            elif label in {"PERSON", "ORG"} and not after_title and _city_after_preposition(e):
                label = "GPE"
            fixed.append(e if label == e.label_ else Span(doc, e.start, e.end, label=label))
        # Title-case words right after a head-of-state title with no entity at all are a name.
        covered = {i for e in fixed for i in range(e.start, e.end)}
        for end, title in titles.items():
            j = end
            while j < len(doc) and doc[j].is_title and j not in covered and doc[j].is_alpha:
                j += 1
            if j > end and title.label_ == HEAD and not doc[end].is_sent_start:
                fixed.append(Span(doc, end, j, label="PERSON"))
        doc.ents = filter_spans(fixed)
        for e in doc.ents:
            if e.label_ == "PERSON":
                _attach_title(doc, e, titles)
        return doc


def _city_after_preposition(span: Span) -> bool:
    """ "travel to Busan", "talks in Hanoi": a known city after a place word, whatever the tag.

    The small model tags unfamiliar cities as people or organisations; a large city named right
    after "in", "to" or "at" is a place unless the same name is used for a person elsewhere.
    """
    doc = span.doc
    if span.start == 0 or doc[span.start - 1].lower_ not in _CITY_PREPOSITIONS:
        return False
    if any(e.label_ == "PERSON" and e.text == span.text and e != span for e in doc.ents):
        return False
    return lexicon.city_of(span.text) is not None and lexicon.city_population(span.text) >= 100_000


def _trim(span: Span) -> Span | None:
    start, end = span.start, span.end
    doc = span.doc
    while start < end and (doc[start].is_space or doc[start].is_punct):
        start += 1
    while end > start and (doc[end - 1].is_space or doc[end - 1].is_punct):
        end -= 1
    if start == end:
        return None
    if (start, end) == (span.start, span.end):
        return Span(doc, start, end, label=span.label_)
    return Span(doc, start, end, label=span.label_)


def _attach_title(doc: Doc, person: Span, titles: dict[int, Span]) -> None:
    """Title before the name ("US President X") or in apposition ("X, Israel's premier")."""
    title = titles.get(person.start)
    if title is None:
        title = _appositive_title(doc, person)
    if title is None:
        title = _leading_appositive(doc, person, titles)
    if title is None:
        return
    person._.newsbot_title = title.text.strip()
    person._.newsbot_title_kind = title.label_
    person._.newsbot_country = _qualifier_country(doc, title.start)


def _appositive_title(doc: Doc, person: Span) -> Span | None:
    # "Ariel Sharon, Israel's prime minister" / "Theresa May, the British prime minister"
    i = person.end
    if i >= len(doc) or doc[i].text != ",":
        return None
    titles: list[Span] = list(doc.spans.get(TITLES, []))
    for title in titles:
        if i < title.start <= i + 5 and all(
            not doc[k].is_punct or doc[k].text in {"'s", "’s"} for k in range(i + 1, title.start)
        ):
            # "Melania Trump, Queen Elizabeth": a title right before a name is that name's.
            if title.end < len(doc) and doc[title.end].ent_type_ == "PERSON":
                return None
            return title
    return None


def _leading_appositive(doc: Doc, person: Span, titles: dict[int, Span]) -> Span | None:
    # "the Palestinian leader, Mahmoud Abbas" / "his Israeli counterpart, Ariel Sharon"
    if person.start >= 2 and doc[person.start - 1].text == ",":
        return titles.get(person.start - 1)
    return None


def _qualifier_country(doc: Doc, title_start: int) -> str | None:
    """The country named just before a title: "US", "North Korean", "Israel's", "the British"."""
    i = title_start - 1
    if i >= 0 and doc[i].text in {"'s", "’s"}:
        i -= 1
    if i >= 0 and doc[i].ent_type_ in _PLACE_LABELS | {"ORG"}:
        for ent in doc.ents:
            if ent.start <= i < ent.end:
                text = ent.text
                return lexicon.country_of(text) or lexicon.BLOCS.get(text.lower())
    if i >= 0:
        word = doc[i].text
        country = lexicon.country_of(word)
        if country:
            return country
        return lexicon.BLOCS.get(word.lower())
    return None


@Language.factory("newsbot_lexicon", default_config={"venues": True})
def make_lexicon(nlp: Language, name: str, venues: bool) -> LexiconComponent:
    """Titles, summit series and venues."""
    return LexiconComponent(nlp, name, venues)


@Language.factory("newsbot_entity_fixes")
def make_entity_fixes(nlp: Language, name: str) -> EntityFixes:
    """Relabel leader names the model tags ORG/GPE and attach titles to people."""
    return EntityFixes(name)
