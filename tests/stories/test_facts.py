"""Fact merge across reports and the key-fact change history (pure)."""

from __future__ import annotations

from datetime import date

from bot.core.stories import Participant, StoryFacts
from bot.stories.facts import (
    facts_from_analysis,
    facts_line,
    key_changes,
    merge_facts,
    same_person,
)
from tests.stories.helpers import KIM, TRUMP, analysis, day


def test_analysis_to_facts_and_bad_values() -> None:
    facts = facts_from_analysis(
        analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27", end="bad")
    )
    assert [p.name for p in facts.participants] == ["Donald Trump", "Kim Jong-un"]
    assert facts.start_date == date(2019, 2, 27)
    assert facts.end_date is None
    assert facts_from_analysis({"status": "imaginary", "start_date": "2019-13-40"}) == StoryFacts()
    reversed_range = facts_from_analysis(analysis(start="2019-02-28", end="2019-02-27"))
    assert reversed_range.end_date is None


def test_names_merge_across_spellings() -> None:
    assert same_person("Kim Jong-un", "Kim Jong Un")
    assert same_person("Trump", "Donald Trump")
    assert not same_person("Kim Jong-un", "Moon Jae-in")


def test_newest_report_wins_per_fact_and_null_never_erases() -> None:
    older = facts_from_analysis(
        analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27")
    )
    newer = facts_from_analysis(
        analysis({"name": "Kim Jong Un"}, venue="Metropole Hotel", status="ongoing")
    )
    merged = merge_facts([(day("2019-02-27"), newer), (day("2019-02-25"), older)])
    assert merged.city == "Hanoi"
    assert merged.venue == "Metropole Hotel"
    assert merged.status == "ongoing"
    assert merged.start_date == date(2019, 2, 27)
    assert [p.name for p in merged.participants] == ["Donald Trump", "Kim Jong-un"]
    assert merged.participants[1].country == "North Korea"
    # An older report arriving late does not override a newer value.
    late = facts_from_analysis(analysis(status="upcoming"))
    assert merge_facts([(day("2019-02-27"), newer), (day("2019-02-20"), late)]).status == "ongoing"


def test_moved_start_drops_an_end_date_before_it() -> None:
    first = facts_from_analysis(analysis(start="2019-02-27", end="2019-02-28"))
    moved = facts_from_analysis(analysis(start="2019-03-05"))
    merged = merge_facts([(day("2019-02-20"), first), (day("2019-02-22"), moved)])
    assert (merged.start_date, merged.end_date) == (date(2019, 3, 5), None)


def test_key_changes_name_old_and_new_values_only_for_key_facts() -> None:
    old = StoryFacts(
        participants=(Participant("Donald Trump"),), city="Hanoi", start_date=date(2019, 2, 27)
    )
    same = StoryFacts(
        participants=(Participant("Trump"),),
        city="hanoi",
        start_date=date(2019, 2, 27),
        agenda=("trade",),
    )
    assert key_changes(old, same, day("2019-02-26")) == ()
    moved = StoryFacts(
        participants=old.participants, city="Hanoi", venue="Metropole", start_date=date(2019, 3, 1)
    )
    changes = {c.field: (c.old, c.new) for c in key_changes(old, moved, day("2019-02-26"))}
    assert changes == {"venue": (None, "Metropole"), "start_date": ("2019-02-27", "2019-03-01")}


def test_facts_line_reads_who_where_when_status() -> None:
    facts = facts_from_analysis(
        analysis(TRUMP, KIM, city="Hanoi", country="Vietnam", start="2019-02-27", end="2019-02-28")
    )
    assert facts_line(facts) == (
        "Donald Trump (President, United States); Kim Jong-un (Chairman, North Korea) · "
        "Hanoi, Vietnam · 27–28 Feb 2019 · Upcoming"
    )
    assert facts_line(StoryFacts()) == "Facts not known yet"
