"""Summit understanding: spaCy pipeline, summit detection and the facts of a summit story.

Public names are imported lazily so that the gate can be used without loading spaCy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.nlp.evaluate import EvalReport, evaluate
    from bot.nlp.extract import Analysis, Article, Extractor
    from bot.nlp.pipeline import load_pipeline

__all__ = ["Analysis", "Article", "EvalReport", "Extractor", "evaluate", "load_pipeline"]

_HOMES = {
    "Analysis": "bot.nlp.extract",
    "Article": "bot.nlp.extract",
    "Extractor": "bot.nlp.extract",
    "EvalReport": "bot.nlp.evaluate",
    "evaluate": "bot.nlp.evaluate",
    "load_pipeline": "bot.nlp.pipeline",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'bot.nlp' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
