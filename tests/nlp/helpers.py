"""Builds evidence from short texts of our own, through the real pipeline."""

from __future__ import annotations

from datetime import date

from bot.nlp.detect import Detection, detect
from bot.nlp.extract import Article, gather
from bot.nlp.location import Location
from bot.nlp.pipeline import load_pipeline
from bot.nlp.signals import Evidence


def evidence(title: str, text: str, published: date | None = None) -> tuple[Evidence, Location]:
    nlp = load_pipeline()
    return gather(Article("t", title, text, published), nlp(title), nlp(text))


def detection(title: str, text: str, published: date | None = None) -> Detection:
    return detect(evidence(title, text, published)[0])


def fired(title: str, text: str, published: date | None = None) -> dict[str, float]:
    return {s.name: s.contribution for s in detection(title, text, published).signals}
