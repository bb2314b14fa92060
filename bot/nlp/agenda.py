"""Find the agenda topics a summit story mentions, as canonical names in order of first mention."""

from __future__ import annotations

import re

from spacy.tokens import Doc

from bot.nlp._text import segments

# Canonical topic -> phrases that name it. Order only breaks ties between topics found together.
_TOPICS: dict[str, tuple[str, ...]] = {
    "denuclearization": (r"denucleari[sz](?:ation|e|ing)",),
    "nuclear weapons": (
        r"nuclear (?:weapons?|arms|arsenals?|programs?|programmes?|tests?|warheads?|disarmament"
        r"|deal|issue|ambitions|development)",
        r"warheads?",
        r"arms control",
        r"non-?proliferation",
    ),
    "missiles": (r"(?:ballistic )?missiles?(?: programs?| programmes?| tests?| launch(?:es)?)?",),
    "sanctions": (r"sanctions?(?: relief)?", r"embargo(?:es)?"),
    "trade": (
        r"trade",
        r"tariffs?",
        r"free[- ]trade",
        r"(?-i:FTA)",
        r"market access",
        r"(?:exports?|imports?) (?:of|to|from)",
    ),
    "economy": (
        r"econom(?:y|ies|ic(?: cooperation| growth| ties| relations| reforms?)?)",
        r"investments?",
        r"growth",
        r"jobs",
    ),
    "climate": (
        r"climate(?: change| crisis| accord| agreement)?",
        r"global warming",
        r"carbon (?:emissions|pollut\w+)",
        r"emissions",
        r"Paris (?:accord|agreement)",
    ),
    "security": (
        r"(?:national |regional |maritime |collective |European )?security"
        r"(?! (?:advis[eo]rs?|guards?|forces|officials|services?|staff|detail|council))",
    ),
    "defence": (
        r"defen[cs]e (?:spending|budgets?|cooperation|pact)",
        r"military (?:spending|exercises|drills|cooperation|alliance)",
        r"troops?",
    ),
    "peace process": (
        r"peace (?:process|talks|deal|plan|agreement|treaty|regime|roadmap|accord|efforts?)",
        r"ceasefire",
        r"cease-fire",
        r"armistice",
        r"roadmap",
    ),
    "human rights": (r"human rights", r"rights abuses", r"political prisoners"),
    "migration": (
        r"migra(?:tion|nts?)",
        r"refugees?",
        r"asylum(?: seekers)?",
        r"immigra(?:tion|nts?)",
        r"border controls?",
    ),
    "energy": (
        r"energy",
        r"oil",
        r"natural gas",
        r"gas (?:supplies|pipelines?|prices)",
        r"pipelines?",
        r"(?-i:LNG)",
        r"renewables?",
    ),
    "terrorism": (
        r"(?:counter-?)?terror(?:ism|ists?|ist attacks?)?",
        r"extremis(?:m|ts?)",
        r"Islamic State",
        r"(?-i:ISIS)",
        r"al[- ]Qaeda",
    ),
    "Ukraine war": (r"Ukrain(?:e|ian)", r"Crimea", r"Donbas+"),
    "maritime disputes": (
        r"South China Sea",
        r"East China Sea",
        r"freedom of navigation",
        r"territorial (?:disputes?|claims)",
        r"maritime (?:disputes?|claims)",
    ),
    "drugs": (r"opioids?", r"fentanyl", r"drug trafficking", r"narcotics"),
    "cybersecurity": (r"cyber(?:[- ]?(?:security|attacks?|warfare|crime|espionage))?", r"hacking"),
    "health": (r"pandemics?", r"covid(?:-19)?", r"coronavirus", r"vaccines?", r"public health"),
    "Brexit": (r"Brexit",),
    "budget": (r"(?:EU |European )?budget", r"rebate"),
    "development aid": (r"debt relief", r"development aid", r"foreign aid", r"poverty"),
}
# Topics whose phrases are proper nouns; for the rest a capitalised match is part of a name.
_PROPER = frozenset({"Brexit", "Ukraine war", "maritime disputes", "terrorism", "climate"})
# Acronyms are marked (?-i:...) so that they keep their case ("FTA" is not "fta").
_PATTERNS: dict[str, re.Pattern[str]] = {
    topic: re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)
    for topic, phrases in _TOPICS.items()
}


def find_agenda(doc: Doc) -> list[str]:
    """Canonical agenda topics of a story, in the order the text first mentions them."""
    first_seen: dict[str, int] = {}
    for segment in segments(doc):
        for topic, pattern in _PATTERNS.items():
            if topic in first_seen:
                continue
            match = next((m for m in pattern.finditer(segment.text) if _is_topic(m, topic)), None)
            if match:
                first_seen[topic] = segment.start + match.start()
    return sorted(first_seen, key=first_seen.__getitem__)


def _is_topic(match: re.Match[str], topic: str) -> bool:
    """Whether a match names the topic rather than part of a name ("Economic Cooperation")."""
    if topic in _PROPER or match.start() == 0 or not match.group()[0].isupper():
        return True
    return match.group().isupper()
