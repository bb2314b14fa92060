"""Does a story match a subscription's filters or mention a watched term? (word matches)"""

from __future__ import annotations

import re
import unicodedata

from bot.core.stories import Filters, Story
from bot.stories.facts import where_text


def fold(text: str) -> str:
    """Case- and accent-insensitive text with single spaces."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return " ".join(re.sub(r"[-‐-―]", " ", plain).split())


def contains_words(text: str, term: str) -> bool:
    """True when ``term`` appears in ``text`` as whole words ("Kim" in "Kim Jong-un")."""
    needle = fold(term)
    if not needle:
        return False
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", fold(text)) is not None


def story_text(story: Story) -> str:
    """Everything a watch or keyword may match: titles, summary, facts, agenda, quotes."""
    facts = story.facts
    parts = [story.title, story.summary, *(source.title for source in story.sources)]
    parts += [p.name for p in facts.participants] + [where_text(facts) or ""]
    parts += list(facts.agenda) + [quote.text for quote in story.quotes]
    return "\n".join(parts)


def mentions(story: Story, term: str) -> bool:
    """True when the story mentions ``term`` anywhere."""
    return contains_words(story_text(story), term)


def matches(story: Story, filters: Filters) -> bool:
    """True when the story passes every non-empty filter group (any term within a group)."""
    if story.score < filters.min_score:
        return False
    facts = story.facts
    names = "\n".join(p.name for p in facts.participants)
    countries = "\n".join(
        [c for c in (facts.country, *(p.country for p in facts.participants)) if c]
    )
    text = story_text(story)
    groups = (
        (filters.participants, names),
        (filters.countries, countries),
        (filters.keywords, text),
    )
    return all(
        not terms or any(contains_words(haystack, term) for term in terms)
        for terms, haystack in groups
    )
