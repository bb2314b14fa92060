"""Status follows time, a postponement drops stale dates, one batch gives net changes, and
sources count by distinct article."""

from __future__ import annotations

from datetime import date

from bot.core.stories import FactChange, Source, distinct_sources
from bot.stories.facts import aged, facts_from_analysis, facts_line, merge_facts, net_changes
from tests.stories.helpers import KIM, TRUMP, analysis, day

HANOI = analysis(TRUMP, KIM, city="Hanoi", start="2019-02-27", end="2019-02-28")


def test_an_upcoming_summit_whose_dates_passed_reads_ended() -> None:
    facts = facts_from_analysis(HANOI)
    assert aged(facts, date(2019, 2, 27)).status == "upcoming"
    past = aged(facts, date(2019, 3, 5))
    assert past.status == "ended"
    assert facts_line(past).endswith("Ended?")
    assert "Upcoming" not in facts_line(past)


def test_a_concluded_summit_stays_concluded_after_its_dates() -> None:
    done = facts_from_analysis({**HANOI, "status": "concluded"})
    assert aged(done, date(2020, 1, 1)).status == "concluded"


def test_a_late_report_sounding_upcoming_does_not_undo_concluded() -> None:
    merged = merge_facts(
        [
            (day("2019-02-28"), facts_from_analysis({**HANOI, "status": "concluded"})),
            (day("2019-03-01"), facts_from_analysis(HANOI)),
        ]
    )
    assert merged.status == "concluded"


def test_new_dates_after_a_conclusion_are_taken_with_their_status() -> None:
    merged = merge_facts(
        [
            (day("2019-02-28"), facts_from_analysis({**HANOI, "status": "cancelled"})),
            (day("2019-03-01"), facts_from_analysis({**HANOI, "start_date": "2019-04-10"})),
        ]
    )
    assert merged.status == "upcoming"
    assert merged.start_date == date(2019, 4, 10)


def test_postponed_without_new_dates_drops_the_old_dates() -> None:
    merged = merge_facts(
        [
            (day("2019-02-20"), facts_from_analysis(HANOI)),
            (
                day("2019-02-25"),
                facts_from_analysis(analysis(TRUMP, KIM, city="Hanoi", status="postponed")),
            ),
        ]
    )
    assert merged.status == "postponed"
    assert merged.start_date is None
    assert merged.end_date is None
    assert "2019" not in facts_line(merged)


def test_net_changes_keep_first_old_and_last_new_per_fact() -> None:
    at = day("2019-02-25")
    changes = [
        FactChange(at, "status", "upcoming", "ongoing"),
        FactChange(at, "venue", None, "Metropole"),
        FactChange(at, "status", "ongoing", "concluded"),
        FactChange(at, "city", "Hanoi", "Da Nang"),
        FactChange(at, "city", "Da Nang", "Hanoi"),
    ]
    net = net_changes(changes)
    assert [(c.field, c.old, c.new) for c in net] == [
        ("venue", None, "Metropole"),
        ("status", "upcoming", "concluded"),
    ]


def test_one_article_from_two_spellings_of_a_feed_counts_once() -> None:
    at = day("2019-02-25")
    sources = [
        Source(1, "Kim arrives", "https://www.yna.co.kr/view/1/?utm_source=rss#top", "Yonhap", at),
        Source(2, "Kim arrives", "http://yna.co.kr:80/view/1", "Yonhap (copy)", at),
        Source(3, "Kim arrives", "https://yna.co.kr/view/2", "Yonhap", at),
        Source(4, "Trump lands", None, "CNN", at),
        Source(5, "Trump lands", None, "cnn", at),
    ]
    assert [source.item_id for source in distinct_sources(sources)] == [1, 3, 4]
