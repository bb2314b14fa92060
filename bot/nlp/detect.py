"""Summit detection: signals → score in [0, 1] → verdict, with the reasons behind it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.nlp.signals import BIAS, Evidence, Signal, compute

THRESHOLD = 0.5
REASONS = 3
_QUOTE_CHARS = 160


@dataclass(frozen=True, slots=True)
class Detection:
    """The verdict, its score and the signals it rests on."""

    is_summit: bool
    score: float
    signals: tuple[Signal, ...]

    def reasons(self, limit: int = REASONS) -> list[str]:
        """The strongest signals, each with the sentence it came from."""
        return reasons(self.signals, limit)


def score(signals: Sequence[Signal]) -> float:
    """Logistic score of the signals' summed contributions."""
    z = BIAS + sum(s.contribution for s in signals)
    return round(1.0 / (1.0 + math.exp(-z)), 3)


def detect(ev: Evidence) -> Detection:
    """Compute the signals and decide."""
    signals = tuple(compute(ev))
    p = score(signals)
    return Detection(p >= THRESHOLD, p, signals)


def reasons(signals: Sequence[Signal], limit: int = REASONS) -> list[str]:
    """ "summit_noun +2.5: “…sentence…”" for the ``limit`` signals with the largest effect."""
    ranked = sorted(signals, key=lambda s: abs(s.contribution), reverse=True)[:limit]
    return [f"{s.name} {s.contribution:+.1f}: “{_clip(s.sentence)}”" for s in ranked]


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 1].rstrip() + "…"
