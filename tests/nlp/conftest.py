"""Shared NLP fixtures: the project pipeline, loaded once per test session."""

from __future__ import annotations

import pytest
from spacy.language import Language

from bot.nlp.pipeline import load_pipeline


@pytest.fixture(scope="session")
def nlp() -> Language:
    """The process-wide pipeline the extractor uses."""
    return load_pipeline()
