"""Key facts of a summit: read from an analysis, merged across reports, compared over time."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, get_args

from bot.core.stories import FactChange, Participant, Quote, Status, StoryFacts

# The facts whose change is worth an update post; agenda and quotes only refresh the story.
KEY_FACTS = ("participants", "city", "country", "venue", "start_date", "end_date", "status")
_STATUSES: frozenset[str] = frozenset(get_args(Status)) - {"ended"}
_AHEAD = frozenset({"upcoming", "ongoing", "postponed"})
_OVER = frozenset({"concluded", "cancelled"})
_WORD = re.compile(r"[^\W_]+")


def name_key(name: str) -> tuple[str, ...]:
    """Comparable words of a name: "Kim Jong-un" and "Kim Jong Un" give the same key."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return tuple(_WORD.findall(plain))


def same_person(left: str, right: str) -> bool:
    """True when one name's words contain the other's and the surnames agree ("Trump")."""
    a, b = name_key(left), name_key(right)
    if not a or not b:
        return False
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return set(short) <= set(long) and (short[-1] == long[-1] or short[0] == long[0])


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def facts_from_analysis(analysis: Mapping[str, Any]) -> StoryFacts:
    """The facts of one report, from the extractor's JSON contract (bad values become None)."""
    people = []
    for person in analysis.get("participants") or []:
        if isinstance(person, Mapping) and _text(person.get("name")):
            people.append(
                Participant(
                    name=str(_text(person.get("name"))),
                    title=_text(person.get("title")),
                    country=_text(person.get("country")),
                )
            )
    location = analysis.get("location")
    place: Mapping[str, Any] = location if isinstance(location, Mapping) else {}
    status = _text(analysis.get("status"))
    start, end = _day(analysis.get("start_date")), _day(analysis.get("end_date"))
    if start is not None and end is not None and end < start:
        end = None
    return StoryFacts(
        participants=merge_participants([tuple(people)]),
        city=_text(place.get("city")),
        country=_text(place.get("country")),
        venue=_text(place.get("venue")),
        start_date=start,
        end_date=end,
        status=status if status in _STATUSES else None,  # type: ignore[arg-type]
        agenda=tuple(dict.fromkeys(str(a) for a in analysis.get("agenda") or [] if a)),
    )


def quotes_from_analysis(analysis: Mapping[str, Any]) -> tuple[Quote, ...]:
    """The direct quotes of one report."""
    return tuple(
        Quote(speaker=str(quote.get("speaker") or ""), text=str(quote["text"]))
        for quote in analysis.get("quotes") or []
        if isinstance(quote, Mapping) and quote.get("text")
    )


def merge_participants(groups: Iterable[Sequence[Participant]]) -> tuple[Participant, ...]:
    """Everyone named in any group, once; later groups fill in a longer name, title, country."""
    merged: list[Participant] = []
    for group in groups:
        for person in group:
            index = next(
                (i for i, known in enumerate(merged) if same_person(known.name, person.name)),
                None,
            )
            if index is None:
                merged.append(person)
                continue
            known = merged[index]
            merged[index] = Participant(
                name=person.name if len(person.name) > len(known.name) else known.name,
                title=person.title or known.title,
                country=person.country or known.country,
            )
    return tuple(merged)


def merge_facts(reports: Sequence[tuple[datetime, StoryFacts]]) -> StoryFacts:
    """Facts of a story from its reports: per fact the newest report that states it wins.

    A report that says nothing about a fact never erases it, except that a postponement
    without new dates clears the old ones. Participants and agenda are
    unions, since one report often names only some of them. Start and end dates travel
    together, so a moved start never keeps an end date that now lies before it.
    """
    ordered = [facts for _, facts in sorted(reports, key=lambda pair: pair[0])]
    merged = StoryFacts(
        participants=merge_participants(f.participants for f in ordered),
        agenda=tuple(dict.fromkeys(topic for f in ordered for topic in f.agenda)),
    )
    for facts in ordered:
        moved = facts.start_date is not None and facts.start_date != merged.start_date
        if facts.status == "postponed" and merged.status != "postponed" and not moved:
            # Put off without a new date: the old dates no longer hold, so they go.
            merged = replace(merged, start_date=None, end_date=None)
        merged = replace(
            merged,
            city=facts.city or merged.city,
            country=facts.country or merged.country,
            venue=facts.venue or merged.venue,
            status=_later_status(merged.status, facts.status, moved),
        )
        if facts.start_date is not None:
            end = facts.end_date or merged.end_date
            if end is not None and end < facts.start_date:
                end = None
            merged = replace(merged, start_date=facts.start_date, end_date=end)
        elif facts.end_date is not None and (
            merged.start_date is None or facts.end_date >= merged.start_date
        ):
            merged = replace(merged, end_date=facts.end_date)
    return merged


def _later_status(known: Status | None, said: Status | None, moved: bool) -> Status | None:
    """Status follows time: a report that a meeting is over is not undone by an older-sounding
    one ("upcoming", "ongoing") unless that report also gives new dates."""
    if said is None:
        return known
    if known in _OVER and said in _AHEAD and not moved:
        return known
    return said


def aged(facts: StoryFacts, today: date) -> StoryFacts:
    """The facts as of ``today``: a meeting still "upcoming" or "ongoing" after its last day
    reads "ended" (shown "Ended?") until a report says how it went."""
    last_day = facts.end_date or facts.start_date
    if facts.status in ("upcoming", "ongoing") and last_day is not None and last_day < today:
        return replace(facts, status="ended")
    return facts


def show(field: str, facts: StoryFacts) -> str | None:
    """One key fact as text, as kept in the change history."""
    if field == "participants":
        return ", ".join(person.name for person in facts.participants) or None
    value = getattr(facts, field)
    if isinstance(value, date):
        return value.isoformat()
    return None if value is None else str(value)


def _named(name: str, people: Sequence[Participant]) -> bool:
    return any(same_person(name, person.name) for person in people)


def _differs(field: str, old: StoryFacts, new: StoryFacts) -> bool:
    if field == "participants":
        gone = [p for p in old.participants if not _named(p.name, new.participants)]
        added = [p for p in new.participants if not _named(p.name, old.participants)]
        return bool(gone or added)
    before, after = show(field, old), show(field, new)
    if before is not None and after is not None:
        return before.casefold() != after.casefold()
    return before != after


def key_changes(old: StoryFacts, new: StoryFacts, at: datetime) -> tuple[FactChange, ...]:
    """The key facts that differ, old to new; a longer spelling of the same name is no change."""
    return tuple(
        FactChange(at=at, field=field, old=show(field, old), new=show(field, new))
        for field in KEY_FACTS
        if _differs(field, old, new)
    )


def net_changes(changes: Sequence[FactChange]) -> tuple[FactChange, ...]:
    """Several changes in a row as one per fact, first old to last new (none if it came back)."""
    first: dict[str, FactChange] = {}
    last: dict[str, FactChange] = {}
    for change in changes:
        first.setdefault(change.field, change)
        last[change.field] = change
    net = []
    for field in KEY_FACTS:
        if field in last:
            old, new = first[field].old, last[field].new
            if (old or "").casefold() != (new or "").casefold():
                net.append(replace(last[field], old=old))
    return tuple(net)


def facts_to_json(facts: StoryFacts) -> dict[str, Any]:
    """Facts as a JSON object for storage."""
    return {
        "participants": [
            {"name": p.name, "title": p.title, "country": p.country} for p in facts.participants
        ],
        "location": {"city": facts.city, "country": facts.country, "venue": facts.venue},
        "start_date": facts.start_date.isoformat() if facts.start_date else None,
        "end_date": facts.end_date.isoformat() if facts.end_date else None,
        "status": facts.status,
        "agenda": list(facts.agenda),
    }


def facts_from_json(data: Mapping[str, Any]) -> StoryFacts:
    """Facts back from storage (same shape as the extractor's JSON)."""
    return facts_from_analysis(data)


def who_text(facts: StoryFacts) -> str:
    """The participants, e.g. "Xi Jinping (President, China); Joe Biden (United States)"."""
    names = []
    for person in facts.participants:
        extra = ", ".join(part for part in (person.title, person.country) if part)
        names.append(f"{person.name} ({extra})" if extra else person.name)
    return "; ".join(names)


def where_text(facts: StoryFacts) -> str:
    """Venue, city and country, as far as known."""
    parts = [part for part in (facts.venue, facts.city, facts.country) if part]
    return ", ".join(dict.fromkeys(parts))


def when_text(facts: StoryFacts) -> str:
    """The dates, e.g. "12–13 May 2026" or "30 Apr – 2 May 2026"."""
    start, end = facts.start_date, facts.end_date
    if start is None:
        return f"until {_day_text(end)}" if end else ""
    if end is None or end == start:
        return _day_text(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{_day_text(end)}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {_day_text(end)}"
    return f"{_day_text(start)} – {_day_text(end)}"


def _day_text(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def status_text(facts: StoryFacts) -> str:
    """The status word, capitalised ("Ended?" when the dates passed without a report)."""
    if facts.status == "ended":
        return "Ended?"
    return facts.status.capitalize() if facts.status else ""


def facts_line(facts: StoryFacts) -> str:
    """One line of facts: who · where · when · status (unknown parts left out)."""
    parts = (who_text(facts), where_text(facts), when_text(facts), status_text(facts))
    return " · ".join(part for part in parts if part) or "Facts not known yet"


_FIELD_LABELS = {
    "participants": "Participants",
    "city": "City",
    "country": "Country",
    "venue": "Venue",
    "start_date": "Start date",
    "end_date": "End date",
    "dates": "Dates",
    "status": "Status",
    "agenda": "Agenda",
}


def change_label(change: FactChange) -> str:
    """A human name for the changed fact, the same on every platform."""
    return _FIELD_LABELS.get(change.field, change.field.replace("_", " ").capitalize())
