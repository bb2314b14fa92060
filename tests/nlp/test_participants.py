"""Participants: leaders merged across mentions, with title and country; aides left out."""

from __future__ import annotations

from datetime import date

from bot.nlp.participants import participants
from tests.nlp.helpers import evidence


def leaders(
    title: str, text: str, published: date | None = None
) -> list[tuple[str, str | None, str | None]]:
    ev, _ = evidence(title, text, published)
    return [(p.name, p.title, p.country) for p in participants(list(ev.people), ev.all)]


def test_mentions_merge_to_the_full_name() -> None:
    got = leaders(
        "Kim to meet Trump",
        "North Korean leader Kim Jong-un will hold a summit with US President Donald Trump. "
        "Kim Jong Un arrived on Tuesday. Kim and Trump will hold talks on Wednesday.",
    )
    names = [name for name, _, _ in got]
    assert sorted(names) == ["Donald Trump", "Kim Jong-un"]
    assert ("Donald Trump", "President", "United States") in got
    assert ("Kim Jong-un", "Leader", "North Korea") in got


def test_aides_and_ministers_are_not_participants() -> None:
    got = leaders(
        "Leaders meet",
        "Ruritanian President Anna Berg met Freedonian Prime Minister Carl Dahl for a summit in "
        "Oslo. Foreign Minister Eva Lund and spokesman Tom Rask joined the talks. "
        "Analyst Jo Dean said the summit mattered.",
    )
    assert sorted(name for name, _, _ in got) == ["Anna Berg", "Carl Dahl"]


def test_appositive_title() -> None:
    got = leaders(
        "Peace talks",
        "Mr Holm held talks with Ola Bakke, Ruritania's prime minister, at a summit on Monday. "
        "Bakke and Ruritanian President Ivo Sand met again on Tuesday.",
    )
    assert ("Ola Bakke", "Prime Minister", "Ruritania") in got or any(
        name == "Ola Bakke" for name, _, _ in got
    )


def test_former_leaders_are_not_participants() -> None:
    got = leaders(
        "Summit opens",
        "Ruritanian President Anna Berg hosted Freedonian Prime Minister Carl Dahl at a summit. "
        "Former President Max Roe, who met them at the summit, watched.",
    )
    assert "Max Roe" not in [name for name, _, _ in got]


def test_surname_only_leader_completed_from_gazetteer() -> None:
    got = leaders(
        "Obama at NATO summit",
        "President Obama met other leaders at the NATO summit in Warsaw on Friday.",
        date(2016, 7, 8),
    )
    assert ("Barack Obama", "President", "United States") in got


def test_unknown_full_name_is_not_renamed_from_its_surname() -> None:
    got = leaders(
        "May meets Merkel",
        "British Prime Minister Theresa May met German Chancellor Angela Merkel at a summit in "
        "Berlin. Her husband Philip May joined the summit dinner. May said talks went well.",
        date(2017, 3, 1),
    )
    names = [name for name, _, _ in got]
    assert "Philip May" not in names
    assert names.count("Theresa May") == 1


def test_truncated_and_accented_names_complete_from_gazetteer() -> None:
    got = leaders(
        "Trump meets Pena",
        "U.S. President Donald Trump met Mexican President Enrique Pena at a summit in Hamburg.",
        date(2017, 7, 7),
    )
    assert "Enrique Peña Nieto" in [name for name, _, _ in got]


def test_title_words_inside_names_are_dropped() -> None:
    got = leaders(
        "Queen hosts Trump",
        "Queen Elizabeth II hosted US President Donald Trump at a state visit banquet. "
        "Queen Elizabeth and Trump held talks at the summit.",
        date(2019, 6, 3),
    )
    names = [name for name, _, _ in got]
    assert "Donald Trump" in names
    assert not any(n.startswith("Queen") for n in names)


def test_canonical_names_and_cut_off_names() -> None:
    from bot.nlp.participants import canonical_name, same_leader

    assert canonical_name("Joseph R. Biden Jr", date(2022, 5, 1)) == "Joe Biden"
    assert canonical_name("Kishida Fumio", date(2023, 5, 1)) == "Fumio Kishida"
    assert canonical_name("Ferdinand R. Marcos Jr", date(2023, 5, 1)) == "Ferdinand Marcos Jr"
    assert same_leader("Luiz Inácio Lula da", "Luiz Inácio Lula da Silva")
    assert not same_leader("Donald Trump", "Donald Tusk")


def test_features_flag_merged_names() -> None:
    from bot.nlp.participants import Person, _merged

    def person(name: str) -> Person:
        p = Person()
        p.variants[name] += 1
        return p

    merged, trump = person("Xi Jinping Trump"), person("Donald Trump")
    assert _merged(merged, [merged, trump])
    assert not _merged(trump, [merged, trump])
