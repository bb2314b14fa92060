"""Builds evidence from short texts of our own, through the real pipeline."""

from __future__ import annotations

from datetime import date

from bot.nlp.extract import Article, FactContext, fact_context
from bot.nlp.extract import evidence as summit_evidence
from bot.nlp.location import Location
from bot.nlp.pipeline import load_pipeline


def evidence(title: str, text: str, published: date | None = None) -> tuple[FactContext, Location]:
    """The facts' shared context of a short story, and the place found in it."""
    nlp = load_pipeline()
    article = Article("t", title, text, published)
    title_doc, doc = nlp(title), nlp(text)
    ctx = fact_context(article, title_doc, doc, summit_evidence(article, title_doc, doc))
    return ctx, ctx.location
