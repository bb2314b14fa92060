"""First sentences cut by a real sentence splitter, and headlines counted once."""

from __future__ import annotations

import pytest

from bot.core.text import first_sentence, without_headline


@pytest.mark.parametrize(
    ("text", "first"),
    [
        (
            "U.S. President Donald Trump arrived in Hanoi on Tuesday. He meets Kim next.",
            "U.S. President Donald Trump arrived in Hanoi on Tuesday.",
        ),
        (
            "Mr. Blair and Dr. Rice met at St. Paul's. Talks ended.",
            "Mr. Blair and Dr. Rice met at St. Paul's.",
        ),
        (
            "The statement came from No. 10 on Monday. It was short.",
            "The statement came from No. 10 on Monday.",
        ),
        ("  One   line\nonly  ", "One line only"),
        ("", ""),
    ],
)
def test_first_sentence(text: str, first: str) -> None:
    assert first_sentence(text) == first


def test_the_repeated_headline_is_dropped_once() -> None:
    title = "Leaders to hold summit in Busan"
    assert without_headline(title, f"{title}\nThe leaders will meet.") == "The leaders will meet."
    assert without_headline(title, "The leaders will meet.") == "The leaders will meet."
    assert without_headline("", "Body.") == "Body."
