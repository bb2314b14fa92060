"""People in a story merged across mentions, and which of them are the leaders who meet."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from spacy.tokens import Doc, Span

from bot.nlp import leaders, lexicon
from bot.nlp.components import HEAD, OTHER
from bot.nlp.cues import Sentence

_NAME_TITLES = frozenset(
    {"queen", "king", "president", "premier", "chancellor", "pope", "emir", "sultan", "prince",
     "princess", "mr", "mrs", "ms", "dr", "sir", "lord", "dame", "prime", "minister", "chairman"}
)  # fmt: skip
_REGNAL = frozenset({"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "jr", "sr"})
_NAMEY = frozenset({"ORG", "GPE", "NORP", "PRODUCT", "WORK_OF_ART", "LOC"})
_POSSESSIVE = re.compile(r"(?:'s|’s|')$")
COUNTERPART = "COUNTERPART"
_FORMER = ("former", "ex-", "late ", "then-")


@dataclass(frozen=True, slots=True)
class Participant:
    """A leader taking part in the summit."""

    name: str
    title: str | None
    country: str | None

    def to_json(self) -> dict[str, str | None]:
        """The contract's participant object."""
        return {"name": self.name, "title": self.title, "country": self.country}


@dataclass
class Person:
    """All mentions of one person in a story."""

    variants: Counter[str] = field(default_factory=Counter)
    mentions: list[Span] = field(default_factory=list)
    title: str | None = None
    kind: str | None = None
    country: str | None = None
    former: bool = False
    in_title: bool = False
    canonical: str | None = None

    @property
    def name(self) -> str:
        """The fullest, most frequent spelling ("Kim Jong-un" over "Kim Jong Un" and "Kim")."""
        if self.canonical:
            return self.canonical
        best = max(self.variants.items(), key=lambda kv: (len(_key(kv[0]).split()), kv[1]))
        return best[0]

    @property
    def is_leader(self) -> bool:
        """Titled head of state or government, and not a former one."""
        return self.kind == HEAD and not self.former


def _clean(text: str) -> str:
    words = _POSSESSIVE.sub("", " ".join(text.split())).strip(" ,.;:-\"'").split()
    # "Queen Elizabeth", "President Xi": the model sometimes keeps the title in the name.
    while len(words) > 1 and words[0].lower().strip(".") in _NAME_TITLES:
        words = words[1:]
    return " ".join(words)


def _key(text: str) -> str:
    words = text.replace("-", " ").replace(".", " ").lower().split()
    if len(words) > 1 and words[-1] in _REGNAL:
        words = words[:-1]  # "Elizabeth II" is Elizabeth
    return " ".join(words)


def people(doc: Doc, title_doc: Doc | None = None, published: date | None = None) -> list[Person]:
    """PERSON entities of title and body merged into people, in order of first mention."""
    mentions: list[tuple[Span, bool]] = []
    if title_doc is not None:
        mentions += [(e, True) for e in _title_people(title_doc, doc)]
    mentions += [(e, False) for e in doc.ents if e.label_ == "PERSON"]
    by_key: dict[str, Person] = {}
    order: list[Person] = []
    singles: list[tuple[Span, bool, str]] = []
    for span, in_title in mentions:
        text = _clean(span.text)
        key = _key(text)
        if not key or not any(c.isalpha() for c in key):
            continue
        if len(key.split()) == 1:
            singles.append((span, in_title, text))
            continue
        person = by_key.get(key)
        if person is None:
            person = _match_full(by_key, key)
        if person is None:
            person = Person()
            order.append(person)
        by_key[key] = person
        _add(person, span, text, in_title)
    for span, in_title, text in singles:
        key = _key(text)
        candidates = [p for p in order if _shares_name(p, key)]
        if candidates:
            # "President Trump" belongs with Donald Trump, not with the first lady.
            titled = span._.newsbot_title_kind
            person = max(
                candidates,
                key=lambda p: (titled is None or p.kind in {None, titled}, len(p.mentions)),
            )
        else:
            person = by_key.get(key) or Person()
            if key not in by_key:
                by_key[key] = person
                order.append(person)
        _add(person, span, text, in_title)
    found = sorted(order, key=lambda p: min(_position(m) for m in p.mentions))
    for person in found:
        _complete(person, published)
    found = _merge_same_name(found)
    _resolve_counterparts(found)
    return found


def _merge_same_name(persons: list[Person]) -> list[Person]:
    """Clusters that came to the same name ("Macron", "Emmanuel Macron") are one person."""
    by_name: dict[str, Person] = {}
    out: list[Person] = []
    for person in persons:
        first = by_name.get(person.name)
        if first is None:
            by_name[person.name] = person
            out.append(person)
            continue
        first.variants.update(person.variants)
        first.mentions.extend(person.mentions)
        first.in_title = first.in_title or person.in_title
        first.former = first.former or person.former
        if first.kind != HEAD and person.kind is not None:
            first.kind, first.title = person.kind, person.title
        first.country = first.country or person.country
    return out


def _complete(person: Person, published: date | None) -> None:
    """Fill a surname-only name, and an untitled leader's office, from the gazetteer."""
    in_office = known = None
    full = [v for v in person.variants if len(_key(v).split()) > 1]
    # A full name the gazetteer does not know ("Philip May") is not completed from its surname.
    for variant in sorted(full or person.variants, key=lambda v: -len(v)):
        in_office = leaders.lookup(variant, published)
        known = in_office or leaders.lookup(variant, None)
        if known is not None:
            break
    if known is None:
        return
    title = (person.title or "").lower()
    if person.kind == HEAD and title == "chancellor" and known.title != "Chancellor":
        # "Chancellor Gordon Brown" before he led the government: the treasury's chancellor.
        person.kind = OTHER
    if len(_key(person.name).split()) < 2 or _key(person.name) != _key(known.name):
        person.canonical = known.name
    if person.kind is None and in_office is not None and published and not person.former:
        person.kind, person.title = HEAD, known.title
    if person.kind == HEAD and person.country is None:
        person.country = known.country


def _resolve_counterparts(persons: list[Person]) -> None:
    """ "his Israeli counterpart, Ariel Sharon" is a leader only when a leader is the other side."""

    def sentences_of(kind: str) -> set[tuple[int, int]]:
        return {(id(m.doc), m.sent.start) for p in persons if p.kind == kind for m in p.mentions}

    leader_sents, other_sents = sentences_of(HEAD), sentences_of(OTHER)
    for person in persons:
        if person.kind != COUNTERPART:
            continue
        sents = {(id(m.doc), m.sent.start) for m in person.mentions}
        # A minister's counterpart is a minister.
        person.kind = HEAD if sents & leader_sents and not sents & other_sents else None


def _title_people(title_doc: Doc, doc: Doc) -> list[Span]:
    """PERSON entities of the headline, plus names the model mislabels there but not in the body."""
    parts: set[str] = set()
    for e in doc.ents:
        if e.label_ == "PERSON":
            words = _key(_clean(e.text)).split()
            if len(words) > 1:
                parts.update((words[0], words[-1]))
    return [
        e
        for e in title_doc.ents
        if e.label_ == "PERSON" or (e.label_ in _NAMEY and _key(_clean(e.text)) in parts)
    ]


def _position(span: Span) -> tuple[int, int]:
    return (0 if span.doc.user_data.get("newsbot_is_title") else 1, span.start)


def _match_full(by_key: dict[str, Person], key: str) -> Person | None:
    # "Donald J. Trump" and "Donald Trump"; "Kim Jong Un" and "Kim Jong-un" already share a key.
    words = key.split()
    for other_key, person in by_key.items():
        other = other_key.split()
        if words[0] == other[0] and words[-1] == other[-1]:
            return person
    return None


def _shares_name(person: Person, key: str) -> bool:
    for variant in person.variants:
        words = _key(variant).split()
        if len(words) > 1 and key in (words[0], words[-1]):
            return True
    return False


def _add(person: Person, span: Span, text: str, in_title: bool) -> None:
    person.variants[text] += 1
    person.mentions.append(span)
    person.in_title = person.in_title or in_title
    title = span._.newsbot_title
    kind = span._.newsbot_title_kind
    before = span.doc[max(0, span.start - 5) : span.start].text.lower()
    if (title and any(f in title.lower() for f in _FORMER)) or any(f in before for f in _FORMER):
        person.former = True
    if kind == HEAD and title and title.lower() in {"counterpart", "counterparts"}:
        kind = COUNTERPART
    if title and (person.kind != HEAD or (kind == HEAD and person.country is None)):
        if kind == HEAD or person.kind is None:
            person.title = _title_case(title)
            person.kind = kind
        if span._.newsbot_country and kind == HEAD:
            person.country = span._.newsbot_country
    if person.country is None and kind == HEAD:
        person.country = _possessive_country(span)


def _possessive_country(span: Span) -> str | None:
    # "Italy's Giuseppe Conte", "Canada's Trudeau"
    doc = span.doc
    if span.start >= 2 and doc[span.start - 1].text in {"'s", "’s"}:
        return lexicon.country_of(doc[span.start - 2].text)
    return None


def _title_case(title: str) -> str:
    small = {"of", "the", "and"}
    return " ".join(
        w if w.lower() in small else w[:1].upper() + w[1:].lower() for w in title.split()
    )


def possessive_leaders(persons: list[Person]) -> None:
    """ "Italy's Giuseppe Conte": an untitled person qualified by a country is often its leader."""
    for person in persons:
        if person.kind is not None:
            continue
        for span in person.mentions:
            country = _possessive_country(span)
            if country is not None:
                person.kind = "POSSESSIVE"
                person.country = country
                break


def participants(
    persons: list[Person],
    sents: list[Sentence],
    city: str | None = None,
    country: str | None = None,
) -> list[Participant]:
    """The leaders who meet: titled heads of state/government central to the meeting told.

    Each leader scores by where they are named (headline, lede, sentences about the meeting);
    those scoring at least half the best are kept, so a leader mentioned in passing is not.
    """
    scored = [
        (relevance(p, sents), p)
        for p in persons
        if (p.is_leader or p.kind == "POSSESSIVE")
        and not absent(p, sents)
        and not elsewhere(p, sents, city, country)
    ]
    if not scored:
        return []
    best = max(score for score, _ in scored)
    return [
        Participant(p.name, p.title, p.country)
        for score, p in scored
        if score >= max(MIN_RELEVANCE, RELATIVE_RELEVANCE * best)
        and (p.kind != "POSSESSIVE" or score >= 2 * MIN_RELEVANCE)
    ]


MIN_RELEVANCE = 1.5
RELATIVE_RELEVANCE = 0.3


def _sentences_of(person: Person, sents: list[Sentence]) -> list[Sentence]:
    """The sentences a person is named in."""
    found: list[Sentence] = []
    for m in person.mentions:
        for s in sents:
            if s.span.doc is m.doc and s.span.start <= m.start < s.span.end:
                found.append(s)
                break
    return found


def absent(person: Person, sents: list[Sentence]) -> bool:
    """The story is that this leader skips the meeting ("skips summit", "without attending")."""
    mine = _sentences_of(person, sents)
    skipping = [s for s in mine if "absent" in s.kinds]
    return bool(skipping) and any(s.in_title or s.index < 3 for s in skipping)


def elsewhere(
    person: Person, sents: list[Sentence], city: str | None, country: str | None = None
) -> bool:
    """Every meeting this leader is named at is placed somewhere else than the story's summit."""
    if city is None and country is None:
        return False
    meeting = [s for s in _sentences_of(person, sents) if s.kinds & {"summit", "meeting"}]
    if not meeting or any(s.in_title for s in meeting):
        return False
    for s in meeting:
        places = _places(s)
        if not places or (city is not None and city in places) or country in places:
            return False
    return True


def _places(s: Sentence) -> set[str]:
    """Cities and countries a sentence places something in ("in Canada", "in Helsinki")."""
    out: set[str] = set()
    doc = s.span.doc
    for e in s.ents:
        if e.label_ != "GPE" or e.start == 0 or doc[e.start - 1].lower_ not in {"in", "at", "to"}:
            continue
        country = lexicon.country_of(e.text)
        found = None if country else lexicon.city_of(e.text)
        if country:
            out.add(country)
        elif found:
            out.update(found)
    return out


def relevance(person: Person, sents: list[Sentence]) -> float:
    """Headline 3, lede 1.5, 1 per meeting sentence (max 3), 0.25 per mention (max 4), title 1."""
    found = [s for s in _sentences_of(person, sents) if "phone" not in s.kinds]
    in_title = any(s.in_title for s in found)
    in_lede = any(not s.in_title and s.index < 3 for s in found)
    meeting = {
        s.index + (1000 if s.in_title else 0)
        for s in found
        if s.kinds & {"summit", "meeting", "gathering", "series"} and "phone" not in s.kinds
    }
    titled = 1.0 if person.kind == HEAD and person.title else 0.0
    return (
        3.0 * in_title + 1.5 * in_lede + min(len(meeting), 3) + 0.25 * min(len(found), 4) + titled
    )


def participant_features(
    persons: list[Person], sents: list[Sentence], published: date | None
) -> list[tuple[Person, dict[str, float]]]:
    """Every person with what a learned scorer needs to tell a participant from a mention."""
    scores = {id(p): relevance(p, sents) for p in persons}
    leaders_ = [p for p in persons if p.is_leader or p.kind == "POSSESSIVE"]
    best = max((scores[id(p)] for p in leaders_), default=0.0)
    ranked = sorted(leaders_, key=lambda p: -scores[id(p)])
    out: list[tuple[Person, dict[str, float]]] = []
    for person in persons:
        mine = _sentences_of(person, sents)
        meeting = [s for s in mine if s.kinds & {"summit", "meeting", "gathering", "series"}]
        with_leader = [s for s in meeting if s.head_titles >= 2 or "gathering" in s.kinds]
        words = _key(person.name).split()
        title = (person.title or "").lower()
        score = scores[id(person)]
        feats = {
            "leader": float(person.is_leader),
            "possessive": float(person.kind == "POSSESSIVE"),
            "other_title": float(person.kind == OTHER),
            "untitled": float(person.kind is None),
            "former": float(person.former),
            "known_in_office": float(_known(person, published)),
            "known_ever": float(_known(person, None)),
            "country": float(person.country is not None),
            "in_title": float(person.in_title),
            "in_lede": float(any(not s.in_title and s.index < 3 for s in mine)),
            "first_sentence": float(
                min((s.index for s in mine if not s.in_title), default=99) == 0
            ),
            "meeting_sents": min(len(meeting), 4) / 4,
            "meeting_with_leader": min(len(with_leader), 3) / 3,
            "summit_sents": min(sum("summit" in s.kinds for s in mine), 3) / 3,
            "phone_only": float(bool(mine) and all("phone" in s.kinds for s in mine)),
            "mentions": math.log1p(len(person.mentions)),
            "relevance": score,
            "relative": score / best if best else 0.0,
            "top": float(bool(ranked) and ranked[0] is person),
            "rank2": float(len(ranked) > 1 and ranked[1] is person),
            "absent": float(absent(person, sents)),
            "one_word": float(len(words) < 2),
            "long_name": float(len(words) > 3),
            # "Xi Jinping Trump": a span that runs two people together.
            "merged": float(_merged(person, persons)),
            "head_title_word": float(
                any(t in title for t in ("president", "prime", "king", "chancellor", "premier"))
            ),
        }
        out.append((person, feats))
    return out


def _known(person: Person, published: date | None) -> bool:
    return any(leaders.lookup(v, published) is not None for v in person.variants)


def _merged(person: Person, persons: list[Person]) -> bool:
    """ "Xi Jinping Trump": a name that runs into another person's surname."""
    words = _key(person.name).split()
    if len(words) < 3:
        return False
    others = {_key(p.name).split()[-1] for p in persons if p is not person}
    return any(w in others for w in words[1:])


_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})


def canonical_name(name: str, published: date | None) -> str:
    """The gazetteer's spelling when it knows the leader, else the name without middle initials.

    "Joseph R. Biden Jr." is Joe Biden; "Kishida Fumio" is Fumio Kishida; "Ferdinand R. Marcos
    Jr" keeps its suffix but drops the initial.
    """
    words = name.split()
    bare = [w for w in words if len(w.strip(".")) > 1 or not w[:1].isalpha()]
    if len(bare) >= 2:
        bare = [bare[0], *(w for w in bare[1:-1] if not _is_initial(w)), bare[-1]]
    core = [w for w in bare if w.lower().strip(".") not in _SUFFIXES]
    tries = [name, " ".join(bare), " ".join(core)]
    if len(core) == 2:
        tries.append(f"{core[1]} {core[0]}")
    for attempt in tries:
        known = leaders.lookup(attempt, published)
        if known is not None:
            return known.name
    if len(core) >= 2:
        known = leaders.lookup(core[-1], published)
        if known is not None and _key(known.name)[:1] == _key(core[0])[:1]:
            return known.name
    return " ".join(bare) if len(bare) >= 2 else name


def _is_initial(word: str) -> bool:
    return len(word.strip(".")) == 1 and word[:1].isupper()


def same_leader(a: str, b: str) -> bool:
    """Whether one name is a cut-off form of the other ("Luiz Inácio Lula da" of the full)."""
    ka, kb = _key(a).split(), _key(b).split()
    short, long_ = (ka, kb) if len(ka) <= len(kb) else (kb, ka)
    return short != long_ and long_[: len(short)] == short and len(short) >= 2
